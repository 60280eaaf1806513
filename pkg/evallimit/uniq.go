package evallimit

import (
	"fmt"
	"reflect"
)

// maxUniqCompared bounds the lists and maps uniq compares one by one.
const maxUniqCompared = 5000

// uniq is sprig's uniq and mustUniq in linear time: sprig's compares each
// element with every one kept before it, so `uniq (until 100000)` runs for
// minutes and cannot be stopped. Elements that can be map keys are kept in a
// set; lists and maps, which cannot, are compared one by one as sprig does,
// at most maxUniqCompared of them.
func uniq(list any) ([]any, error) {
	rv := reflect.ValueOf(list)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("Cannot find uniq on type %s", rv.Kind()) //nolint:staticcheck // sprig's message
	}
	out := []any{}
	seen := map[any]bool{}
	var compared []any
	for i := range rv.Len() {
		item := rv.Index(i).Interface()
		if iv := reflect.ValueOf(item); iv.IsValid() && iv.Comparable() {
			if !seen[item] {
				seen[item] = true
				out = append(out, item)
			}
			continue
		}
		dup := false
		for _, c := range compared {
			if reflect.DeepEqual(c, item) {
				dup = true
				break
			}
		}
		if !dup {
			if len(compared) == maxUniqCompared {
				return nil, fmt.Errorf("uniq: more than %d lists or maps to compare", maxUniqCompared)
			}
			compared = append(compared, item)
			out = append(out, item)
		}
	}
	return out, nil
}
