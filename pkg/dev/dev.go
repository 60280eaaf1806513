// Package dev is the one-process runner behind `flint dev`: an embedded
// JetStream broker, every EventSource's adapters storing their events in it,
// and every Sensor as a function the broker delivers to. By default the two
// middle hops are calls in the process behind the cluster's seams (a source's
// emitter publishes to JetStream itself; the dispatcher hands events to the
// sensor functions); with ViaHTTP they go over loopback HTTP exactly as a
// cluster wires them.
package dev

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/receiver"
	"github.com/flintevents/flint/sources/sink"
)

// Options configure a dev run.
type Options struct {
	// DataDir holds the JetStream store; a temporary directory when empty. A
	// restart with the same directory delivers what was pending.
	DataDir string
	// NATSURL uses an existing NATS server with JetStream instead of the embedded one.
	NATSURL string
	// NATSPort makes the embedded server listen on 127.0.0.1: 0 (default) means
	// in-process connections only, -1 a random port.
	NATSPort int
	// BrokerAddr is the broker ingress listen address (default 127.0.0.1:8080).
	BrokerAddr string
	// SensorAddr is where sensor functions listen with ViaHTTP (default 127.0.0.1:0).
	SensorAddr string
	// ViaHTTP wires sources to the broker ingress and the dispatcher to the sensor
	// functions over loopback HTTP, as in a cluster, instead of in-process calls.
	ViaHTTP bool
	// DrainTimeout bounds a stop (default 10 s): the wait for events in flight
	// and, without DataDir, for every accepted event to be delivered before the
	// temporary store is closed. Deliveries still running then are cancelled
	// and redelivered on a restart; a store that still holds undelivered events
	// is kept, never deleted. Broker.DrainTimeout, when set, bounds the
	// dispatcher's part on its own.
	DrainTimeout time.Duration
	// SecretsDir is a directory of <secret>/<key> files for secret references.
	SecretsDir string
	// Broker tunes the data plane; its Metrics is the process's registry.
	Broker broker.Config
	// Kubeconfig is the kubeconfig file of the cluster that resource sources
	// watch and k8s and argoWorkflow triggers act on; $KUBECONFIG, or the
	// pod's service account, when empty. Without any, those types refuse to build.
	Kubeconfig string
	// MetricsAddr is where /metrics, /healthz and /readyz listen (default
	// 127.0.0.1:0, a free port); "off" serves none.
	MetricsAddr string
	// EvalTimeout bounds each evaluation of user code in sensors (Lua, jq,
	// templates, expressions); sensor.DefaultEvalTimeout when zero.
	EvalTimeout time.Duration
	// ListenHost is the interface push sources bind (default 127.0.0.1).
	ListenHost string
	// Logger receives every log line; a no-op logger when nil.
	Logger *zap.Logger
	// Ready, when set, is called once everything listens.
	Ready func(Endpoints)
}

// Objects are the manifests a dev run executes.
type Objects struct {
	EventSources []*v1alpha1.EventSource
	Sensors      []*v1alpha1.Sensor
	Brokers      []*eventingv1.Broker
	Triggers     []*eventingv1.Trigger
}

// Endpoints tell where a running dev process listens.
type Endpoints struct {
	// Ingress is the URL of the default broker's ingress.
	Ingress string
	// IngressAddr is the ingress listen address.
	IngressAddr string
	// NATS is the embedded server's client URL, empty when it listens on no port.
	NATS string
	// Metrics is the URL of the process's Prometheus metrics, empty when off.
	Metrics string
	// Sources are the base URLs of the event sources' ports, in port order.
	Sources []string
}

