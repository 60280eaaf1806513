package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
)

// hostileSecret is the webhookSecret of the github entry of githubYAML.
const hostileSecret = "It's a Secret to Everybody"

// githubYAML is a github entry on port checking the webhookSecret
// github-access/secret, and a sensor posting the delivery id of each event to
// url.
func githubYAML(port int, url string) map[string]string {
	return map[string]string{
		"eventsource.yaml": fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: gh
spec:
  github:
    push:
      organizations: [flintevents]
      webhook:
        port: "%d"
        endpoint: /push
        method: POST
      webhookSecret:
        name: github-access
        key: secret
`, port),
		"sensor.yaml": fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata:
  name: pushes
spec:
  dependencies:
    - name: push
      eventSourceName: gh
      eventName: push
  triggers:
    - template:
        name: notify
        http:
          url: %s/pushes
          method: POST
          payload:
            - src: {dependencyName: push, dataKey: body.X-GitHub-Delivery}
              dest: id
      policy:
        status:
          allow: [200]
`, url),
	}
}

// hubSignature is the value of X-Hub-Signature-256 for body under the secret.
func hubSignature(body string) string {
	mac := hmac.New(sha256.New, []byte(hostileSecret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// TestFaultHostileGitHubSignature runs the real binary with a github entry
// whose webhookSecret comes from FLINT_SECRET_GITHUB_ACCESS_SECRET: a delivery
// without a signature, and one with a SHA-1 value in X-Hub-Signature-256
// (the header of SHA-256 only), are refused with 400 and fire nothing; a
// correctly signed one is 200 and fires; and a delivery GitHub sends three
// times (the same X-GitHub-Delivery) fires once.
func TestFaultHostileGitHubSignature(t *testing.T) {
	t.Parallel()
	rc := newRecorder(t, 0)
	port := freeport.Port(t)
	dev := startDev(t, githubYAML(port, rc.URL), []string{"FLINT_SECRET_GITHUB_ACCESS_SECRET=" + hostileSecret})
	waitListening(t, port)
	url := fmt.Sprintf("http://127.0.0.1:%d/push", port)
	body := func(i int) string { return fmt.Sprintf(`{"ref":"refs/heads/main","n":%d}`, i) }
	sha1Of := func(b string) string {
		mac := hmac.New(sha1.New, []byte(hostileSecret))
		mac.Write([]byte(b))
		return "sha1=" + hex.EncodeToString(mac.Sum(nil))
	}

	tests := []struct {
		name   string
		id     string
		body   string
		sig    string // X-Hub-Signature-256; none when empty
		status int
		reply  string
	}{
		{name: "unsigned", id: "0b9f5d2e-0000-4000-8000-000000000001", body: body(1),
			status: http.StatusBadRequest, reply: "missing signature"},
		{name: "sha1 in X-Hub-Signature-256", id: "0b9f5d2e-0000-4000-8000-000000000002", body: body(2), sig: sha1Of(body(2)),
			status: http.StatusBadRequest, reply: `unsupported signature algorithm "sha1" in X-Hub-Signature-256`},
		{name: "signed with another body", id: "0b9f5d2e-0000-4000-8000-000000000003", body: body(3), sig: hubSignature(body(4)),
			status: http.StatusBadRequest, reply: "signature mismatch"},
		{name: "signed", id: "0b9f5d2e-0000-4000-8000-000000000004", body: body(5), sig: hubSignature(body(5)),
			status: http.StatusOK, reply: "success"},
		{name: "redelivered once", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", body: body(6), sig: hubSignature(body(6)),
			status: http.StatusOK, reply: "success"},
		{name: "redelivered twice", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", body: body(6), sig: hubSignature(body(6)),
			status: http.StatusOK, reply: "success"},
		{name: "redelivered thrice", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", body: body(6), sig: hubSignature(body(6)),
			status: http.StatusOK, reply: "success"},
		{name: "another delivery", id: "72d3162e-cc78-11e3-81ab-4c9367dc0959", body: body(7), sig: hubSignature(body(7)),
			status: http.StatusOK, reply: "success"},
	}
	for _, tc := range tests {
		header := []string{"X-GitHub-Event", "push", "X-GitHub-Delivery", tc.id}
		if tc.sig != "" {
			header = append(header, "X-Hub-Signature-256", tc.sig)
		}
		status, reply := post(t, http.MethodPost, url, "application/json", tc.body, header...)
		if status != tc.status || !strings.Contains(reply, tc.reply) {
			t.Errorf("%s: got %d %q, want %d with %q", tc.name, status, reply, tc.status, tc.reply)
		}
	}

	want := []string{"0b9f5d2e-0000-4000-8000-000000000004", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "72d3162e-cc78-11e3-81ab-4c9367dc0959"}
	rc.waitAll(t, dev, want, 20*time.Second)
	time.Sleep(2 * time.Second) // a refused or repeated delivery that fired would arrive by now
	fired := map[string]int{}
	for _, d := range rc.deliveries() {
		fired[d.id]++
	}
	if len(fired) != len(want) {
		t.Errorf("the trigger fired for %v, want only %v", fired, want)
	}
	for _, id := range want {
		if fired[id] != 1 {
			t.Errorf("delivery %s fired %d times, want 1 (all fired: %v)", id, fired[id], fired)
		}
	}
}

// TestFaultHostileEmptyWebhookSecret: a webhookSecret that is set but empty
// would turn the signature check off; flint dev exits non-zero naming the
// field, from an empty variable and from an empty secret file alike.
func TestFaultHostileEmptyWebhookSecret(t *testing.T) {
	t.Parallel()
	secrets := t.TempDir()
	if err := os.MkdirAll(filepath.Join(secrets, "github-access"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, "github-access", "secret"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		args []string
	}{
		{name: "empty variable", env: []string{"FLINT_SECRET_GITHUB_ACCESS_SECRET="}},
		{name: "empty file", args: []string{"--secrets-dir", secrets}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, body := range githubYAML(freeport.Port(t), "http://127.0.0.1:1") {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			args := []string{"dev", "-f", dir, "--broker-addr", "127.0.0.1:0", "--metrics-addr", "off"}
			if viaHTTP {
				args = append(args, "--via-http")
			}
			cmd := exec.CommandContext(ctx, flintBin, append(args, tc.args...)...)
			cmd.Env = append(os.Environ(), tc.env...)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("flint dev still running after 60s with an empty webhookSecret:\n%s", out)
			}
			if err == nil {
				t.Fatalf("flint dev exited 0 with an empty webhookSecret, want a failure:\n%s", out)
			}
			const want = "spec.github[push].webhookSecret: the secret is empty"
			if !strings.Contains(string(out), want) {
				t.Fatalf("flint dev exited with %v, want its output to name %s:\n%s", err, want, out)
			}
			t.Logf("exit: %v; output: %s", err, strings.TrimSpace(tail(string(out), 400)))
		})
	}
}
