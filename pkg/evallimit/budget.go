// Package evallimit bounds what the functions of user code build: the
// functions of Lua, jq, expr and templates that make a string or a list
// larger than their arguments (string.rep, sprig's indent, replace, join…)
// work out the size of their result before they allocate it and refuse it
// beyond MaxResult bytes, or once the results of one evaluation together
// pass PerEvaluation bytes, so that no single call can take the process down.
package evallimit

import (
	"errors"
	"fmt"
	"math"
)

const (
	// MaxResult bounds one string or list a function of user code builds (4 MiB).
	MaxResult = 4 << 20
	// PerEvaluation bounds what the functions of one evaluation build
	// together (64 MiB).
	PerEvaluation = 64 << 20
	// MaxList bounds the elements of a list a function builds.
	MaxList = 100_000
)

// ErrExceeded is wrapped by every refusal of a result beyond the limits.
var ErrExceeded = errors.New("evaluation output limit exceeded")

// Error is a refused result: what the function would have built and what
// was left of the limit.
type Error struct {
	// Func names the function, as its author writes it.
	Func string
	// Size is the size of the result in bytes, or what was measured of it
	// before measuring stopped past the limit (AtLeast).
	Size    int64
	AtLeast bool
	// Left is what was left of PerEvaluation when the result fits MaxResult.
	Left    int64
	PerEval bool
	// Limit is the limit passed when it is not MaxResult.
	Limit int64
}

func (e *Error) Error() string {
	of := "of"
	if e.AtLeast {
		of = "of at least"
	}
	if e.PerEval {
		return fmt.Sprintf("%s: output %s %d bytes exceeds the %d bytes left of the limit of %d bytes per evaluation",
			e.Func, of, e.Size, e.Left, PerEvaluation)
	}
	limit := e.Limit
	if limit == 0 {
		limit = MaxResult
	}
	return fmt.Sprintf("%s: output %s %d bytes exceeds the limit of %d bytes", e.Func, of, e.Size, limit)
}

// Unwrap returns ErrExceeded.
func (e *Error) Unwrap() error { return ErrExceeded }

// Budget is what the functions of one evaluation may still build. One
// evaluation runs on one goroutine, so it needs no lock; the zero value is a
// fresh budget.
type Budget struct {
	used int64
	// Refused is the last refusal, for a runtime that keeps only the text
	// of the errors its functions raise.
	Refused error
}

// Charge accounts for a result of size bytes that fn is about to build, or
// refuses it.
func (b *Budget) Charge(fn string, size int64) error {
	return b.ChargeMeasured(fn, size, false)
}

// ChargeMeasured is Charge for a size that may be only what was measured
// before measuring stopped past a limit (atLeast).
func (b *Budget) ChargeMeasured(fn string, size int64, atLeast bool) error {
	if size > MaxResult {
		b.Refused = &Error{Func: fn, Size: size, AtLeast: atLeast}
		return b.Refused
	}
	if left := PerEvaluation - b.used; size > left {
		b.Refused = &Error{Func: fn, Size: size, AtLeast: atLeast, Left: left, PerEval: true}
		return b.Refused
	}
	b.used += max(size, 0)
	return nil
}

// Left is what the evaluation may still build.
func (b *Budget) Left() int64 { return PerEvaluation - b.used }

// Add and Mul are + and * on sizes, saturating instead of overflowing; Mul
// of a negative is 0.
func Add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Mul is a * b on sizes (see Add).
func Mul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
