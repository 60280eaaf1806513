package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultMaxBytes caps the size of a broker stream unless StreamOptions says otherwise.
const DefaultMaxBytes int64 = 1 << 30

// jsStorageResourcesExceeded is JetStream's error code for a stream whose MaxBytes the
// server cannot reserve.
const jsStorageResourcesExceeded = 10047

// StreamOptions are the settings shared by every broker stream.
type StreamOptions struct {
	// Replicas is the number of stream replicas in a clustered JetStream; default 1.
	Replicas int
	// DuplicateWindow is how long a re-sent event (same source and id) is recognised; default 2 min.
	DuplicateWindow time.Duration
	// MaxAge, when positive, removes events older than it even if a trigger has not
	// delivered them yet; default 0: events stay until every trigger settled them.
	MaxAge time.Duration
	// MaxBytes caps the stored size of a broker stream; a full stream refuses new events
	// (the ingress answers 503) until deliveries free space. Default DefaultMaxBytes;
	// negative means no cap of its own (the server's store limit still applies).
	MaxBytes int64
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = 2 * time.Minute
	}
	if o.MaxAge < 0 {
		o.MaxAge = 0
	}
	switch {
	case o.MaxBytes == 0:
		o.MaxBytes = DefaultMaxBytes
	case o.MaxBytes < 0:
		o.MaxBytes = -1
	}
	return o
}

// StreamConfig is the JetStream configuration of a broker's stream: file storage, the
// events' subject (with KeepSubject for the dispatcher's markers and RetrySubjects for
// its retry lanes), interest retention (an event is removed once every trigger consumer
// acknowledged it, delivered or dead-lettered) and a size cap with DiscardNew, so a
// full stream refuses new events rather than dropping stored ones.
func StreamConfig(namespace, broker string, o StreamOptions) jetstream.StreamConfig {
	o = o.withDefaults()
	return jetstream.StreamConfig{
		Name:        StreamName(namespace, broker),
		Description: "flint broker " + namespace + "/" + broker,
		Subjects:    []string{Subject(namespace, broker), KeepSubject(namespace, broker), RetrySubjects(namespace, broker)},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.InterestPolicy,
		Discard:     jetstream.DiscardNew,
		MaxAge:      o.MaxAge,
		MaxBytes:    o.MaxBytes,
		Duplicates:  o.DuplicateWindow,
		Replicas:    o.Replicas,
	}
}

// DeadLetterStreamConfig is the JetStream configuration of a broker's dead-letter
// stream: the events its triggers gave up on, one subject per trigger, kept until they
// are replayed or deleted (no age or size limit of its own: it never drops one).
func DeadLetterStreamConfig(namespace, broker string, o StreamOptions) jetstream.StreamConfig {
	o = o.withDefaults()
	return jetstream.StreamConfig{
		Name:        DeadLetterStreamName(namespace, broker),
		Description: "flint dead letters of broker " + namespace + "/" + broker,
		Subjects:    []string{DeadLetterSubjects(namespace, broker)},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		Duplicates:  o.DuplicateWindow,
		Replicas:    o.Replicas,
	}
}

// EnsureStream creates or updates a broker's stream; it is idempotent. A stream
// created by an older flint (limits retention, no size cap) is updated in place: the
// events every trigger already acknowledged are removed at once.
func EnsureStream(ctx context.Context, js jetstream.JetStream, namespace, broker string, o StreamOptions) error {
	_, err := EnsureStreamCap(ctx, js, namespace, broker, o)
	return err
}

// EnsureStreamCap is EnsureStream reporting the size cap the stream got: o.MaxBytes,
// or -1 when the server could not reserve that much storage and the stream was created
// without a cap of its own (bounded by the server's store only).
func EnsureStreamCap(ctx context.Context, js jetstream.JetStream, namespace, broker string, o StreamOptions) (int64, error) {
	cfg := StreamConfig(namespace, broker, o)
	_, err := js.CreateOrUpdateStream(ctx, cfg)
	var apiErr *jetstream.APIError
	if err != nil && cfg.MaxBytes > 0 && errors.As(err, &apiErr) && apiErr.ErrorCode == jsStorageResourcesExceeded {
		cfg.MaxBytes = -1
		_, err = js.CreateOrUpdateStream(ctx, cfg)
	}
	if err != nil {
		return 0, fmt.Errorf("ensuring stream %s: %w", cfg.Name, err)
	}
	return cfg.MaxBytes, nil
}

// CheckStreams reports whether a broker's stream and dead-letter stream exist,
// without changing their settings: how a process that does not own them (the
// data plane in a cluster, where the broker controller writes them) waits for
// them. A missing stream is an error wrapping jetstream.ErrStreamNotFound.
func CheckStreams(ctx context.Context, js jetstream.JetStream, namespace, broker string) error {
	for _, name := range []string{StreamName(namespace, broker), DeadLetterStreamName(namespace, broker)} {
		if _, err := js.Stream(ctx, name); err != nil {
			return fmt.Errorf("stream %s of broker %s/%s: %w", name, namespace, broker, err)
		}
	}
	return nil
}

// EnsureDeadLetterStream creates or updates a broker's dead-letter stream; it is idempotent.
func EnsureDeadLetterStream(ctx context.Context, js jetstream.JetStream, namespace, broker string, o StreamOptions) error {
	cfg := DeadLetterStreamConfig(namespace, broker, o)
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("ensuring dead-letter stream %s: %w", cfg.Name, err)
	}
	return nil
}
