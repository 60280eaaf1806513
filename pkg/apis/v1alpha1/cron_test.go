package v1alpha1

import (
	"testing"

	"github.com/robfig/cron/v3"
)

// cronCases are expressions with the error checkCron must report ("" for none).
var cronCases = []struct {
	expr, want string
}{
	{expr: "* * * * *"},
	{expr: "0 0 * * *"},
	{expr: "*/15 9-17 * * mon-fri"},
	{expr: "0,30 8 1,15 JAN,jul ?"},
	{expr: "5-10/2 */3 1-31 1-12 0-6"},
	{expr: "0 0 L * *", want: `failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax`},
	{expr: "@daily"},
	{expr: "@every 1h30m"},
	{expr: "@annually"},
	{expr: "TZ=Europe/Paris 0 9 * * *"},
	{expr: "CRON_TZ=Mars/Olympus 0 9 * * *", want: "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"},
	{expr: "", want: "empty spec string"},
	{expr: "0 0 * *", want: "expected exactly 5 fields, found 4: [0 0 * *]"},
	{expr: "0 0 * * * *", want: "expected exactly 5 fields, found 6: [0 0 * * * *]"},
	{expr: "61 * * * *", want: "end of range (61) above maximum (59): 61"},
	{expr: "0 25 * * *", want: "end of range (25) above maximum (23): 25"},
	{expr: "0 0 0 * *", want: "beginning of range (0) below minimum (1): 0"},
	{expr: "0 0 * * 7", want: "end of range (7) above maximum (6): 7"},
	{expr: "0 0 * foo *", want: `failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax`},
	{expr: "10-5 * * * *", want: "beginning of range (10) beyond end of range (5): 10-5"},
	{expr: "1-2-3 * * * *", want: "too many hyphens: 1-2-3"},
	{expr: "*/2/3 * * * *", want: "too many slashes: */2/3"},
	{expr: "*/0 * * * *", want: "step of range should be a positive number: */0"},
	{expr: "*/-1 * * * *", want: "negative number (-1) not allowed: -1"},
	{expr: "@fortnightly", want: "unrecognized descriptor: @fortnightly"},
	{expr: "@every soon", want: `failed to parse duration @every soon: time: invalid duration "soon"`},
}

func TestCheckCron(t *testing.T) {
	t.Parallel()
	for _, tc := range cronCases {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			got := ""
			if err := checkCron(tc.expr); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("checkCron(%q) = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

// TestCheckCronAgreesWithScheduler holds the syntax check to the scheduler
// the calendar source runs: same verdict, same words.
func TestCheckCronAgreesWithScheduler(t *testing.T) {
	t.Parallel()
	for _, tc := range cronCases {
		want := ""
		if _, err := cron.ParseStandard(tc.expr); err != nil {
			want = err.Error()
		}
		got := ""
		if err := checkCron(tc.expr); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("checkCron(%q) = %q, scheduler says %q", tc.expr, got, want)
		}
	}
}
