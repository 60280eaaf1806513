package lambdatest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flintevents/flint/triggers/awslambda/lambdatest"
)

// post sends body to path on s without AWS signing, as a plain client would.
func post(t *testing.T, s *lambdatest.Server, path string, header http.Header, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(out)
}

func TestServer(t *testing.T) {
	t.Parallel()
	s := lambdatest.Start(t)
	s.Script("failing", lambdatest.Answer{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"boom"}`)})
	auth := http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIAX/20260102/eu-west-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"}}
	tests := []struct {
		name       string
		path       string
		header     http.Header
		body       []byte
		wantStatus int
		wantBody   string
		wantHeader [2]string
	}{
		{"echo", "/2015-03-31/functions/echo/invocations", auth, []byte(`{"a":1}`), http.StatusOK, `{"a":1}`, [2]string{}},
		{"event", "/2015-03-31/functions/echo/invocations", http.Header{"X-Amz-Invocation-Type": {"Event"}}, []byte(`{}`),
			http.StatusAccepted, "", [2]string{}},
		{"function error", "/2015-03-31/functions/failing/invocations", nil, []byte(`{}`), http.StatusOK,
			`{"errorMessage":"boom"}`, [2]string{"X-Amz-Function-Error", "Unhandled"}},
		{"too large", "/2015-03-31/functions/big/invocations", nil, bytes.Repeat([]byte("x"), lambdatest.MaxPayload+1),
			http.StatusRequestEntityTooLarge, "", [2]string{"X-Amzn-ErrorType", "RequestTooLargeException"}},
		{"sts without AssumeRole", "/", nil, []byte("Action=GetCallerIdentity"), http.StatusBadRequest, "", [2]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, header, body := post(t, s, tc.path, tc.header, tc.body)
			if status != tc.wantStatus || (tc.wantBody != "" && body != tc.wantBody) {
				t.Errorf("answer = %d %q, want %d %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if k := tc.wantHeader[0]; k != "" && header.Get(k) != tc.wantHeader[1] {
				t.Errorf("header %s = %q, want %q", k, header.Get(k), tc.wantHeader[1])
			}
		})
	}
	got := s.InvocationsOf("echo")
	if len(got) != 2 || got[0].AccessKeyID != "AKIAX" || got[0].Region != "eu-west-1" || got[0].Service != "lambda" ||
		got[1].InvocationType != "Event" || got[1].AccessKeyID != "" {
		t.Fatalf("echo invocations = %+v", got)
	}
	if n := len(s.InvocationsOf("big")); n != 0 {
		t.Fatalf("an oversized request was recorded %d times", n)
	}
	// A key id the server knows is checked: this signature is not the key's.
	s.Credentials("AKIAX", "secret")
	status, _, body := post(t, s, "/2015-03-31/functions/echo/invocations",
		http.Header{"Authorization": auth["Authorization"], "X-Amz-Date": {"20260102T030405Z"}}, []byte(`{}`))
	if status != http.StatusForbidden || !strings.Contains(body, "signature does not match") {
		t.Fatalf("forged request = %d %s, want 403 naming the signature", status, body)
	}
}
