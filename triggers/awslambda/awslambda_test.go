package awslambda_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/awslambda"
	"github.com/flintevents/flint/triggers/awslambda/lambdatest"
	"github.com/flintevents/flint/triggers/triggertest"
)

func strp(s string) *string { return &s }

// spec is a trigger spec for function with the test secrets.
func spec(function string) *v1alpha1.AWSLambdaTrigger {
	return &v1alpha1.AWSLambdaTrigger{FunctionName: function, Region: "us-east-1",
		AccessKey: ref("aws-secret", "accesskey"), SecretKey: ref("aws-secret", "secretkey")}
}

// fire builds a trigger for s and fires it once with payload.
func fire(t *testing.T, ctx context.Context, s *v1alpha1.AWSLambdaTrigger, deps triggers.Deps, payload string) (triggers.Result, error) {
	t.Helper()
	if deps.Secrets == nil {
		deps.Secrets = testSecrets
	}
	tr, err := awslambda.New(s, deps)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { _ = tr.(io.Closer).Close() })
	return tr.Fire(ctx, s, triggers.Firing{Sensor: "s", Trigger: "t", Payload: []byte(payload)})
}

// only returns the one invocation of function.
func only(t *testing.T, function string) lambdatest.Invocation {
	t.Helper()
	got := lambda.InvocationsOf(function)
	if len(got) != 1 {
		t.Fatalf("%s was invoked %d times, want once", function, len(got))
	}
	return got[0]
}

func TestConformance(t *testing.T) {
	t.Parallel()
	lambda.Script("conform-block", lambdatest.Answer{Block: true})
	triggertest.Run(t, triggertest.Case{
		Key: v1alpha1.TriggerTypeAWSLambda,
		Spec: `
functionName: conform
region: eu-west-1
accessKey: {name: aws-secret, key: accesskey}
secretKey: {name: aws-secret, key: secretkey}
payload:
  - src: {dependencyName: dep, dataKey: body.name}
    dest: name
`,
		BadSpec: `
functionName: conform
region: eu-west-1
accessKey: {name: nope, key: accesskey}
secretKey: {name: aws-secret, key: secretkey}
`,
		BadPath: "accessKey",
		Deps:    triggers.Deps{Secrets: testSecrets},
		Firing:  triggers.Firing{Sensor: "s", Trigger: "call", Payload: []byte(`{"name":"flint"}`), IdempotencyKey: "s/call/dep:e1"},
		Check: func(t *testing.T, res triggers.Result, err error) {
			if err != nil || res.StatusCode != http.StatusOK || string(res.Body) != `{"name":"flint"}` {
				t.Fatalf("Fire = %d %q %v, want 200 with the echoed payload", res.StatusCode, res.Body, err)
			}
			in := only(t, "conform")
			if string(in.Payload) != `{"name":"flint"}` || in.AccessKeyID != keyID || in.Region != "eu-west-1" || in.Service != "lambda" {
				t.Errorf("invocation = %+v, want the payload signed by %s for lambda in eu-west-1", in, keyID)
			}
		},
		Blocking: `
functionName: conform-block
region: eu-west-1
accessKey: {name: aws-secret, key: accesskey}
secretKey: {name: aws-secret, key: secretkey}
`,
	})
}

