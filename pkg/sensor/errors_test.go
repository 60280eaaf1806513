package sensor

import (
	"errors"
	"testing"
)

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
