package filter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMatchContextTimeLimit(t *testing.T) {
	t.Parallel()
	list := make([]string, 300)
	for i := range list {
		list[i] = fmt.Sprint(i)
	}
	data := []byte(`{"list":[` + strings.Join(list, ",") + `],"kind":"order"}`)
	f, err := Compile(`all(list, {all(list, {all(list, {all(list, {true})})})})`)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	pass, err := f.MatchContext(context.Background(), data, 100*time.Millisecond)
	if pass || !errors.Is(err, ErrTimeout) {
		t.Fatalf("MatchContext = %v, %v; want false and ErrTimeout", pass, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("MatchContext took %s, want about the 100ms limit", took)
	}

	quick, err := Compile(`kind == "order"`)
	if err != nil {
		t.Fatal(err)
	}
	if pass, err := quick.MatchContext(context.Background(), data, 0); !pass || err != nil {
		t.Fatalf("MatchContext of a quick expression = %v, %v; want true", pass, err)
	}
}

// TestMatchContextAbandonedEvaluationsStop checks that an evaluation past
// its limit stops at the next step of its loops and frees its slot, and that
// when every slot is held (by slow builtins) the next one is refused.
func TestMatchContextAbandonedEvaluationsStop(t *testing.T) {
	t.Parallel()
	list := make([]string, 300)
	for i := range list {
		list[i] = fmt.Sprint(i)
	}
	data := []byte(`{"list":[` + strings.Join(list, ",") + `]}`)
	f, err := Compile(`all(list, {all(list, {all(list, {all(list, {true})})})})`)
	if err != nil {
		t.Fatal(err)
	}
	for range cap(f.slots) + 1 {
		if _, err := f.MatchContext(context.Background(), data, 10*time.Millisecond); !errors.Is(err, ErrTimeout) {
			t.Fatalf("MatchContext = %v, want ErrTimeout", err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(f.slots) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d abandoned evaluations still run a second after their limit", len(f.slots))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range cap(f.slots) {
		f.slots <- struct{}{}
	}
	if _, err := f.MatchContext(context.Background(), data, 10*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("MatchContext with every slot held = %v, want ErrBusy", err)
	}
}

// TestMatchBoundsOutput checks that sprig's functions and repeat refuse to
// build a result beyond the output limit instead of taking the source down.
func TestMatchBoundsOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr, want string
	}{
		{`len(sprig.indent(1500000000, "x")) > 0`, "indent: output of 1500000001 bytes exceeds the limit of 4194304 bytes"},
		{`len(sprig.randAlphaNum(1500000000)) > 0`, "randAlphaNum: output of 1500000000 bytes exceeds the limit of 4194304 bytes"},
		{`len(sprig.replace("x", sprig.repeat(1000, "y"), s)) > 0`, "replace: output of 4194304000 bytes exceeds the limit of 4194304 bytes"},
		{`len(repeat(s, 1000)) > 0`, "repeat: output of 4194304000 bytes exceeds the limit of 4194304 bytes"},
	}
	data := []byte(`{"s":"` + strings.Repeat("x", 4<<20) + `"}`)
	for _, tc := range tests {
		f, err := Compile(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if pass, err := f.MatchContext(context.Background(), data, time.Minute); pass || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %v, %v; want an error with %q", tc.expr, pass, err, tc.want)
		}
	}
	f, err := Compile(`sprig.indent(2, "a") == "  a" && repeat("ab", 2) == "abab"`)
	if err != nil {
		t.Fatal(err)
	}
	if pass, err := f.Match([]byte(`{}`)); !pass || err != nil {
		t.Errorf("bounded functions below the limit = %v, %v; want true", pass, err)
	}
}