func TestFire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answer     *lambdatest.Answer
		spec       func(s *v1alpha1.AWSLambdaTrigger)
		payload    string
		wantStatus int
		wantBody   string
		wantErr    string // substring of the error; "" for success
		wantType   string // X-Amz-Invocation-Type the function saw
		wantKeyID  string
	}{
		{
			name:       "request response by default",
			answer:     &lambdatest.Answer{Payload: []byte(`{"greeting":"hello flint"}`)},
			payload:    `{"name":"flint"}`,
			wantStatus: http.StatusOK, wantBody: `{"greeting":"hello flint"}`, wantKeyID: keyID,
		},
		{
			name:       "explicit RequestResponse",
			spec:       func(s *v1alpha1.AWSLambdaTrigger) { s.InvocationType = strp("RequestResponse") },
			payload:    `{}`,
			wantStatus: http.StatusOK, wantBody: `{}`, wantType: "RequestResponse", wantKeyID: keyID,
		},
		{
			name:       "Event",
			spec:       func(s *v1alpha1.AWSLambdaTrigger) { s.InvocationType = strp("Event") },
			payload:    `{"async":true}`,
			wantStatus: http.StatusAccepted, wantType: "Event", wantKeyID: keyID,
		},
		{
			name:       "DryRun",
			spec:       func(s *v1alpha1.AWSLambdaTrigger) { s.InvocationType = strp("DryRun") },
			payload:    `{}`,
			wantStatus: http.StatusNoContent, wantType: "DryRun", wantKeyID: keyID,
		},
		{
			name:    "default credential chain without secrets",
			spec:    func(s *v1alpha1.AWSLambdaTrigger) { s.AccessKey, s.SecretKey = nil, nil },
			payload: `{"from":"env"}`, wantStatus: http.StatusOK, wantBody: `{"from":"env"}`, wantKeyID: chainKeyID,
		},
		{
			name:       "a 500 fails",
			answer:     &lambdatest.Answer{Status: http.StatusInternalServerError},
			payload:    `{}`,
			wantStatus: http.StatusInternalServerError, wantErr: "ServiceException", wantKeyID: keyID,
		},
		{
			name:       "an unknown function fails",
			answer:     &lambdatest.Answer{Status: http.StatusNotFound, ErrorType: "ResourceNotFoundException"},
			payload:    `{}`,
			wantStatus: http.StatusNotFound, wantErr: "ResourceNotFoundException", wantKeyID: keyID,
		},
		{
			name: "a function error fails and names the function and the error",
			answer: &lambdatest.Answer{FunctionError: "Unhandled",
				Payload: []byte(`{"errorType":"KeyError","errorMessage":"'name'"}`)},
			payload:    `{}`,
			wantStatus: http.StatusOK, wantBody: `{"errorType":"KeyError","errorMessage":"'name'"}`,
			wantErr: "(Unhandled): KeyError: 'name'", wantKeyID: keyID,
		},
		{
			name: "a wrong secret key fails the signature check",
			spec: func(s *v1alpha1.AWSLambdaTrigger) {
				s.AccessKey, s.SecretKey = ref("stale", "accesskey"), ref("stale", "secretkey")
			},
			payload:    `{}`,
			wantStatus: http.StatusForbidden, wantErr: "InvalidSignatureException", wantKeyID: "",
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			function := fmt.Sprintf("fire-%d", i)
			if tc.answer != nil {
				lambda.Script(function, *tc.answer)
			}
			s := spec(function)
			if tc.spec != nil {
				tc.spec(s)
			}
			res, err := fire(t, context.Background(), s, triggers.Deps{}, tc.payload)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Fire = %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), function)) {
				t.Fatalf("Fire = %v, want an error naming %s and %q", err, function, tc.wantErr)
			}
			if res.StatusCode != tc.wantStatus || string(res.Body) != tc.wantBody {
				t.Errorf("Result = %d %q, want %d %q", res.StatusCode, res.Body, tc.wantStatus, tc.wantBody)
			}
			if tc.wantKeyID == "" {
				if n := len(lambda.InvocationsOf(function)); n != 0 {
					t.Errorf("function ran %d times with a request whose signature is wrong", n)
				}
				return
			}
			in := only(t, function)
			if string(in.Payload) != tc.payload || in.InvocationType != tc.wantType || in.AccessKeyID != tc.wantKeyID {
				t.Errorf("invocation = payload %s, type %q, key %q; want %s, %q, %q",
					in.Payload, in.InvocationType, in.AccessKeyID, tc.payload, tc.wantType, tc.wantKeyID)
			}
		})
	}
}

func TestFireFunctionErrorIsErrFunction(t *testing.T) {
	t.Parallel()
	lambda.Script("handled", lambdatest.Answer{FunctionError: "Handled", Payload: []byte(`"nope"`)})
	_, err := fire(t, context.Background(), spec("handled"), triggers.Deps{}, `{}`)
	if !errors.Is(err, awslambda.ErrFunction) {
		t.Fatalf("Fire = %v, want ErrFunction", err)
	}
}

func TestFireAssumesRole(t *testing.T) {
	t.Parallel()
	const role = "arn:aws:iam::123456789012:role/flint-invoker"
	s := spec("assumed")
	s.RoleARN = role
	tr, err := awslambda.New(s, triggers.Deps{Secrets: testSecrets})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { _ = tr.(io.Closer).Close() })
	for range 2 {
		if _, err := tr.Fire(context.Background(), s, triggers.Firing{Payload: []byte(`{}`)}); err != nil {
			t.Fatalf("Fire = %v", err)
		}
	}
	var calls []lambdatest.AssumedRole
	for _, a := range lambda.AssumedRoles() {
		if a.RoleARN == role {
			calls = append(calls, a)
		}
	}
	if len(calls) != 1 || calls[0].AccessKeyID != keyID || calls[0].SessionName != awslambda.SessionName {
		t.Fatalf("AssumeRole calls = %+v, want one signed by %s with session %s (credentials cached)", calls, keyID, awslambda.SessionName)
	}
	got := lambda.InvocationsOf("assumed")
	if len(got) != 2 {
		t.Fatalf("assumed was invoked %d times, want 2", len(got))
	}
	for _, in := range got {
		if in.AccessKeyID != lambdatest.AssumedKeyID(role) || in.SessionToken == "" {
			t.Errorf("invocation signed by %q (token %q), want the role's key %s with a session token",
				in.AccessKeyID, in.SessionToken, lambdatest.AssumedKeyID(role))
		}
	}
}

