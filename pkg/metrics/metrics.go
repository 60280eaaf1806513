// Package metrics holds the Prometheus metrics of every flint process: one
// Registry per process, created by its main and passed explicitly to the
// parts that count, and the HTTP handlers that serve it with the health
// probes. Event sources and sensors use Argo Events' metric names and labels,
// the broker Knative's.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Label names, as Argo Events and Knative name them.
const (
	LabelEventSource       = "eventsource_name"
	LabelEventName         = "event_name"
	LabelSensor            = "sensor_name"
	LabelTrigger           = "trigger_name"
	LabelNamespace         = "namespace_name"
	LabelBroker            = "broker_name"
	LabelEventType         = "event_type"
	LabelResponseCode      = "response_code"
	LabelResponseCodeClass = "response_code_class"
)

// latencyBuckets are the buckets, in milliseconds, of every latency histogram.
var latencyBuckets = []float64{0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000}

// Registry is the metrics of one process: its own Prometheus registry (never
// the global one) with the Go runtime and process collectors and the
// families of sources, sensors and the broker.
type Registry struct {
	reg    *prometheus.Registry
	Source *Source
	Sensor *Sensor
	Broker *Broker
}

// New returns a registry holding every flint metric family.
func New() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Registry{reg: reg, Source: newSource(reg), Sensor: newSensor(reg), Broker: newBroker(reg)}
}

// Gatherer returns the underlying Prometheus registry, for tests and exporters.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg, MaxRequestsInFlight: 4, Timeout: 10 * time.Second})
}

// Mount adds GET /metrics, /healthz and /readyz to mux; ready reports
// readiness (nil means always ready).
func (r *Registry) Mount(mux *http.ServeMux, ready func() bool) {
	mux.Handle("GET /metrics", r.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ready != nil && !ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
}

// Server serves /metrics, /healthz and /readyz on one listener.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Listen binds addr and starts serving the registry there with the health
// probes; Close stops it.
func Listen(addr string, r *Registry, ready func() bool) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	r.Mount(mux, ready)
	s := &Server{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 15 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// URL is the address of the metrics endpoint, e.g. http://127.0.0.1:9090/metrics.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/metrics" }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server within a few seconds and returns its serving error, if any.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	if err := <-s.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving metrics: %w", err)
	}
	return nil
}

// sinceMillis is the time since start in milliseconds.
func sinceMillis(start time.Time) float64 {
	return float64(time.Since(start)) / float64(time.Millisecond)
}
