package sensor

import (
	"errors"
	"testing"
)

func TestAtField(t *testing.T) {
	t.Parallel()
	errA, errB := errors.New("a"), errors.New("b")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", atField("spec", errA), "spec: a"},
		{"nested", atField("spec", atField("dependencies", atField("[0]", atField("name", errA)))), "spec.dependencies[0].name: a"},
		{"joined", atField("spec", errors.Join(atField("x", errA), atField("y", errB))), "spec.x: a\nspec.y: b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.err.Error() != tc.want {
				t.Errorf("error = %q, want %q", tc.err, tc.want)
			}
			if !errors.Is(tc.err, errA) {
				t.Errorf("%v does not wrap errA", tc.err)
			}
		})
	}
	if atField("x", nil) != nil {
		t.Error("atField(nil) != nil")
	}
}

func TestJoinErrors(t *testing.T) {
	t.Parallel()
	errA, errB := errors.New("a"), ErrPathNotFound
	tests := []struct {
		name string
		errs []error
		want string
	}{
		{"none", nil, ""},
		{"one", []error{errA}, "a"},
		{"several are joined like Argo's", []error{errA, errB}, "a / path does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := joinErrors(tc.errs)
			if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
				t.Errorf("joinErrors = %v, want %q", err, tc.want)
			}
			for _, e := range tc.errs {
				if !errors.Is(err, e) {
					t.Errorf("%v does not wrap %v", err, e)
				}
			}
		})
	}
}

func TestOneLineError(t *testing.T) {
	t.Parallel()
	inner := errors.New("message (1:3)\n | a ==\n | ..^")
	err := oneLineError{inner}
	if err.Error() != "message (1:3)" || !errors.Is(err, inner) {
		t.Errorf("oneLineError = %q", err)
	}
}
