package controller

import (
	"strings"
	"testing"

	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"
)

// TestResolveURI covers destinations given without a ref; refs are resolved against a
// real API server in controller_test.go.
func TestResolveURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dest    pkgduckv1.Destination
		want    string
		wantErr string
	}{
		{name: "absolute", dest: pkgduckv1.Destination{URI: mustURL(t, "https://sensor.example/in?x=1")}, want: "https://sensor.example/in?x=1"},
		{name: "relative", dest: pkgduckv1.Destination{URI: &apis.URL{Path: "/in"}}, wantErr: "not absolute"},
		{name: "no host", dest: pkgduckv1.Destination{URI: &apis.URL{Scheme: "http", Path: "/in"}}, wantErr: "not absolute"},
		{name: "nothing", dest: pkgduckv1.Destination{}, wantErr: "neither ref nor uri"},
		{name: "ref without a cluster", dest: pkgduckv1.Destination{Ref: &pkgduckv1.KReference{APIVersion: "v1", Kind: "Service", Name: "s"}}, wantErr: "no cluster client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &destinationResolver{}
			got, err := r.URI(t.Context(), tc.dest, owner{kind: kindTrigger, key: "team-a/t"}, "team-a")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("URI = %v, %v; want an error saying %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("URI = %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *apis.URL {
	t.Helper()
	u, err := apis.ParseURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
