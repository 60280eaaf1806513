package registry

import (
	"runtime"
	"strings"
)

// CallerPackage is the import path of the package of the function skip
// frames above the caller of CallerPackage: called from a Register that a
// type package's init calls, CallerPackage(1) names that type package,
// which a program imports to link the type. It is "" when the stack does
// not say.
func CallerPackage(skip int) string {
	pc, _, _, ok := runtime.Caller(skip + 1)
	if !ok {
		return ""
	}
	fn := runtime.FuncForPC(pc)
	if fn == nil {
		return ""
	}
	return packageOf(fn.Name())
}

// packageOf is the import path of a function's full name, such as
// "github.com/flintevents/flint/triggers/http.init.0"; "" when it names none.
func packageOf(name string) string {
	slash := strings.LastIndex(name, "/")
	dot := strings.Index(name[slash+1:], ".")
	if dot < 0 {
		return ""
	}
	return name[:slash+1+dot]
}
