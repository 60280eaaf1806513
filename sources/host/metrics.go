package host

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/metrics"
)

// EnvMetricsPort is the port of a source image's /metrics, /healthz and
// /readyz (default DefaultMetricsPort, as Argo Events' pods; "off" serves none).
const EnvMetricsPort = "METRICS_PORT"

// DefaultMetricsPort is where a source image serves its metrics unless told otherwise.
const DefaultMetricsPort = "7777"

// serveMetrics starts the metrics listener of a source image on all
// interfaces; the returned func stops it.
func serveMetrics(reg *metrics.Registry, getenv func(string) string, log *zap.Logger) (func(), error) {
	port := getenv(EnvMetricsPort)
	if port == "" {
		port = DefaultMetricsPort
	}
	if port == "off" {
		return func() {}, nil
	}
	srv, err := metrics.Listen(":"+port, reg, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvMetricsPort, err)
	}
	log.Info("serving metrics", zap.String("url", srv.URL()))
	return func() {
		if err := srv.Close(); err != nil {
			log.Warn("stopping metrics", zap.Error(err))
		}
	}, nil
}
