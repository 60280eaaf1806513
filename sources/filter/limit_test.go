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

func TestMatchContextBoundsAbandonedEvaluations(t *testing.T) {
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
	busy := false
	for range cap(f.slots) + 1 {
		if _, err := f.MatchContext(context.Background(), data, 10*time.Millisecond); errors.Is(err, ErrBusy) {
			busy = true
		}
	}
	if !busy {
		t.Fatalf("%d runaway evaluations ran at once; want at most %d, then ErrBusy", cap(f.slots)+1, cap(f.slots))
	}
}
