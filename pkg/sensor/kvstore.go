package sensor

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultFiredTTL is how long a KVStore remembers an idempotency key when
// KVOptions.FiredTTL is zero: far longer than the broker keeps redelivering.
const DefaultFiredTTL = 24 * time.Hour

// maxUpdateAttempts bounds the compare-and-swap retries of one update.
const maxUpdateAttempts = 100

// ErrNotConnected is returned by a DeferredBuckets used before Set.
var ErrNotConnected = errors.New("jetstream not connected yet")

// KVBuckets creates or opens JetStream KV buckets; jetstream.JetStream
// implements it.
type KVBuckets interface {
	CreateOrUpdateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error)
}

// KVOptions tune a KVStore.
type KVOptions struct {
	// FiredTTL is how long an idempotency key is remembered; DefaultFiredTTL when zero.
	FiredTTL time.Duration
	// Replicas is the bucket's replica count in a clustered JetStream; 1 when zero.
	Replicas int
}

// KVStore is a StateStore in one JetStream KV bucket per sensor, shared by
// every engine instance of the sensor and kept across restarts. Each
// trigger's condition state is one JSON value under `pending.<trigger>`,
// changed by compare-and-swap (retried on conflict), so instances never
// lose each other's events; each idempotency key is a value under
// `fired.<sha256>` that expires after KVOptions.FiredTTL. The bucket is
// created (or its settings updated) on first use.
type KVStore struct {
	buckets KVBuckets
	bucket  string
	opts    KVOptions

	mu sync.Mutex // guards kv
	kv jetstream.KeyValue
}

// NewKVStore returns a store on the bucket named bucket (see BucketName),
// created through buckets when first used.
func NewKVStore(buckets KVBuckets, bucket string, opts KVOptions) *KVStore {
	if opts.FiredTTL <= 0 {
		opts.FiredTTL = DefaultFiredTTL
	}
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	return &KVStore{buckets: buckets, bucket: bucket, opts: opts}
}

// BucketName is the KV bucket name of a sensor: "flint-sensor_<namespace>_<name>"
// when both are made of letters, digits and dashes, else those characters
// kept, the others replaced by dashes, and a hash of the exact names
// appended so that two sensors never share a bucket.
func BucketName(namespace, sensor string) string {
	ns, nsChanged := kvSafe(namespace)
	name, nameChanged := kvSafe(sensor)
	out := "flint-sensor_" + ns + "_" + name
	if nsChanged || nameChanged || len(out) > 120 {
		sum := sha256.Sum256([]byte(namespace + "/" + sensor))
		out = out[:min(len(out), 110)] + "_" + hex.EncodeToString(sum[:4])
	}
	return out
}

// kvSafe keeps letters, digits and dashes and replaces every other
// character with a dash; changed reports a replacement.
func kvSafe(s string) (safe string, changed bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
			changed = true
		}
	}
	return b.String(), changed
}

// pendingKey is the key of a trigger's condition state; trigger names may
// hold any character, so the name is base64url-encoded.
func pendingKey(trigger string) string {
	return "pending." + base64.RawURLEncoding.EncodeToString([]byte(trigger))
}

// firedKey is the key of an idempotency key.
func firedKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "fired." + hex.EncodeToString(sum[:])
}

// bind returns the bucket, creating it on first use; a failure is retried
// at the next call.
func (s *KVStore) bind(ctx context.Context) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv != nil {
		return s.kv, nil
	}
	kv, err := s.buckets.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         s.bucket,
		Description:    "flint sensor state: condition state and idempotency keys",
		History:        1,
		Storage:        jetstream.FileStorage,
		Replicas:       s.opts.Replicas,
		LimitMarkerTTL: time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("opening kv bucket %s: %w", s.bucket, err)
	}
	s.kv = kv
	return kv, nil
}

// UpdatePending implements StateStore with compare-and-swap: the state is
// read with its revision, and written only if that revision is still the
// latest; on conflict fn runs again on the newer state.
func (s *KVStore) UpdatePending(ctx context.Context, trigger string, fn func(Pending) Pending) error {
	kv, err := s.bind(ctx)
	if err != nil {
		return err
	}
	key := pendingKey(trigger)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var (
			cur Pending
			rev uint64
		)
		entry, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("reading the state of trigger %s: %w", trigger, err)
		default:
			rev = entry.Revision()
			if err := json.Unmarshal(entry.Value(), &cur); err != nil {
				return fmt.Errorf("decoding the state of trigger %s: %w", trigger, err)
			}
		}
		next := fn(cur)
		switch {
		case next.IsZero() && rev == 0:
			return nil
		case next.IsZero():
			err = kv.Delete(ctx, key, jetstream.LastRevision(rev))
		default:
			data, merr := json.Marshal(next)
			if merr != nil {
				return fmt.Errorf("encoding the state of trigger %s: %w", trigger, merr)
			}
			if rev == 0 {
				_, err = kv.Create(ctx, key, data)
			} else {
				_, err = kv.Update(ctx, key, data, rev)
			}
		}
		if err == nil {
			return nil
		}
		if !isConflict(err) {
			return fmt.Errorf("writing the state of trigger %s: %w", trigger, err)
		}
		if attempt >= maxUpdateAttempts {
			return fmt.Errorf("writing the state of trigger %s: still conflicting after %d attempts: %w", trigger, attempt, err)
		}
	}
}

// isConflict reports a compare-and-swap conflict: the value changed since it was read.
func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// Fired implements StateStore.
func (s *KVStore) Fired(ctx context.Context, key string) (bool, error) {
	kv, err := s.bind(ctx)
	if err != nil {
		return false, err
	}
	if _, err := kv.Get(ctx, firedKey(key)); err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("reading idempotency key: %w", err)
	}
	return true, nil
}

// MarkFired implements StateStore; the key expires after ttl, or after
// KVOptions.FiredTTL when ttl is 0. A key already recorded keeps its expiry.
func (s *KVStore) MarkFired(ctx context.Context, key string, ttl time.Duration) error {
	kv, err := s.bind(ctx)
	if err != nil {
		return err
	}
	if ttl <= 0 {
		ttl = s.opts.FiredTTL
	}
	if _, err := kv.Create(ctx, firedKey(key), []byte(key), jetstream.KeyTTL(ttl)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("recording idempotency key: %w", err)
	}
	return nil
}

// DeferredBuckets is a KVBuckets whose JetStream is given after the stores
// using it were built, for hosts that build sensors before they connect:
// until Set, every call fails with ErrNotConnected.
type DeferredBuckets struct {
	mu sync.RWMutex // guards js
	js KVBuckets
}

// Set hands over the JetStream the stores create their buckets through.
func (d *DeferredBuckets) Set(js KVBuckets) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.js = js
}

// CreateOrUpdateKeyValue implements KVBuckets.
func (d *DeferredBuckets) CreateOrUpdateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	d.mu.RLock()
	js := d.js
	d.mu.RUnlock()
	if js == nil {
		return nil, ErrNotConnected
	}
	return js.CreateOrUpdateKeyValue(ctx, cfg)
}
