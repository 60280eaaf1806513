package dev

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/flintevents/flint/broker"
)

const (
	// defaultDrainTimeout is Options.DrainTimeout's default.
	defaultDrainTimeout = 10 * time.Second
	// tempPrefix starts the name of every temporary data directory.
	tempPrefix = "flint-dev-"
	// storeSubdir is where the JetStream store lives inside a data directory.
	storeSubdir = "jetstream"
	// pidFile names the process that uses a temporary data directory.
	pidFile = "flint-dev.pid"
	// keptFile marks a temporary data directory kept because it holds undelivered
	// events, and says how to deliver them.
	keptFile = "UNDELIVERED"
	// deliveredFile replaces keptFile once a run on the kept directory delivered
	// everything it held.
	deliveredFile = "DELIVERED"
	// deadLetterPrefix starts the name of a broker's dead-letter stream.
	deadLetterPrefix = "deadletter_"
	// drainPoll is how often a drain looks for events still undelivered.
	drainPoll = 20 * time.Millisecond
)

// store is the data directory of one run: DataDir, or a temporary one (temp) that is
// deleted on exit unless it holds undelivered events. dir is empty with an external
// NATS server.
type store struct {
	dir  string
	temp bool
}

// openStore returns the data directory of a run. A temporary one is created under
// os.TempDir with a pid file; temporary directories that earlier runs left behind are
// removed when nothing was ever stored in them, and reported otherwise.
func openStore(opts Options, log *zap.Logger) (*store, error) {
	if opts.NATSURL != "" {
		return &store{}, nil
	}
	if opts.DataDir != "" {
		return &store{dir: opts.DataDir}, nil
	}
	sweepTempDirs(os.TempDir(), log)
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	return &store{dir: dir, temp: true}, nil
}

// release deletes a temporary data directory when no event in it is undelivered; with
// undelivered events (or an unknown count, -1) it keeps the directory, marks it and
// says how to deliver them. A DataDir is always kept.
func (s *store) release(log *zap.Logger, undelivered int) {
	if s.dir != "" && holdsDeadLetters(s.dir) {
		log.Warn("dead letters remain: events a trigger gave up on are kept in the data directory; list them with flint dlq list",
			zap.String("dataDir", s.dir), zap.String("list", "flint dlq list --data-dir "+s.dir))
		if s.temp && undelivered == 0 {
			undelivered = -1 // counted as delivered, yet the store holds them: keep it
		}
	}
	if !s.temp {
		s.updateNote(log, undelivered)
		return
	}
	if undelivered == 0 {
		if err := os.RemoveAll(s.dir); err != nil {
			log.Warn("removing the temporary data directory", zap.String("dataDir", s.dir), zap.Error(err))
		}
		return
	}
	how := writeNote(s.dir, undelivered)
	_ = os.Remove(filepath.Join(s.dir, pidFile))
	log.Warn("undelivered events kept: the temporary data directory is not deleted; run flint dev with --data-dir on it to deliver them",
		zap.String("dataDir", s.dir), zap.Int("undelivered", undelivered), zap.String("resume", how))
}

