package awsconn_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/conn/awsconn"
	"github.com/flintevents/flint/pkg/secret"
)

func ref(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

// isolate keeps the machine's AWS settings out of a test.
func isolate(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestLoad: what a spec resolves to, with no AWS call.
func TestLoad(t *testing.T) {
	isolate(t)
	values := map[string]string{
		secret.EnvName("aws", "id"): "AKIDEXAMPLE", secret.EnvName("aws", "secret"): "wJalr", secret.EnvName("aws", "token"): "tok",
		secret.EnvName("aws", "empty"): "",
	}
	secrets := secret.Local{Getenv: func(k string) (string, bool) { v, ok := values[k]; return v, ok }}
	tests := []struct {
		name               string
		spec               awsconn.Spec
		wantKeyID, wantTok string
		wantEndpoint       string
		wantRole           bool
		wantErr            string
	}{
		{name: "static keys", spec: awsconn.Spec{Region: "eu-west-1", AccessKey: ref("aws", "id"), SecretKey: ref("aws", "secret")}, wantKeyID: "AKIDEXAMPLE"},
		{name: "session token", spec: awsconn.Spec{Region: "eu-west-1", AccessKey: ref("aws", "id"), SecretKey: ref("aws", "secret"), SessionToken: ref("aws", "token")}, wantKeyID: "AKIDEXAMPLE", wantTok: "tok"},
		{name: "endpoint", spec: awsconn.Spec{Region: "us-east-1", AccessKey: ref("aws", "id"), SecretKey: ref("aws", "secret"), Endpoint: "http://127.0.0.1:4566"}, wantKeyID: "AKIDEXAMPLE", wantEndpoint: "http://127.0.0.1:4566"},
		{name: "role", spec: awsconn.Spec{Region: "us-east-1", AccessKey: ref("aws", "id"), SecretKey: ref("aws", "secret"), RoleARN: "arn:aws:iam::123456789012:role/r"}, wantRole: true},
		{name: "no region", spec: awsconn.Spec{}, wantErr: "missing field(s): region"},
		{name: "access key alone", spec: awsconn.Spec{Region: "r", AccessKey: ref("aws", "id")}, wantErr: "missing field(s): secretKey"},
		{name: "secret key alone", spec: awsconn.Spec{Region: "r", SecretKey: ref("aws", "secret")}, wantErr: "missing field(s): accessKey"},
		{name: "token without keys", spec: awsconn.Spec{Region: "r", SessionToken: ref("aws", "token")}, wantErr: "sessionToken"},
		{name: "missing secret", spec: awsconn.Spec{Region: "r", AccessKey: ref("aws", "nope"), SecretKey: ref("aws", "secret")}, wantErr: "secret aws key nope (set FLINT_SECRET_AWS_NOPE): secret not found: accessKey"},
		{name: "empty secret", spec: awsconn.Spec{Region: "r", AccessKey: ref("aws", "id"), SecretKey: ref("aws", "empty")}, wantErr: "the secret is empty (secret aws key empty): secretKey"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := awsconn.Load(context.Background(), tc.spec, secrets)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "wJalr") {
					t.Fatalf("error quotes the secret key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tc.spec.Region {
				t.Fatalf("region %q, want %q", cfg.Region, tc.spec.Region)
			}
			if got := aws.ToString(cfg.BaseEndpoint); got != tc.wantEndpoint {
				t.Fatalf("endpoint %q, want %q", got, tc.wantEndpoint)
			}
			if _, ok := cfg.Retryer().(aws.NopRetryer); !ok {
				t.Fatalf("retryer %T, want none", cfg.Retryer())
			}
			cache, ok := cfg.Credentials.(*aws.CredentialsCache)
			isRole := ok && cache.IsCredentialsProvider(&stscreds.AssumeRoleProvider{})
			if isRole != tc.wantRole {
				t.Fatalf("assume-role provider = %v, want %v (%T)", isRole, tc.wantRole, cfg.Credentials)
			}
			if tc.wantRole {
				return
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != tc.wantKeyID || creds.SecretAccessKey != "wJalr" || creds.SessionToken != tc.wantTok {
				t.Fatalf("credentials %q/%q/%q", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
			}
		})
	}
}

// TestFinishHTTPClient: the caller's HTTP client carries the service's calls.
func TestFinishHTTPClient(t *testing.T) {
	isolate(t)
	spec := awsconn.Spec{Region: "us-east-1", RoleARN: "arn:aws:iam::123456789012:role/r"}
	base, err := awsconn.LoadBase(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if base.BaseEndpoint != nil {
		t.Fatalf("LoadBase set the endpoint")
	}
	client := &http.Client{}
	cfg := awsconn.Finish(base, spec, client)
	if cfg.HTTPClient != client {
		t.Fatalf("HTTP client %T, want the caller's", cfg.HTTPClient)
	}
	if cache, ok := cfg.Credentials.(*aws.CredentialsCache); !ok || !cache.IsCredentialsProvider(&stscreds.AssumeRoleProvider{}) {
		t.Fatalf("credentials %T, want the role's", cfg.Credentials)
	}
}