// Run starts everything, blocks until ctx ends or a component fails, then
// stops accepting events, drains what is in flight and returns. It builds
// every component before anything listens, as Check does, and refuses to
// start with a Problems error when something cannot run; a port an event
// source cannot bind is such a problem too, at the field that set it. A
// start that fails leaves no temporary store behind.
func Run(ctx context.Context, objs Objects, opts Options) (err error) {
	log := opts.logger()
	if opts.BrokerAddr == "" {
		opts.BrokerAddr = "127.0.0.1:8080"
	}
	if opts.SensorAddr == "" {
		opts.SensorAddr = "127.0.0.1:0"
	}
	if opts.ListenHost == "" {
		opts.ListenHost = "127.0.0.1"
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = defaultDrainTimeout
	}
	if opts.Broker.StreamReplicas > 1 && opts.NATSURL == "" {
		return fmt.Errorf("--stream-replicas %d needs --nats naming a clustered JetStream: the embedded server is one node", opts.Broker.StreamReplicas)
	}

	var sensorLn net.Listener
	sensorBase := localSensorBase
	if opts.ViaHTTP {
		if sensorLn, err = net.Listen("tcp", opts.SensorAddr); err != nil {
			return fmt.Errorf("listening for sensors on %s: %w", opts.SensorAddr, err)
		}
		defer sensorLn.Close()
		sensorBase = "http://" + sensorLn.Addr().String()
	}

	reg := metrics.New() // one registry for the sources, the broker and the sensors
	b, problems := build(objs, opts, sensorBase, false, reg)
	if b != nil {
		defer b.close()
	}
	if len(problems) > 0 {
		return problems
	}

	st, err := openStore(opts, log)
	if err != nil {
		return err
	}
	// Until the ingress and the sources serve, nothing can have been accepted,
	// so a start that fails removes its temporary store; from then on the
	// count is unknown until counted. A kept store's count is unknown from the
	// start: it may hold events of earlier runs.
	undelivered := 0
	if !st.temp {
		undelivered = -1
	}
	var losses recoveryLosses
	nc, srv, err := connect(opts, st.dir, log, losses.add)
	if err != nil {
		st.release(log, undelivered)
		return err
	}
	defer func() {
		// Acknowledgements and hand-backs (Nak) of the stop are still in the
		// connection's buffer: send them before closing.
		_ = nc.FlushTimeout(time.Second)
		nc.Close()
		if srv != nil {
			srv.Shutdown()
		}
		st.release(log, undelivered)
	}()
	if !st.temp {
		checkStore(ctx, nc, losses.all(), log) // a kept store, or an external server's
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("opening jetstream for the sensors' state: %w", err)
	}
	b.state.Set(js)

	bcfg := opts.Broker
	bcfg.Metrics = reg.Broker
	// A stop drains a temporary store's accepted events first (drain), within
	// DrainTimeout; what is still in flight after that is cancelled at once.
	// Otherwise the dispatcher waits for its in-flight deliveries as long.
	drains := st.temp && srv != nil
	if bcfg.DrainTimeout <= 0 {
		bcfg.DrainTimeout = opts.DrainTimeout
		if drains {
			bcfg.DrainTimeout = stopGrace
		}
	}
	if !opts.ViaHTTP {
		bcfg.Local = localSensors(b.sensors)
	}
	dp, err := broker.New(nc, bcfg, log.Named("broker"))
	if err != nil {
		return fmt.Errorf("starting broker: %w", err)
	}

	ingressLn, err := net.Listen("tcp", opts.BrokerAddr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listening for the broker ingress on %s: %w; another flint dev may be running there: choose another address with --broker-addr", opts.BrokerAddr, err)
	}
	if err != nil {
		return fmt.Errorf("listening for the broker ingress on %s: %w", opts.BrokerAddr, err)
	}
	ingressBase := "http://" + ingressLn.Addr().String()

	if err := dp.Apply(ctx, b.graph.Brokers, b.graph.Triggers); err != nil {
		ingressLn.Close()
		return fmt.Errorf("programming broker: %w", err)
	}
	sinkFor := func(s builtSource) (host.Sink, error) {
		return localSink(dp, s.unit.Namespace, s.unit.Broker), nil
	}
	if opts.ViaHTTP {
		sinkFor = func(s builtSource) (host.Sink, error) {
			out, err := sink.New(ingressBase + s.unit.SinkPath)
			if err != nil {
				return nil, err
			}
			return out.Emit, nil
		}
	}
	for _, s := range b.sensors {
		s.fn.Instrument(reg, s.unit.Sensor)
	}
	runs, err := b.sourceRuns(sinkFor, reg.Source, log.Named("eventsource"))
	if err != nil {
		ingressLn.Close()
		return err
	}

	var metricsSrv *metrics.Server
	if opts.MetricsAddr != "off" {
		addr := opts.MetricsAddr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		if metricsSrv, err = metrics.Listen(addr, reg, nil); err != nil {
			ingressLn.Close()
			return err
		}
		defer func() { _ = metricsSrv.Close() }()
	}
	ingressSrv := newServer(dp.Ingress())
	var sensorSrv *http.Server
	if opts.ViaHTTP {
		sensorSrv = newServer(b.sensorMux())
	}

	// Stop order on the way out: sources, ingress, (drain), dispatcher, sensors, NATS.
	dpCtx, stopDP := context.WithCancel(context.WithoutCancel(ctx))
	srcCtx, stopSources := context.WithCancel(ctx)
	defer stopSources()
	defer stopDP()

	errc := make(chan error, 4)
	var dpWG, srvWG, srcWG sync.WaitGroup
	undelivered = -1 // events may be accepted from here on
	dpWG.Go(func() {
		if err := dp.Run(dpCtx); err != nil {
			errc <- fmt.Errorf("broker dispatcher: %w", err)
		}
	})
	servers := []struct {
		srv  *http.Server
		ln   net.Listener
		what string
	}{{ingressSrv, ingressLn, "broker ingress"}}
	if sensorSrv != nil {
		servers = append(servers, struct {
			srv  *http.Server
			ln   net.Listener
			what string
		}{sensorSrv, sensorLn, "sensors"})
	}
	for _, s := range servers {
		srvWG.Go(func() {
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", s.what, err)
			}
		})
	}
	srcWG.Go(func() {
		if err := host.Run(srcCtx, b.receiver, runs...); err != nil {
			errc <- err
		}
	})

	if err = waitReady(ctx, b.receiver, errc); err != nil {
		log.Error("event source failed to start, shutting down", zap.Error(err))
		err = b.portProblem(err, opts.BrokerAddr)
	} else {
		ep := Endpoints{Ingress: ingressBase + "/default/default", IngressAddr: ingressLn.Addr().String()}
		if srv != nil {
			ep.NATS = srv.ClientURL()
		}
		if metricsSrv != nil {
			ep.Metrics = metricsSrv.URL()
		}
		for _, p := range b.receiver.Ports() {
			ep.Sources = append(ep.Sources, p.URL())
		}
		wiring := "in-process"
		if opts.ViaHTTP {
			wiring = "http"
		}
		log.Info("flint dev is running",
			zap.String("ingress", ep.Ingress),
			zap.String("metrics", ep.Metrics),
			zap.Strings("sources", ep.Sources),
			zap.String("wiring", wiring),
			zap.String("dataDir", st.dir),
			zap.Int("eventSources", len(objs.EventSources)),
			zap.Int("sensors", len(b.sensors)),
			zap.Int("brokers", len(b.graph.Brokers)),
			zap.Int("triggers", len(b.graph.Triggers)))
		if opts.Ready != nil {
			opts.Ready(ep)
		}
		select {
		case <-ctx.Done():
			log.Info("shutting down: no new events accepted, draining in-flight events")
		case err = <-errc:
			log.Error("component failed, shutting down", zap.Error(err))
		}
	}

	// The stop takes at most DrainTimeout (plus stopGrace per step once spent),
	// however long a trigger takes to answer.
	deadline := time.Now().Add(opts.DrainTimeout)
	stopSources()
	srcWG.Wait()
	shutdown(ingressSrv, time.Until(deadline))
	if drains {
		drain(nc, time.Until(deadline), log)
	}
	stopDP()
	dpWG.Wait()
	if sensorSrv != nil {
		shutdown(sensorSrv, time.Until(deadline))
	}
	srvWG.Wait()
	if srv != nil {
		undelivered = countUndelivered(nc)
	}
	log.Info("stopped")
	return err
}

