package sensor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

func TestTimeFilterWindow(t *testing.T) {
	t.Parallel()
	// Argo Events' window test: six event times over one UTC day.
	day := func(h, m, s int) time.Time { return time.Date(2024, 7, 15, h, m, s, 0, time.UTC) }
	times := [6]time.Time{day(0, 0, 0), day(4, 5, 6), day(8, 9, 10), day(12, 13, 14), day(16, 17, 18), day(20, 21, 22)}
	tests := []struct {
		name        string
		start, stop string
		want        [6]bool
	}{
		{"start before stop", "08:09:10", "16:17:18", [6]bool{false, false, true, true, false, false}},
		{"stop before start wraps midnight", "16:17:18", "08:09:10", [6]bool{true, true, false, false, true, true}},
	}
	for _, tc := range tests {
		for i, at := range times {
			t.Run(fmt.Sprintf("%s/%s", tc.name, at.Format(time.TimeOnly)), func(t *testing.T) {
				t.Parallel()
				f, err := newTimeFilter(&v1alpha1.TimeFilter{Start: tc.start, Stop: tc.stop})
				if err != nil {
					t.Fatal(err)
				}
				v := f.eval(context.Background(), &input{ev: &event.Event{Context: event.Context{Time: at}}})
				if v.pass != tc.want[i] {
					t.Errorf("pass = %v, want %v (%s)", v.pass, tc.want[i], v.reason)
				}
			})
		}
	}
}

func TestTimeFilterTimezone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		start, stop string
		tz          string
		at          time.Time
		wantPass    bool
		wantReason  string
	}{
		// argo-events.md §7 item 16 and Argo Events' timezone tests.
		{name: "UTC by default", start: "09:00:00", stop: "17:00:00", at: time.Date(2024, 7, 15, 10, 0, 0, 0, time.UTC), wantPass: true},
		{name: "argo#16: New York 10:00 EDT passes", start: "09:00:00", stop: "17:00:00", tz: "America/New_York",
			at: time.Date(2024, 7, 15, 14, 0, 0, 0, time.UTC), wantPass: true},
		{name: "argo#16: New York 08:00 EDT is too early", start: "09:00:00", stop: "17:00:00", tz: "America/New_York",
			at:         time.Date(2024, 7, 15, 12, 0, 0, 0, time.UTC),
			wantReason: "time filter: 08:00:00 America/New_York is not in [09:00:00, 17:00:00)"},
		{name: "argo#16: New York 18:00 EDT is too late", start: "09:00:00", stop: "17:00:00", tz: "America/New_York",
			at:         time.Date(2024, 7, 15, 22, 0, 0, 0, time.UTC),
			wantReason: "time filter: 18:00:00 America/New_York is not in [09:00:00, 17:00:00)"},
		{name: "London summer time", start: "10:00:00", stop: "18:00:00", tz: "Europe/London",
			at: time.Date(2024, 7, 15, 10, 0, 0, 0, time.UTC), wantPass: true},
		{name: "Tokyo", start: "09:00:00", stop: "17:00:00", tz: "Asia/Tokyo",
			at: time.Date(2024, 7, 15, 1, 0, 0, 0, time.UTC), wantPass: true},
		{name: "argo#16: overnight window in New York", start: "22:00:00", stop: "06:00:00", tz: "America/New_York",
			at: time.Date(2024, 7, 15, 2, 0, 0, 0, time.UTC), wantPass: true},
		{name: "New York winter time", start: "09:00:00", stop: "17:00:00", tz: "America/New_York",
			at: time.Date(2024, 1, 15, 15, 0, 0, 0, time.UTC), wantPass: true},
		{name: "start is inclusive", start: "09:00:00", stop: "17:00:00",
			at: time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC), wantPass: true},
		{name: "stop is exclusive", start: "09:00:00", stop: "17:00:00",
			at:         time.Date(2024, 1, 15, 17, 0, 0, 0, time.UTC),
			wantReason: "time filter: 17:00:00 UTC is not in [09:00:00, 17:00:00)"},
		{name: "event time in another zone", start: "09:00:00", stop: "17:00:00",
			at: time.Date(2024, 1, 15, 18, 0, 0, 0, time.FixedZone("UTC-8", -8*3600)), wantReason: "time filter: 02:00:00 UTC is not in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := newTimeFilter(&v1alpha1.TimeFilter{Start: tc.start, Stop: tc.stop, Timezone: tc.tz})
			if err != nil {
				t.Fatal(err)
			}
			v := f.eval(context.Background(), &input{ev: &event.Event{Context: event.Context{Time: tc.at}}})
			if v.pass != tc.wantPass {
				t.Errorf("pass = %v, want %v (%s)", v.pass, tc.wantPass, v.reason)
			}
			if len(v.reason) < len(tc.wantReason) || v.reason[:len(tc.wantReason)] != tc.wantReason {
				t.Errorf("reason = %q, want %q", v.reason, tc.wantReason)
			}
		})
	}
}

func TestNewTimeFilterErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		filter  v1alpha1.TimeFilter
		wantErr string
	}{
		{name: "argo#16: invalid timezone", filter: v1alpha1.TimeFilter{Start: "09:00:00", Stop: "17:00:00", Timezone: "Invalid/Timezone"},
			wantErr: "timezone: invalid value: Invalid/Timezone; unknown time zone"},
		{name: "argo: seconds need two digits", filter: v1alpha1.TimeFilter{Start: "09:09:0", Stop: "19:19:19"},
			wantErr: "start: invalid value: 09:09:0; must be hh:mm:ss"},
		{name: "bad stop", filter: v1alpha1.TimeFilter{Start: "09:00:00", Stop: "25:00:00"},
			wantErr: "stop: invalid value: 25:00:00; must be hh:mm:ss"},
		{name: "stop equal to start", filter: v1alpha1.TimeFilter{Start: "09:00:00", Stop: "09:00:00"},
			wantErr: "start: start and stop must differ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newTimeFilter(&tc.filter)
			checkErr(t, err, tc.wantErr)
		})
	}
}
