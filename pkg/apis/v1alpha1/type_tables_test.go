package v1alpha1

import (
	"iter"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// keyFields yields the json name and the field of each of t's fields whose
// type has kind k.
func keyFields(t reflect.Type, k reflect.Kind) iter.Seq2[string, reflect.StructField] {
	return func(yield func(string, reflect.StructField) bool) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type.Kind() == k && name != "" && !yield(name, f) {
				return
			}
		}
	}
}

// jsonKeys lists the json names of t's fields whose type has kind k, sorted.
func jsonKeys(t reflect.Type, k reflect.Kind) []string {
	var keys []string
	for name := range keyFields(t, k) {
		keys = append(keys, name)
	}
	slices.Sort(keys)
	return keys
}

// TestTypeTablesCoverEveryKey holds the type tables to the API: every map of
// EventSourceSpec and every trigger pointer of TriggerTemplate has its row,
// and a row reaches the field under its own key.
func TestTypeTablesCoverEveryKey(t *testing.T) {
	t.Parallel()
	if got, want := EventSourceTypeKeys(), jsonKeys(reflect.TypeFor[EventSourceSpec](), reflect.Map); !slices.Equal(got, want) {
		t.Errorf("EventSource type table keys =\n  %v\nspec map fields =\n  %v", got, want)
	}
	if got, want := TriggerTypeKeys(), jsonKeys(reflect.TypeFor[TriggerTemplate](), reflect.Pointer); !slices.Equal(got, want) {
		t.Errorf("trigger type table keys =\n  %v\ntemplate pointer fields =\n  %v", got, want)
	}
	// A spec with one entry under a key reports exactly that key.
	for key, f := range keyFields(reflect.TypeFor[EventSourceSpec](), reflect.Map) {
		var spec EventSourceSpec
		m := reflect.MakeMap(f.Type)
		m.SetMapIndex(reflect.ValueOf("e"), reflect.New(f.Type.Elem()).Elem())
		reflect.ValueOf(&spec).Elem().FieldByIndex(f.Index).Set(m)
		if got := spec.TypeKeys(); !slices.Equal(got, []string{key}) {
			t.Errorf("spec with %s set: TypeKeys() = %v", key, got)
		}
		if got := spec.TypeOf("e"); got != key {
			t.Errorf("spec with %s set: TypeOf(e) = %q", key, got)
		}
		if got := spec.EventNames(key); !slices.Equal(got, []string{"e"}) {
			t.Errorf("spec with %s set: EventNames(%s) = %v", key, key, got)
		}
		if got := spec.EventNames(key + "x"); got != nil {
			t.Errorf("spec with %s set: EventNames(%sx) = %v, want none", key, key, got)
		}
	}
	for key, f := range keyFields(reflect.TypeFor[TriggerTemplate](), reflect.Pointer) {
		var tmpl TriggerTemplate
		reflect.ValueOf(&tmpl).Elem().FieldByIndex(f.Index).Set(reflect.New(f.Type.Elem()))
		if got := tmpl.TypeKey(); got != key {
			t.Errorf("template with %s set: TypeKey() = %q", key, got)
		}
	}
}
