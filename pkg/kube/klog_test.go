package kube_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/flintevents/flint/pkg/kube"
)

// klogHeader is how klog starts a line it writes itself: "E1207 17:17:36.123456 ...".
var klogHeader = regexp.MustCompile(`^[IWEF]\d{4} \d{2}:\d{2}`)

// captureStderr runs fn with os.Stderr redirected and returns what was written there.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		done <- b
	}()
	defer func() {
		os.Stderr = saved
	}()
	fn()
	klog.Flush()
	os.Stderr = saved
	_ = w.Close()
	return string(<-done)
}

// TestLogToSendsClientLogsToZap: with LogTo, what client-go logs through klog
// (its error handler, a failing watch) is an entry of the zap logger at its
// level, and nothing reaches stderr as a raw klog line. Not parallel: klog's
// logger is the process's.
func TestLogToSendsClientLogsToZap(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	kube.LogTo(zap.New(core).Named("kubernetes"))
	t.Cleanup(klog.ClearLogger)

	// An API server that forbids everything, as one does to a service
	// account without the rights: every list and watch fails.
	forbidding := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"configmaps is forbidden"}`)
	}))
	t.Cleanup(forbidding.Close)
	clients, err := kube.New(&rest.Config{Host: forbidding.URL})
	if err != nil {
		t.Fatal(err)
	}

	stderr := captureStderr(t, func() {
		klog.Errorf("plain klog error %d", 1)
		klog.InfoS("structured klog line", "resource", "pods")
		klog.V(4).Info("too verbose to be logged")
		utilruntime.HandleError(errors.New("handled by client-go"))

		factory := dynamicinformer.NewDynamicSharedInformerFactory(clients.Dynamic, 0)
		factory.ForResource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"})
		stop := make(chan struct{})
		factory.Start(stop)
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) && logs.FilterMessageSnippet("Failed to watch").Len() == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		close(stop)
		factory.Shutdown()
	})

	if stderr != "" {
		t.Errorf("stderr = %q, want nothing: client-go logs through the zap logger", stderr)
	}
	tests := []struct {
		name    string
		snippet string
		level   zapcore.Level
	}{
		{"klog.Errorf", "plain klog error 1", zapcore.ErrorLevel},
		{"klog.InfoS", "structured klog line", zapcore.InfoLevel},
		{"utilruntime.HandleError", "Unhandled Error", zapcore.ErrorLevel},
		{"a forbidden list of an informer", "Failed to watch", zapcore.ErrorLevel},
	}
	for _, tc := range tests {
		got := logs.FilterMessageSnippet(tc.snippet).All()
		if len(got) == 0 {
			var all bytes.Buffer
			for _, e := range logs.All() {
				all.WriteString(fmt.Sprintf("%s %s %v\n", e.Level, e.Message, e.ContextMap()))
			}
			t.Errorf("%s: no entry containing %q; logged:\n%s", tc.name, tc.snippet, all.String())
			continue
		}
		if got[0].Level != tc.level || got[0].LoggerName != "kubernetes" {
			t.Errorf("%s: entry %q at %s by %q, want %s by kubernetes", tc.name, got[0].Message, got[0].Level, got[0].LoggerName, tc.level)
		}
		if klogHeader.MatchString(got[0].Message) {
			t.Errorf("%s: entry %q carries klog's header", tc.name, got[0].Message)
		}
	}
	if n := logs.FilterMessageSnippet("too verbose").Len(); n != 0 {
		t.Errorf("klog.V(4) logged %d entries, want none", n)
	}
	// Key-value pairs are fields; an error is the entry's error field.
	fieldTests := []struct{ snippet, key, want string }{
		{"structured klog line", "resource", "pods"},
		{"Unhandled Error", "error", "handled by client-go"},
		{"Failed to watch", "error", "configmaps is forbidden"},
	}
	for _, tc := range fieldTests {
		for _, e := range logs.FilterMessageSnippet(tc.snippet).All() {
			if got := fmt.Sprint(e.ContextMap()[tc.key]); !strings.Contains(got, tc.want) {
				t.Errorf("entry %q: %s = %q, want it to contain %q (fields %v)", e.Message, tc.key, got, tc.want, e.ContextMap())
			}
		}
	}
}
