package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamOptions are the settings shared by every broker stream.
type StreamOptions struct {
	// Replicas is the number of stream replicas in a clustered JetStream; default 1.
	Replicas int
	// DuplicateWindow is how long a re-sent event (same source and id) is recognised; default 2 min.
	DuplicateWindow time.Duration
	// MaxAge is how long events are kept; default 24 h.
	MaxAge time.Duration
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = 2 * time.Minute
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
	return o
}

// StreamConfig is the JetStream configuration of a broker's stream: file storage, limits
// retention (events stay for MaxAge so they can be replayed), one subject.
func StreamConfig(namespace, broker string, o StreamOptions) jetstream.StreamConfig {
	o = o.withDefaults()
	return jetstream.StreamConfig{
		Name:        StreamName(namespace, broker),
		Description: "flint broker " + namespace + "/" + broker,
		Subjects:    []string{Subject(namespace, broker)},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      o.MaxAge,
		Duplicates:  o.DuplicateWindow,
		Replicas:    o.Replicas,
	}
}

// EnsureStream creates or updates a broker's stream; it is idempotent.
func EnsureStream(ctx context.Context, js jetstream.JetStream, namespace, broker string, o StreamOptions) error {
	cfg := StreamConfig(namespace, broker, o)
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("ensuring stream %s: %w", cfg.Name, err)
	}
	return nil
}
