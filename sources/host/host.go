package sink

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
)

// Environment variables Main reads besides the Knative contract of FromEnv.
const (
	EnvEventSourceFile   = "EVENTSOURCE_FILE"   // path of the EventSource YAML
	EnvEventSourceObject = "EVENTSOURCE_OBJECT" // the EventSource YAML inline, or its base64
	EnvSecretsDir        = "FLINT_SECRETS_DIR"  // <dir>/<secret>/<key> files for secret refs
	EnvLogLevel          = "LOG_LEVEL"          // debug, info (default), warn, error
)

// Main runs the registered source type typeKey of one EventSource until ctx
// ends, emitting to K_SINK. The EventSource comes from --eventsource (a file),
// EVENTSOURCE_FILE or EVENTSOURCE_OBJECT; secret references resolve from the
// environment and FLINT_SECRETS_DIR. It is the body of every sources/cmd main.
func Main(ctx context.Context, typeKey string, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet(typeKey, flag.ContinueOnError)
	file := fs.String("eventsource", getenv(EnvEventSourceFile), "path of the EventSource YAML (env "+EnvEventSourceFile+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	es, err := LoadEventSource(*file, getenv(EnvEventSourceObject))
	if err != nil {
		return err
	}
	logger, err := newLogger(getenv(EnvLogLevel))
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()
	base := logger.Sugar()
	log := base.With("eventSource", es.Name, "eventSourceType", typeKey)

	factory, ok := sources.Lookup(typeKey)
	if !ok {
		return fmt.Errorf("source type %q is not registered", typeKey)
	}
	out, err := FromGetenv(getenv)
	if err != nil {
		return fmt.Errorf("configuring sink: %w", err)
	}
	src, err := factory(es, sources.Deps{
		Logger:  base.With("eventSourceType", typeKey), // the source names the event source on its lines
		Secrets: secret.Local{Dir: getenv(EnvSecretsDir)},
	})
	if err != nil {
		return fmt.Errorf("building %s source of eventsource %s: %w", typeKey, es.Name, err)
	}
	log.Infow("source starting", "sink", out.URL())
	if err := src.Run(ctx, out.Emit); err != nil {
		return fmt.Errorf("running %s source of eventsource %s: %w", typeKey, es.Name, err)
	}
	log.Info("source stopped")
	return nil
}

// LoadEventSource decodes an EventSource, strictly, from the YAML file at path
// or, when path is empty, from inline: YAML text or its base64 encoding.
func LoadEventSource(path, inline string) (*v1alpha1.EventSource, error) {
	var raw []byte
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading eventsource: %w", err)
		}
		raw = b
	case inline != "":
		raw = []byte(inline)
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(inline)); err == nil {
			raw = b
		}
	default:
		return nil, errors.New("no eventsource: pass --eventsource or set " + EnvEventSourceFile + " or " + EnvEventSourceObject)
	}
	var es v1alpha1.EventSource
	if err := yaml.UnmarshalStrict(raw, &es); err != nil {
		return nil, fmt.Errorf("decoding eventsource: %w", err)
	}
	if es.Name == "" {
		return nil, errors.New("decoding eventsource: metadata.name is empty")
	}
	return &es, nil
}

func newLogger(level string) (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	if level != "" {
		l, err := zapcore.ParseLevel(level)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvLogLevel, err)
		}
		cfg.Level = zap.NewAtomicLevelAt(l)
	}
	lg, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("building logger: %w", err)
	}
	return lg, nil
}
