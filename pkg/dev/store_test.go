package dev

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestSweepTempDirs(t *testing.T) {
	t.Parallel()
	type dir struct {
		name  string
		files map[string]string // relative path → content
	}
	tests := []struct {
		name     string
		dir      dir
		kept     bool
		warnings int
	}{
		{name: "empty dir of a crashed run is removed", dir: dir{name: "flint-dev-1"}},
		{name: "dead pid and an empty store is removed", dir: dir{name: "flint-dev-2", files: map[string]string{
			pidFile: "999999999\n",
			"jetstream/jetstream/$G/streams/broker_default__default/msgs/1.blk": "",
		}}},
		{name: "running process is left alone", dir: dir{name: "flint-dev-3", files: map[string]string{
			pidFile: strconv.Itoa(os.Getpid()) + "\n",
			"jetstream/jetstream/$G/streams/broker_default__default/msgs/1.blk": "events",
		}}, kept: true},
		{name: "stored events of a crashed run are kept and named", dir: dir{name: "flint-dev-4", files: map[string]string{
			pidFile: "999999999\n",
			"jetstream/jetstream/$G/streams/broker_default__default/msgs/1.blk": "events",
		}}, kept: true, warnings: 1},
		{name: "a dir kept for undelivered events is kept and named", dir: dir{name: "flint-dev-5", files: map[string]string{
			keptFile: "3 accepted events were not delivered",
		}}, kept: true, warnings: 1},
		{name: "a kept dir whose events were delivered since is left alone, unnamed", dir: dir{name: "flint-dev-7", files: map[string]string{
			deliveredFile: "Every event kept here was delivered",
			"jetstream/jetstream/$G/streams/broker_default__default/msgs/1.blk": "marker",
		}}, kept: true},
		{name: "a delivered dir that got undelivered events again is named", dir: dir{name: "flint-dev-8", files: map[string]string{
			deliveredFile: "Every event kept here was delivered",
			keptFile:      "2 accepted events were not delivered",
		}}, kept: true, warnings: 1},
		{name: "other temp dirs are not touched", dir: dir{name: "flint-e2e-6"}, kept: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			path := filepath.Join(tmp, tc.dir.name)
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, content := range tc.dir.files {
				p := filepath.Join(path, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			core, logs := observer.New(zapcore.WarnLevel)
			sweepTempDirs(tmp, zap.New(core))
			_, err := os.Stat(path)
			if kept := err == nil; kept != tc.kept {
				t.Errorf("dir kept = %v, want %v", kept, tc.kept)
			}
			if got := logs.Len(); got != tc.warnings {
				t.Fatalf("%d warnings, want %d: %v", got, tc.warnings, logs.All())
			}
			if tc.warnings > 0 {
				if got := logs.All()[0].ContextMap()["dataDir"]; got != path {
					t.Errorf("warning names dataDir %v, want %s", got, path)
				}
			}
		})
	}
}

func TestStoreRelease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		temp        bool
		undelivered int
		kept        bool
	}{
		{name: "temporary and delivered: removed", temp: true, undelivered: 0},
		{name: "temporary with undelivered events: kept", temp: true, undelivered: 3, kept: true},
		{name: "temporary and unknown: kept", temp: true, undelivered: -1, kept: true},
		{name: "data dir: always kept", temp: false, undelivered: 0, kept: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "flint-dev-x")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			core, logs := observer.New(zapcore.WarnLevel)
			(&store{dir: dir, temp: tc.temp}).release(zap.New(core), tc.undelivered)
			_, err := os.Stat(dir)
			if kept := err == nil; kept != tc.kept {
				t.Fatalf("dir kept = %v, want %v", kept, tc.kept)
			}
			if !tc.kept || !tc.temp {
				if logs.Len() != 0 {
					t.Errorf("unexpected warnings: %v", logs.All())
				}
				return
			}
			if logs.Len() != 1 || logs.All()[0].ContextMap()["resume"] != "flint dev --data-dir "+dir {
				t.Errorf("want one warning naming how to resume, got %v", logs.All())
			}
			if _, err := os.Stat(filepath.Join(dir, keptFile)); err != nil {
				t.Errorf("kept dir has no %s note: %v", keptFile, err)
			}
		})
	}
}
