package pull

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flintevents/flint/sources"
)

// Entry is one entry of a pull source type: how to reach its origin, and the
// runner's options (Options.Name is the entry name).
type Entry struct {
	Dial    Dial
	Options Options
}

// Drainer is a source that can work off its backlog and stop; a host that
// wakes a source from zero replicas calls Drain instead of Run.
type Drainer interface {
	Drain(ctx context.Context, emit sources.Emitter, deadline time.Time) (Drained, error)
}

// Source runs the entries of one EventSource's pull type, one runner each; a
// type's factory returns it. It implements sources.Source and Drainer.
type Source struct {
	entries []Entry
}

var (
	_ sources.Source = (*Source)(nil)
	_ Drainer        = (*Source)(nil)
)

// NewSource returns the source of entries; each needs a Dial.
func NewSource(entries ...Entry) (*Source, error) {
	for i, e := range entries {
		if e.Dial == nil {
			return nil, fmt.Errorf("pull: entry %d (%q) has no dial", i, e.Options.Name)
		}
	}
	return &Source{entries: entries}, nil
}

// Run runs every entry until ctx ends; an entry that gives up reconnecting
// stops the others, and Run returns its error once all have returned.
func (s *Source) Run(ctx context.Context, emit sources.Emitter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(s.entries))
	var wg sync.WaitGroup
	for i, e := range s.entries {
		wg.Go(func() {
			if errs[i] = Run(ctx, e.Dial, emit, e.Options); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Drain drains every entry at once until each is empty or the deadline
// passes: Count is the sum, and Empty holds when every entry was emptied.
func (s *Source) Drain(ctx context.Context, emit sources.Emitter, deadline time.Time) (Drained, error) {
	results := make([]Drained, len(s.entries))
	errs := make([]error, len(s.entries))
	var wg sync.WaitGroup
	for i, e := range s.entries {
		wg.Go(func() { results[i], errs[i] = Drain(ctx, e.Dial, emit, e.Options, deadline) })
	}
	wg.Wait()
	total := Drained{Empty: true}
	for _, d := range results {
		total.Count += d.Count
		total.Empty = total.Empty && d.Empty
	}
	return total, errors.Join(errs...)
}
