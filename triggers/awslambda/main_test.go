package awslambda_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/triggers/awslambda/lambdatest"
)

// The AWS SDK reads its endpoint and default credentials from the process
// environment when a client is built, so every test of the package shares
// one Lambda stand-in, set up here; tests tell their invocations apart by
// function name and run in parallel.
var lambda *lambdatest.Server

const (
	// keyID and secretKey are the credentials the secrets below hold.
	keyID     = "AKIAFLINTTEST"
	secretKey = "flint-secret-key"
	// chainKeyID is the key id of the SDK's default chain (the environment).
	chainKeyID = "AKIAFROMENVIRONMENT"
	// staleKeyID is known to the stand-in with another secret than the one
	// the secrets hold: its requests fail the signature check.
	staleKeyID = "AKIASTALE"
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	lambda = lambdatest.New()
	defer lambda.Close()
	lambda.Credentials(keyID, secretKey)
	lambda.Credentials(chainKeyID, "chain-secret")
	lambda.Credentials(staleKeyID, "the-current-secret")

	dir, err := os.MkdirTemp("", "awslambda-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		_ = os.Unsetenv(k)
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_LAMBDA":     lambda.URL,
		"AWS_ENDPOINT_URL_STS":        lambda.URL,
		"AWS_ACCESS_KEY_ID":           chainKeyID,
		"AWS_SECRET_ACCESS_KEY":       "chain-secret",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

// testSecrets holds the credentials the specs refer to.
var testSecrets = secret.Local{Getenv: func(k string) (string, bool) {
	v, ok := map[string]string{
		secret.EnvName("aws-secret", "accesskey"): keyID,
		secret.EnvName("aws-secret", "secretkey"): secretKey,
		secret.EnvName("stale", "accesskey"):      staleKeyID,
		secret.EnvName("stale", "secretkey"):      "an-old-secret",
		secret.EnvName("empty", "accesskey"):      "",
	}[k]
	return v, ok
}}

func ref(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}
