package v1alpha1

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// jsonKeys lists the json names of t's fields whose type has kind k.
func jsonKeys(t reflect.Type, k reflect.Kind) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type.Kind() == k && name != "" {
			keys = append(keys, name)
		}
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
	specType := reflect.TypeFor[EventSourceSpec]()
	for i := range specType.NumField() {
		f := specType.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type.Kind() != reflect.Map {
			continue
		}
		var spec EventSourceSpec
		m := reflect.MakeMap(f.Type)
		m.SetMapIndex(reflect.ValueOf("e"), reflect.New(f.Type.Elem()).Elem())
		reflect.ValueOf(&spec).Elem().Field(i).Set(m)
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
	tmplType := reflect.TypeFor[TriggerTemplate]()
	for i := range tmplType.NumField() {
		f := tmplType.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type.Kind() != reflect.Pointer {
			continue
		}
		var tmpl TriggerTemplate
		reflect.ValueOf(&tmpl).Elem().Field(i).Set(reflect.New(f.Type.Elem()))
		if got := tmpl.TypeKey(); got != key {
			t.Errorf("template with %s set: TypeKey() = %q", key, got)
		}
	}
}