// updateNote brings the note of a directory kept for undelivered events up to
// date at the end of a run on it that counted them (undelivered not -1): once
// nothing is left to deliver, the note says so (deliveredFile) and later runs
// no longer name the directory; with events still undelivered it gives their
// new count. A directory that was never kept gets no note.
func (s *store) updateNote(log *zap.Logger, undelivered int) {
	kept := filepath.Join(s.dir, keptFile)
	delivered := filepath.Join(s.dir, deliveredFile)
	if undelivered < 0 || (!exists(kept) && !exists(delivered)) {
		return // not counted, or never kept
	}
	if undelivered != 0 {
		writeNote(s.dir, undelivered)
		_ = os.Remove(delivered)
		return
	}
	note := fmt.Sprintf("Every event kept here was delivered by flint dev --data-dir %s on %s.\nThis directory can be deleted.\n", s.dir, time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(delivered, []byte(note), 0o600); err != nil {
		log.Warn("writing the note of a delivered data directory", zap.String("dataDir", s.dir), zap.Error(err))
		return
	}
	if err := os.Remove(kept); err == nil {
		log.Info("every event kept in the data directory was delivered; its note is updated", zap.String("dataDir", s.dir))
	}
}

// writeNote writes the note of a directory kept for undelivered events (an
// unknown number when -1) and returns the command that delivers them.
func writeNote(dir string, undelivered int) string {
	count := "an unknown number of"
	if undelivered > 0 {
		count = strconv.Itoa(undelivered)
	}
	how := fmt.Sprintf("flint dev --data-dir %s", dir)
	note := fmt.Sprintf("%s accepted events were not delivered when flint dev stopped.\nDeliver them with: %s -f <the same files>\nDelete this directory to discard them.\n", count, how)
	_ = os.WriteFile(filepath.Join(dir, keptFile), []byte(note), 0o600)
	return how
}

// exists reports whether path names a file or directory.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// sweepTempDirs removes the temporary data directories in tmp of runs that no longer
// run and never stored an event, and names the others, which may hold undelivered
// events.
func sweepTempDirs(tmp string, log *zap.Logger) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		if running(dir) {
			continue
		}
		if exists(filepath.Join(dir, deliveredFile)) && !exists(filepath.Join(dir, keptFile)) && !holdsDeadLetters(dir) {
			continue // a kept directory whose events were all delivered since
		}
		if exists(filepath.Join(dir, keptFile)) || holdsEvents(dir) {
			log.Warn("a temporary data directory of an earlier flint dev may hold undelivered events; run flint dev with --data-dir on it to deliver them, or delete it",
				zap.String("dataDir", dir), zap.String("resume", "flint dev --data-dir "+dir))
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Debug("removing a stale temporary data directory", zap.String("dataDir", dir), zap.Error(err))
		}
	}
}

// running reports whether the process named in dir's pid file still runs.
func running(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// holdsEvents reports whether the JetStream store in dir holds any stream message
// data (a non-empty message block).
func holdsEvents(dir string) bool {
	return holdsMessages(dir, "")
}

// holdsDeadLetters reports whether the JetStream store in dir holds message data in
// a dead-letter stream.
func holdsDeadLetters(dir string) bool {
	return holdsMessages(dir, deadLetterPrefix)
}

// holdsMessages reports whether a stream whose name starts with prefix has a
// non-empty message block in the JetStream store in dir.
func holdsMessages(dir, prefix string) bool {
	found := false
	_ = filepath.WalkDir(filepath.Join(dir, storeSubdir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || found {
			return fs.SkipAll
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".blk") || filepath.Base(filepath.Dir(path)) != "msgs" {
			return nil
		}
		if !strings.HasPrefix(filepath.Base(filepath.Dir(filepath.Dir(path))), prefix) {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > 0 {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// drain waits, at most timeout, until every trigger consumer has delivered what the
// broker accepted.
// Dead letters are not waited for: they stay until replayed.
func drain(nc *nats.Conn, timeout time.Duration, log *zap.Logger) {
	n, _ := countStored(nc)
	if n == 0 {
		return
	}
	log.Info("delivering the events still in flight before stopping", zap.Int("undelivered", n), zap.Duration("atMost", timeout))
	deadline := time.Now().Add(timeout)
	for n != 0 && time.Now().Before(deadline) {
		time.Sleep(drainPoll)
		n, _ = countStored(nc)
	}
}

// countUndelivered is the number of stored events some trigger consumer has not
// acknowledged yet (pending or in flight), plus the dead letters; -1 when it
// cannot be read.
func countUndelivered(nc *nats.Conn) int {
	pending, dead := countStored(nc)
	if pending < 0 {
		return -1
	}
	return pending + dead
}

// countStored counts the stored events some trigger consumer has not acknowledged
// yet (pending or in flight), and the dead letters; pending is -1 when they cannot
// be read.
func countStored(nc *nats.Conn) (pending, dead int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return -1, 0
	}
	total := 0
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		if strings.HasPrefix(name, "KV_") || strings.HasPrefix(name, "OBJ_") {
			continue // state, not events
		}
		s, err := js.Stream(ctx, name)
		if err != nil {
			return -1, dead
		}
		if strings.HasPrefix(name, deadLetterPrefix) {
			// Dead letters wait for `flint dlq replay`: kept like undelivered events.
			dead += int(s.CachedInfo().State.Msgs)
			continue
		}
		infos := s.ListConsumers(ctx)
		for info := range infos.Info() {
			if broker.IsTriggerConsumer(info.Name) {
				total += int(info.NumPending) + info.NumAckPending
			}
		}
		if infos.Err() != nil {
			return -1, dead
		}
	}
	if names.Err() != nil {
		return -1, dead
	}
	return total, dead
}