// portProblem turns a port an event source could not bind into the problem
// of the EventSource field that set it, with what to do about it; other
// errors are returned as they are. brokerAddr is where the broker ingress
// listens: a port it holds is named as such.
func (b *built) portProblem(err error, brokerAddr string) error {
	var pe *receiver.PortError
	if !errors.As(err, &pe) || pe.Field == "" {
		return err
	}
	msg := pe.Reason()
	if pe.InUse() {
		if _, port, _ := net.SplitHostPort(brokerAddr); port == pe.Port {
			msg += "; the broker ingress listens there: move it with --broker-addr, or give the entry another port"
		} else {
			msg += "; something else listens there: stop it, give the entry another port, or bind another interface with --listen-host"
		}
	}
	p := Problem{Kind: "EventSource", Name: pe.EventSource, Err: &apis.FieldError{Message: msg, Paths: []string{pe.Field + ".port"}}}
	for _, s := range b.sources {
		if s.unit.EventSource.Name == pe.EventSource {
			p.Namespace = s.unit.Namespace // the first of that name: the receiver knows no namespaces
			break
		}
	}
	return Problems{p}
}

// newServer is an HTTP server of the dev process with its timeouts and limits.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
	}
}

// sourceRuns returns one run per source adapter, emitting into the sink that
// sinkFor gives its EventSource, and for a source whose entries manage hooks
// one more that registers them once the receiver serves and removes them on
// the way out as the EventSource asks (host.DevHooks), logging to log.
func (b *built) sourceRuns(sinkFor func(builtSource) (host.Sink, error), m *metrics.Source, log *zap.Logger) ([]func(context.Context) error, error) {
	runs := make([]func(context.Context) error, 0, len(b.sources))
	for _, s := range b.sources {
		out, err := sinkFor(s)
		if err != nil {
			return nil, fmt.Errorf("eventsource %s: %w", s.unit.EventSource.Name, err)
		}
		names := s.unit.EventSource.Spec.EventNames(s.unit.Key)
		emit, err := host.Stamp(s.unit.EventSource.Name, s.unit.Key, out, host.StampOptions{Metrics: m, EventNames: names})
		if err != nil {
			return nil, fmt.Errorf("eventsource %s: spec.%s: %w", s.unit.EventSource.Name, s.unit.Key, err)
		}
		runs = append(runs, func(ctx context.Context) error {
			for _, n := range names {
				ev := m.Event(s.unit.EventSource.Name, n)
				ev.Running(true)
				defer ev.Running(false)
			}
			if err := s.src.Run(ctx, emit); err != nil {
				return fmt.Errorf("eventsource %s: spec.%s: %w", s.unit.EventSource.Name, s.unit.Key, err)
			}
			return nil
		})
		if s.hooks != nil {
			runs = append(runs, host.DevHooks(s.hooks, b.receiver.Ready(),
				log.With(zap.String("eventSource", s.unit.EventSource.Name), zap.String("eventSourceType", s.unit.Key))))
		}
	}
	return runs, nil
}