func TestFireParametersChangeRegionAndCredentials(t *testing.T) {
	t.Parallel()
	base := spec("moving")
	tr, err := awslambda.New(base, triggers.Deps{Secrets: testSecrets})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { _ = tr.(io.Closer).Close() })
	var want []string
	// More combinations than the trigger keeps clients for, and back to the first.
	for i := range awslambda.MaxClients + 3 {
		s := *base
		s.Region = fmt.Sprintf("region-%d", i%(awslambda.MaxClients+2))
		if i%2 == 1 {
			s.AccessKey, s.SecretKey = nil, nil
		}
		if _, err := tr.Fire(context.Background(), &s, triggers.Firing{Payload: []byte(`{}`)}); err != nil {
			t.Fatalf("Fire %d = %v", i, err)
		}
		key := keyID
		if i%2 == 1 {
			key = chainKeyID
		}
		want = append(want, s.Region+"/"+key)
	}
	got := lambda.InvocationsOf("moving")
	if len(got) != len(want) {
		t.Fatalf("moving was invoked %d times, want %d", len(got), len(want))
	}
	for i, in := range got {
		if g := in.Region + "/" + in.AccessKeyID; g != want[i] {
			t.Errorf("invocation %d signed for %s, want %s", i, g, want[i])
		}
	}

	bad := *base
	bad.Region = "elsewhere"
	bad.AccessKey = ref("nope", "accesskey")
	_, err = tr.Fire(context.Background(), &bad, triggers.Firing{})
	if err == nil || !strings.Contains(err.Error(), "awsLambda.accessKey") {
		t.Fatalf("Fire with an unknown secret = %v, want an error at awsLambda.accessKey", err)
	}
}

func TestNewProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spec  func(s *v1alpha1.AWSLambdaTrigger)
		paths []string
	}{
		{"no function", func(s *v1alpha1.AWSLambdaTrigger) { s.FunctionName = "" }, []string{"functionName"}},
		{"no region", func(s *v1alpha1.AWSLambdaTrigger) { s.Region = "" }, []string{"region"}},
		{"access key without secret key", func(s *v1alpha1.AWSLambdaTrigger) { s.SecretKey = nil }, []string{"secretKey"}},
		{"secret key without access key", func(s *v1alpha1.AWSLambdaTrigger) { s.AccessKey = nil }, []string{"accessKey"}},
		{"unknown invocation type", func(s *v1alpha1.AWSLambdaTrigger) { s.InvocationType = strp("Later") }, []string{"invocationType"}},
		{"missing secret", func(s *v1alpha1.AWSLambdaTrigger) { s.AccessKey = ref("nope", "accesskey") }, []string{"accessKey"}},
		{"empty secret", func(s *v1alpha1.AWSLambdaTrigger) { s.AccessKey = ref("empty", "accesskey") }, []string{"accessKey"}},
		{"missing secret key secret", func(s *v1alpha1.AWSLambdaTrigger) { s.SecretKey = ref("aws-secret", "nope") }, []string{"secretKey"}},
		{"all at once", func(s *v1alpha1.AWSLambdaTrigger) {
			s.FunctionName, s.Region, s.SecretKey = "", "", nil
		}, []string{"functionName", "region", "secretKey"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := spec("never")
			tc.spec(s)
			_, err := awslambda.New(s, triggers.Deps{Secrets: testSecrets})
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("New = %v (%T), want an *apis.FieldError", err, err)
			}
			var paths []string
			for _, e := range fe.WrappedErrors() {
				paths = append(paths, e.Paths...)
			}
			if strings.Join(paths, ",") != strings.Join(tc.paths, ",") {
				t.Fatalf("New problems at %v (%v), want %v", paths, fe, tc.paths)
			}
		})
	}
	if n := len(lambda.InvocationsOf("never")); n != 0 {
		t.Fatalf("a refused spec invoked its function %d times", n)
	}
}

func TestFireLogsNoSecrets(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.DebugLevel)
	lambda.Script("logged", lambdatest.Answer{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"boom"}`)})
	_, err := fire(t, context.Background(), spec("logged"), triggers.Deps{Logger: zap.New(core)}, `{"name":"flint"}`)
	if err == nil {
		t.Fatal("Fire succeeded for a failing function")
	}
	entries := logs.All()
	if len(entries) == 0 {
		t.Fatal("no debug log of the invocation")
	}
	for _, e := range entries {
		line := fmt.Sprint(e.Message, e.ContextMap())
		if strings.Contains(line, secretKey) || strings.Contains(line, keyID) {
			t.Errorf("log %q shows a credential", line)
		}
		if e.ContextMap()["function"] != "logged" || e.ContextMap()["functionError"] != "Unhandled" {
			t.Errorf("log %v does not name the function and its error", e.ContextMap())
		}
	}
	if strings.Contains(err.Error(), secretKey) {
		t.Errorf("error %q shows the secret key", err)
	}
}

func BenchmarkFire(b *testing.B) {
	s := spec("bench")
	tr, err := awslambda.New(s, triggers.Deps{Secrets: testSecrets})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.(io.Closer).Close() })
	lambda.Script("bench", lambdatest.Answer{Payload: []byte(`{"ok":true}`)})
	in := triggers.Firing{Sensor: "s", Trigger: "call", Payload: []byte(`{"name":"my-pod"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := tr.Fire(context.Background(), s, in); err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("Fire = %d %v", res.StatusCode, err)
		}
	}
}
