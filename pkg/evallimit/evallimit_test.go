package evallimit

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestBudgetCharge(t *testing.T) {
	t.Parallel()
	var b Budget
	tests := []struct {
		size    int64
		atLeast bool
		want    string
	}{
		{size: 1500000000, want: "f: output of 1500000000 bytes exceeds the limit of 4194304 bytes"},
		{size: 5000000, atLeast: true, want: "f: output of at least 5000000 bytes exceeds the limit of 4194304 bytes"},
		{size: math.MaxInt64, want: fmt.Sprintf("f: output of %d bytes exceeds the limit of 4194304 bytes", int64(math.MaxInt64))},
	}
	for _, tc := range tests {
		err := b.ChargeMeasured("f", tc.size, tc.atLeast)
		if err == nil || err.Error() != tc.want || !errors.Is(err, ErrExceeded) || b.Refused != err {
			t.Errorf("ChargeMeasured(%d) = %v, want %s wrapping ErrExceeded", tc.size, err, tc.want)
		}
	}
	for range 16 {
		if err := b.Charge("f", MaxResult); err != nil {
			t.Fatalf("Charge within the budget = %v", err)
		}
	}
	want := "f: output of 1 bytes exceeds the 0 bytes left of the limit of 67108864 bytes per evaluation"
	if err := b.Charge("f", 1); err == nil || err.Error() != want {
		t.Errorf("Charge past the budget = %v, want %s", err, want)
	}
}

func TestSizes(t *testing.T) {
	t.Parallel()
	cycle := map[string]any{}
	cycle["self"] = cycle
	shared := []any{"xxxx"}
	for range 40 {
		shared = []any{shared, shared}
	}
	var deep any = "x"
	for range 1000 {
		deep = map[string]any{"a": deep}
	}
	tests := []struct {
		name string
		got  int64
		min  int64
		max  int64
	}{
		{"string", PrintedSize("abc", MaxResult), 3, 8},
		{"list", PrintedSize([]any{"a", 1, true, nil}, MaxResult), 10, 200},
		{"a map nested 1000 deep", PrintedSize(deep, MaxResult), 1000, 20000},
		{"a map that contains itself", PrintedSize(cycle, MaxResult), MaxResult + 1, math.MaxInt64},
		{"a list sharing itself 2⁴⁰ times", PrintedSize(shared, MaxResult), MaxResult + 1, math.MaxInt64},
		{"format widths", FormattedSize("%999999d|%.5f", []any{1, 2.0}, MaxResult), 999999 + 5, 999999 + 5 + 200},
		{"a width past fmt's", FormattedSize("%1500000000d", []any{1}, MaxResult), 1e6, 1e6 + 100},
		{"a width from the arguments", FormattedSize("%*d", []any{1 << 30, 1}, MaxResult), 1 << 30, math.MaxInt64},
	}
	for _, tc := range tests {
		if tc.got < tc.min || tc.got > tc.max {
			t.Errorf("%s: size %d, want within [%d, %d]", tc.name, tc.got, tc.min, tc.max)
		}
	}
}

func TestWrap(t *testing.T) {
	t.Parallel()
	var b Budget
	stopped := false
	g := Guard{Budget: func() *Budget { return &b }, Check: func() error {
		if stopped {
			return errors.New("stopped")
		}
		return nil
	}}
	join := Wrap(g, "cat", func(sep string, parts ...string) string {
		out := ""
		for i, p := range parts {
			if i > 0 {
				out += sep
			}
			out += p
		}
		return out
	}, func(a []any) (int64, error) { return int64(len(a)), nil }, false).(func(string, ...string) string)
	if got := join("-", "a", "b"); got != "a-b" {
		t.Errorf("wrapped variadic = %q, want a-b", got)
	}
	refused := func(f func()) (err error) {
		defer func() { err, _ = recover().(error) }()
		f()
		return nil
	}
	big := Wrap(g, "big", func() string { return "" }, func([]any) (int64, error) { return MaxResult + 1, nil }, false).(func() string)
	if err := refused(func() { big() }); !errors.Is(err, ErrExceeded) {
		t.Errorf("a call past the limit panics with %v, want ErrExceeded", err)
	}
	stopped = true
	if err := refused(func() { join("-") }); err == nil || err.Error() != "stopped" {
		t.Errorf("a call after the evaluation stopped panics with %v, want its check's error", err)
	}
}