// waitReady waits until the push receiver has bound every port, so that
// "running" means events are accepted.
func waitReady(ctx context.Context, rcv *receiver.Receiver, errc <-chan error) error {
	select {
	case <-rcv.Ready():
		return nil
	case err := <-errc:
		return err
	case <-ctx.Done():
		return nil
	}
}

// stopGrace is the least time each step of a stop gets once DrainTimeout is spent.
const stopGrace = 500 * time.Millisecond

// shutdown stops s, waiting at most timeout (at least stopGrace) for its requests.
func shutdown(s *http.Server, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), max(timeout, stopGrace))
	defer cancel()
	_ = s.Shutdown(ctx)
}

// connect returns a NATS connection to the server named by opts.NATSURL, or to
// an embedded one storing under dataDir, which tells onLoss what it finds lost
// while recovering its store.
func connect(opts Options, dataDir string, log *zap.Logger, onLoss func(natsd.Loss)) (*nats.Conn, *natsd.Server, error) {
	natsOpts := []nats.Option{nats.Name("flint-dev"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true)}
	if opts.NATSURL != "" {
		nc, err := nats.Connect(opts.NATSURL, natsOpts...)
		if err != nil {
			shown := opts.NATSURL
			if u, perr := url.Parse(shown); perr == nil {
				shown = u.Redacted() // no password in the error
			}
			return nil, nil, fmt.Errorf("connecting to nats at %s: %w", shown, err)
		}
		return nc, nil, nil
	}
	srv, err := natsd.Start(natsd.Options{StoreDir: filepath.Join(dataDir, storeSubdir), Port: opts.NATSPort, Logger: log.Named("nats"), OnLoss: onLoss})
	if err != nil {
		return nil, nil, fmt.Errorf("starting embedded nats: %w", err)
	}
	nc, err := srv.Connect(natsOpts...)
	if err != nil {
		srv.Shutdown()
		return nil, nil, fmt.Errorf("connecting to embedded nats: %w", err)
	}
	log.Debug("embedded JetStream started", zap.String("storeDir", filepath.Join(dataDir, storeSubdir)))
	return nc, srv, nil
}
