package secret

import (
	"context"
	"errors"
	"testing"
)

// TestValue: each way a reference gives no value is an error at its path
// that names the secret and wraps the cause.
func TestValue(t *testing.T) {
	t.Parallel()
	env := map[string]string{"FLINT_SECRET_GH_TOKEN": "t0ken", "FLINT_SECRET_GH_EMPTY": ""}
	l := Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	yes := true
	optional := ref("gh", "absent")
	optional.Optional = &yes
	const path = "spec.github[push].apiToken"
	tests := []struct {
		name    string
		r       Resolver
		want    string
		wantErr string
		wantIs  error
	}{
		{name: "value", r: l, want: "t0ken"},
		{name: "missing", r: l, wantErr: path + ": resolving secret: secret gh key nope (set FLINT_SECRET_GH_NOPE): secret not found", wantIs: ErrNotFound},
		{name: "empty", r: l, wantErr: path + ": the secret is empty (secret gh key empty)", wantIs: ErrEmpty},
		{name: "optional absent", r: l, wantErr: path + ": the secret is empty (secret gh key absent)", wantIs: ErrEmpty},
		{name: "no resolver", r: nil, wantErr: path + ": no secret resolver configured", wantIs: ErrNoResolver},
		{name: "no reference", r: l, wantErr: path + ": missing secret reference"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := ref("gh", "token")
			switch tc.name {
			case "missing":
				r = ref("gh", "nope")
			case "empty":
				r = ref("gh", "empty")
			case "optional absent":
				r = optional
			case "no reference":
				r = nil
			}
			got, err := Value(context.Background(), tc.r, r, path)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Value = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Path != path {
				t.Fatalf("err %T does not carry the path", err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Fatalf("err = %v, want it to wrap %v", err, tc.wantIs)
			}
		})
	}
}
