// Package dev is the one-process runner behind `flint dev`: an embedded
// JetStream broker, every EventSource's adapters posting to the broker
// ingress, and every Sensor as a function the broker delivers to, all wired
// over loopback exactly as a cluster wires them.
package dev

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/secret"
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
	// SensorAddr is where sensor functions listen (default 127.0.0.1:0).
	SensorAddr string
	// SecretsDir is a directory of <secret>/<key> files for secret references.
	SecretsDir string
	// Broker tunes the data plane.
	Broker broker.Config
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
}

// Run starts everything, blocks until ctx ends or a component fails, then
// stops accepting events, drains what is in flight and returns.
func Run(ctx context.Context, objs Objects, opts Options) (err error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if opts.BrokerAddr == "" {
		opts.BrokerAddr = "127.0.0.1:8080"
	}
	if opts.SensorAddr == "" {
		opts.SensorAddr = "127.0.0.1:0"
	}
	secrets := secret.Local{Dir: opts.SecretsDir}

	// Build every component before anything listens, so that an unsupported
	// type or a bad reference fails the start.
	sensors, err := buildSensors(objs.Sensors, secrets, log)
	if err != nil {
		return err
	}
	srcs, err := buildSources(objs.EventSources, secrets, log)
	if err != nil {
		return err
	}

	dataDir := opts.DataDir
	if dataDir == "" && opts.NATSURL == "" {
		if dataDir, err = os.MkdirTemp("", "flint-dev-"); err != nil {
			return fmt.Errorf("creating data dir: %w", err)
		}
		defer os.RemoveAll(dataDir)
	}

	nc, srv, err := connect(opts, dataDir, log)
	if err != nil {
		return err
	}
	defer func() {
		nc.Close()
		if srv != nil {
			srv.Shutdown()
		}
	}()

	dp, err := broker.New(nc, opts.Broker, log.Named("broker"))
	if err != nil {
		return fmt.Errorf("starting broker: %w", err)
	}

	ingressLn, err := net.Listen("tcp", opts.BrokerAddr)
	if err != nil {
		return fmt.Errorf("listening for the broker ingress on %s: %w", opts.BrokerAddr, err)
	}
	sensorLn, err := net.Listen("tcp", opts.SensorAddr)
	if err != nil {
		ingressLn.Close()
		return fmt.Errorf("listening for sensors on %s: %w", opts.SensorAddr, err)
	}
	ingressBase := "http://" + ingressLn.Addr().String()
	sensorBase := "http://" + sensorLn.Addr().String()

	brokers := withImplicitBrokers(objs, defaultBrokerRefs(objs))
	trigs := append(append([]*eventingv1.Trigger(nil), objs.Triggers...), sensorTriggers(sensors, sensorBase)...)
	if err := dp.Apply(ctx, brokers, trigs); err != nil {
		ingressLn.Close()
		sensorLn.Close()
		return fmt.Errorf("programming broker: %w", err)
	}

	ingressSrv := &http.Server{Handler: dp.Ingress(), ReadHeaderTimeout: 10 * time.Second}
	sensorSrv := &http.Server{Handler: sensorMux(sensors), ReadHeaderTimeout: 10 * time.Second}

	// Stop order on the way out: sources, ingress, dispatcher, sensors, NATS.
	dpCtx, stopDP := context.WithCancel(context.WithoutCancel(ctx))
	srcCtx, stopSources := context.WithCancel(ctx)
	defer stopSources()
	defer stopDP()

	errc := make(chan error, 4+len(srcs))
	var dpWG, srvWG, srcWG sync.WaitGroup
	dpWG.Add(1)
	go func() {
		defer dpWG.Done()
		if err := dp.Run(dpCtx); err != nil {
			errc <- fmt.Errorf("broker dispatcher: %w", err)
		}
	}()
	for _, s := range []struct {
		srv  *http.Server
		ln   net.Listener
		what string
	}{{ingressSrv, ingressLn, "broker ingress"}, {sensorSrv, sensorLn, "sensors"}} {
		srvWG.Add(1)
		go func() {
			defer srvWG.Done()
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", s.what, err)
			}
		}()
	}
	for _, s := range srcs {
		srcWG.Add(1)
		go func() {
			defer srcWG.Done()
			if err := s.run(srcCtx, ingressBase); err != nil {
				errc <- err
			}
		}()
	}

	if err = waitReady(ctx, srcs, errc); err != nil {
		log.Error("event source failed to start, shutting down", zap.Error(err))
	} else {
		ep := Endpoints{Ingress: ingressBase + "/default/default", IngressAddr: ingressLn.Addr().String()}
		if srv != nil {
			ep.NATS = srv.ClientURL()
		}
		log.Info("flint dev is running",
			zap.String("ingress", ep.Ingress),
			zap.Int("eventSources", len(objs.EventSources)),
			zap.Int("sensors", len(sensors)),
			zap.Int("brokers", len(brokers)),
			zap.Int("triggers", len(trigs)))
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

	stopSources()
	srcWG.Wait()
	shutdown(ingressSrv)
	stopDP()
	dpWG.Wait()
	shutdown(sensorSrv)
	srvWG.Wait()
	log.Info("stopped")
	return err
}

// readier is implemented by sources that bind listeners asynchronously.
type readier interface{ Ready() <-chan struct{} }

// waitReady waits until every source that can tell is listening, so that
// "running" means events are accepted.
func waitReady(ctx context.Context, srcs []source, errc <-chan error) error {
	for _, s := range srcs {
		r, ok := s.src.(readier)
		if !ok {
			continue
		}
		select {
		case <-r.Ready():
		case err := <-errc:
			return err
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

func shutdown(s *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}

// connect returns a NATS connection to the server named by opts.NATSURL, or to
// an embedded one storing under dataDir.
func connect(opts Options, dataDir string, log *zap.Logger) (*nats.Conn, *natsd.Server, error) {
	natsOpts := []nats.Option{nats.Name("flint-dev"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true)}
	if opts.NATSURL != "" {
		nc, err := nats.Connect(opts.NATSURL, natsOpts...)
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to nats at %s: %w", opts.NATSURL, err)
		}
		return nc, nil, nil
	}
	srv, err := natsd.Start(natsd.Options{StoreDir: filepath.Join(dataDir, "jetstream"), Port: opts.NATSPort})
	if err != nil {
		return nil, nil, fmt.Errorf("starting embedded nats: %w", err)
	}
	nc, err := srv.Connect(natsOpts...)
	if err != nil {
		srv.Shutdown()
		return nil, nil, fmt.Errorf("connecting to embedded nats: %w", err)
	}
	log.Debug("embedded JetStream started", zap.String("storeDir", filepath.Join(dataDir, "jetstream")))
	return nc, srv, nil
}
