package nsq

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/sourcetest"
)

// pullBackend is one topic and channel of the test's nsqd, which the
// conformance kit stops (SIGTERM: nsqd writes what it holds to its data
// directory) and starts again.
type pullBackend struct {
	s     *server
	topic string
}

func (b *pullBackend) Source(t *testing.T) sources.Source {
	src, err := newSource(entrySpec(t, b.s, b.topic, nil), sources.Deps{Logger: testLogger(t)}, testSettings())
	if err != nil {
		t.Fatalf("building the source: %v", err)
	}
	return src
}

func (b *pullBackend) Publish(ctx context.Context, bodies []string) error {
	msgs := make([][]byte, len(bodies))
	for i, s := range bodies {
		msgs[i] = []byte(s)
	}
	return b.s.Publish(ctx, b.topic, msgs)
}

func (b *pullBackend) Body(ev sources.Event) (string, error) {
	var data struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return "", err
	}
	body, err := base64.StdEncoding.DecodeString(data.Body)
	return string(body), err
}

func (b *pullBackend) StopBroker(*testing.T)  { b.s.StopNSQD() }
func (b *pullBackend) StartBroker(*testing.T) { b.s.StartNSQD() }

// TestPullConformance: nothing is lost when the source is killed or nsqd
// restarts mid-stream, and a message arrives twice only under one event id.
func TestPullConformance(t *testing.T) {
	s := startServer(t)
	s.CreateChannel("conformance", "flint")
	sourcetest.RunPull(t, &pullBackend{s: s, topic: "conformance"})
}
