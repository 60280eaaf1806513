package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/pkg/natsd"
)

// workers is how many forwards run at once, as many as a flint dispatcher runs per
// trigger by default; it is also the consumer's MaxAckPending.
const workers = 100

// store is the durable relay: an embedded JetStream with one stream configured as a
// flint broker's (file storage, interest retention, DiscardNew, a de-duplication
// window) and one consumer whose workers forward each stored body to the target.
type store struct {
	srv  *natsd.Server
	nc   *nats.Conn
	js   jetstream.JetStream
	cc   jetstream.ConsumeContext
	work chan jetstream.Msg
	quit chan struct{}
	wg   sync.WaitGroup
	seq  atomic.Int64
}

// startStore starts the embedded JetStream, its stream and consumer, and the workers
// that forward to target through client.
func startStore(ctx context.Context, client *http.Client, target string) (*store, error) {
	srv, err := natsd.Start(natsd.Options{})
	if err != nil {
		return nil, err
	}
	s := &store{srv: srv, work: make(chan jetstream.Msg), quit: make(chan struct{})}
	if s.nc, err = srv.Connect(); err != nil {
		srv.Shutdown()
		return nil, err
	}
	if err := s.consume(ctx, client, target); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// consume creates the stream and the consumer and starts the workers.
func (s *store) consume(ctx context.Context, client *http.Client, target string) error {
	var err error
	if s.js, err = jetstream.New(s.nc); err != nil {
		return err
	}
	stream, err := s.js.CreateStream(ctx, jetstream.StreamConfig{Name: "RELAY", Subjects: []string{"relay"},
		Storage: jetstream.FileStorage, Retention: jetstream.InterestPolicy, Discard: jetstream.DiscardNew,
		MaxBytes: 1 << 30, Duplicates: 2 * time.Minute})
	if err != nil {
		return fmt.Errorf("creating stream: %w", err)
	}
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "relay", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 30 * time.Second, MaxAckPending: workers})
	if err != nil {
		return fmt.Errorf("creating consumer: %w", err)
	}
	for range workers {
		s.wg.Go(func() {
			for {
				var msg jetstream.Msg
				select {
				case msg = <-s.work:
				case <-s.quit:
					return
				}
				code, err := forward(context.Background(), client, target, msg.Headers().Get("Content-Type"), msg.Data())
				if err != nil || code < 200 || code > 299 {
					_ = msg.NakWithDelay(100 * time.Millisecond)
					continue
				}
				_ = msg.Ack()
			}
		})
	}
	s.cc, err = cons.Consume(func(msg jetstream.Msg) {
		select {
		case s.work <- msg:
		case <-s.quit:
			_ = msg.Nak()
		}
	}, jetstream.PullMaxMessages(workers))
	return err
}

// accept stores the request body and answers 200 once JetStream acknowledged it.
func (s *store) accept(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	msg := &nats.Msg{Subject: "relay", Data: body, Header: nats.Header{
		jetstream.MsgIDHeader: []string{strconv.FormatInt(s.seq.Add(1), 10)},
		"Content-Type":        []string{r.Header.Get("Content-Type")},
	}}
	if _, err := s.js.PublishMsg(r.Context(), msg); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// stop ends the consumer and its workers, then the server, removing its store.
func (s *store) stop() {
	if s.cc != nil {
		s.cc.Stop()
	}
	close(s.quit)
	s.wg.Wait()
	s.nc.Close()
	s.srv.Shutdown()
}
