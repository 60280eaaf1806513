package sensor

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
	"github.com/flintevents/flint/triggers"
)

// testClock is a settable test clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

func TestConditionsResetPrevious(t *testing.T) {
	t.Parallel()
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name, cron, tz string
		now            string
		want           string // RFC 3339 in UTC; "" for none
	}{
		{"every minute", "* * * * *", "", "2026-03-04T10:20:30Z", "2026-03-04T10:20:00Z"},
		{"exactly on a tick", "0 * * * *", "", "2026-03-04T10:00:00Z", "2026-03-04T10:00:00Z"},
		{"hourly", "0 * * * *", "", "2026-03-04T10:59:59Z", "2026-03-04T10:00:00Z"},
		{"daily, before today's tick", "30 9 * * *", "", "2026-03-04T09:29:00Z", "2026-03-03T09:30:00Z"},
		{"daily in a time zone", "0 9 * * *", "Asia/Tokyo", "2026-03-04T01:00:00Z", "2026-03-04T00:00:00Z"},
		{"daily in a time zone, before the tick", "0 9 * * *", "Asia/Tokyo", "2026-03-03T23:00:00Z", "2026-03-03T00:00:00Z"},
		{"across a DST change", "0 2 * * *", "America/New_York", "2026-03-09T12:00:00Z", "2026-03-09T06:00:00Z"},
		{"weekly", "0 0 * * 1", "", "2026-03-04T00:00:00Z", "2026-03-02T00:00:00Z"},
		{"yearly", "0 0 1 1 *", "", "2026-03-04T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"during one hour only", "* 0 * * *", "", "2026-03-04T05:00:00Z", "2026-03-04T00:59:00Z"},
		{"leap day", "0 0 29 2 *", "", "2026-03-04T00:00:00Z", "2024-02-29T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := newConditionsReset(v1alpha1.ConditionsResetCriteria{ByTime: &v1alpha1.ConditionsResetByTime{Cron: tt.cron, Timezone: tt.tz}}, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			got := r.previous(utc(tt.now))
			var want time.Time
			if tt.want != "" {
				want = utc(tt.want)
			}
			if !got.Equal(want) {
				t.Errorf("previous tick of %q (%s) at %s = %s, want %s", tt.cron, tt.tz, tt.now, got.UTC(), want)
			}
		})
	}
}

func TestConditionsReset(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type step struct {
		at       string
		instance int
		id, dep  string
	}
	// Midnight UTC is 09:00 in Tokyo.
	tokyo9 := v1alpha1.ConditionsResetCriteria{ByTime: &v1alpha1.ConditionsResetByTime{Cron: "0 9 * * *", Timezone: "Asia/Tokyo"}}
	hourly := v1alpha1.ConditionsResetCriteria{ByTime: &v1alpha1.ConditionsResetByTime{Cron: "0 * * * *"}}
	tests := []struct {
		name   string
		resets []v1alpha1.ConditionsResetCriteria
		steps  []step
		want   []string
	}{{
		name:   "a tick between a and b discards a",
		resets: []v1alpha1.ConditionsResetCriteria{tokyo9},
		steps:  []step{{"2026-03-03T23:30:00Z", 0, "1", "a"}, {"2026-03-04T00:30:00Z", 1, "2", "b"}, {"2026-03-04T00:40:00Z", 0, "3", "a"}},
		want:   []string{`{"a":"3","b":"2"}`},
	}, {
		name:   "no tick between a and b: the schedule's time zone counts",
		resets: []v1alpha1.ConditionsResetCriteria{tokyo9},
		steps:  []step{{"2026-03-04T08:30:00Z", 0, "1", "a"}, {"2026-03-04T09:30:00Z", 1, "2", "b"}},
		want:   []string{`{"a":"1","b":"2"}`},
	}, {
		name:   "any of several schedules resets",
		resets: []v1alpha1.ConditionsResetCriteria{tokyo9, hourly},
		steps:  []step{{"2026-03-04T08:30:00Z", 0, "1", "a"}, {"2026-03-04T09:30:00Z", 1, "2", "b"}, {"2026-03-04T09:31:00Z", 0, "3", "a"}},
		want:   []string{`{"a":"3","b":"2"}`},
	}, {
		name:   "events after the tick are kept until the next one",
		resets: []v1alpha1.ConditionsResetCriteria{hourly},
		steps:  []step{{"2026-03-04T10:00:00Z", 0, "1", "a"}, {"2026-03-04T10:59:59Z", 1, "2", "b"}},
		want:   []string{`{"a":"1","b":"2"}`},
	}, {
		name:  "without conditionsReset events wait for ever",
		steps: []step{{"2026-03-04T08:30:00Z", 0, "1", "a"}, {"2027-03-04T09:30:00Z", 1, "2", "b"}},
		want:  []string{`{"a":"1","b":"2"}`},
	}}
	for _, store := range []string{"memory", "kv"} {
		for _, tt := range tests {
			t.Run(store+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				tg, url := serve(t, http.StatusOK)
				s := andSensor(url, "", tt.resets...)
				c := &testClock{}
				opts := Options{Deps: triggers.Deps{Now: c.Now}}
				var inst []*Sensor
				if store == "kv" {
					srv := natsdtest.Run(t)
					for range 2 {
						opts.Store = NewKVStore(kvJetStream(t, srv), BucketName("default", "kv-test"), KVOptions{})
						inst = append(inst, mustNewWith(t, s, opts))
					}
				} else {
					one := mustNewWith(t, s, opts)
					inst = []*Sensor{one, one}
				}
				for _, st := range tt.steps {
					c.Set(at(st.at))
					handle(t, inst[st.instance], depEvent(st.id, st.dep))
				}
				if got := bodies(tg); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Fatalf("target got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			})
		}
	}
}
