package registry

import "knative.dev/pkg/apis"

// NotRunnable reports valid Argo Events YAML that this build cannot run yet:
// a source kind, an operation or an option a registered type does not
// implement. It is a warning-level field error at paths, so `flint validate`
// prints it as a warning and exits 0, while `flint dev` and `flint compile`,
// which need to run the object, refuse it with the same words.
func NotRunnable(reason string, paths ...string) *apis.FieldError {
	return apis.ErrGeneric("not runnable yet: "+reason, paths...).At(apis.WarningLevel)
}
