package lograte_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/lograte"
)

func TestFloodIsSummarized(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// lines per key, written at once
		lines map[string]int
		// want: written at once, then the summaries with their counts per key
		immediate int
		held      map[string]int
	}{
		{name: "one line: written, no summary", lines: map[string]int{"full": 1}, immediate: 1},
		{name: "a flood of one reason: one line and one summary", lines: map[string]int{"full": 1235}, immediate: 1, held: map[string]int{"full": 1234}},
		{name: "two reasons are limited apart", lines: map[string]int{"full": 5, "unavailable": 3}, immediate: 2, held: map[string]int{"full": 4, "unavailable": 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			core, logs := observer.New(zapcore.InfoLevel)
			const window = 200 * time.Millisecond
			l := lograte.New(zap.New(core), window)
			defer l.Close()
			var wg sync.WaitGroup
			for key, n := range tc.lines {
				for i := range n {
					wg.Go(func() { l.Error(key, "event not recorded: "+key, zap.Int("i", i)) })
				}
			}
			wg.Wait()
			if got := logs.Len(); got != tc.immediate {
				t.Fatalf("%d lines written during the flood, want %d: %v", got, tc.immediate, logs.All())
			}
			want := tc.immediate + len(tc.held)
			deadline := time.Now().Add(5 * time.Second)
			for logs.Len() < want && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(2 * window) // nothing more comes
			if got := logs.Len(); got != want {
				t.Fatalf("%d lines in all, want %d: %v", got, want, logs.All())
			}
			for key, n := range tc.held {
				sums := logs.FilterField(zap.Int("suppressed", n)).FilterMessageSnippet("event not recorded: " + key).All()
				if len(sums) != 1 {
					t.Fatalf("no summary of %d held-back lines of %q: %v", n, key, logs.All())
				}
				suffix := fmt.Sprintf(" (and %s more like it in the last 200ms)", map[int]string{1234: "1,234", 4: "4", 2: "2"}[n])
				if s := sums[0]; s.Level != zapcore.ErrorLevel || !strings.HasSuffix(s.Message, suffix) {
					t.Errorf("summary %s %q, want an error ending %q", s.Level, s.Message, suffix)
				}
			}
		})
	}
}

func TestNextWindowWritesAgain(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.InfoLevel)
	l := lograte.New(zap.New(core), 100*time.Millisecond)
	defer l.Close()
	l.Warn("full", "store full")
	time.Sleep(300 * time.Millisecond)
	l.Warn("full", "store full")
	if logs.Len() != 2 {
		t.Fatalf("%d lines, want both of two lines a window apart: %v", logs.Len(), logs.All())
	}
}

func TestCloseWritesPendingSummaries(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.InfoLevel)
	l := lograte.New(zap.New(core), time.Hour)
	for range 3 {
		l.Error("full", "store full")
	}
	l.Close()
	l.Close()
	if logs.Len() != 2 || logs.All()[1].Message != "store full (and 2 more like it in the last 1h0m0s)" {
		t.Fatalf("after Close: %v, want the line and its summary", logs.All())
	}
	l.Error("full", "store full")
	if logs.Len() != 3 {
		t.Errorf("a line after Close was not written")
	}
}

func TestDisabledLevelCountsNothing(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.ErrorLevel)
	l := lograte.New(zap.New(core), time.Hour)
	for range 3 {
		l.Warn("full", "store full")
	}
	l.Close()
	if logs.Len() != 0 {
		t.Errorf("lines below the logger's level written: %v", logs.All())
	}
}
