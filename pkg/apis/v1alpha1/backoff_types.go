package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Backoff describes a retry schedule: an initial duration multiplied by factor
// at each of steps attempts, with jitter. Schedule reads it with Argo's
// defaults for what it leaves out; every reader goes through it.
type Backoff struct {
	// Duration is the initial wait, in nanoseconds or as a Go duration string ("1s").
	Duration *Int64OrString `json:"duration,omitempty"`
	// Factor multiplies the duration at each step.
	Factor *Amount `json:"factor,omitempty"`
	// Jitter is the random fraction added to each wait.
	Jitter *Amount `json:"jitter,omitempty"`
	// Steps is the number of attempts.
	Steps int32 `json:"steps,omitempty"`
}

// Amount is a decimal number kept as written, as Argo's `factor` and `jitter`.
type Amount struct {
	Value []byte `json:"value"`
}

// NewAmount returns the Amount written as s.
func NewAmount(s string) Amount {
	return Amount{Value: []byte(s)}
}

// UnmarshalJSON keeps the number as written; a quoted number is unquoted.
func (a *Amount) UnmarshalJSON(value []byte) error {
	v := bytes.TrimSpace(value)
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("decoding amount: %w", err)
		}
		v = []byte(s)
	}
	a.Value = append([]byte(nil), v...)
	return nil
}

// MarshalJSON writes the number as it was written.
func (a Amount) MarshalJSON() ([]byte, error) {
	if len(a.Value) == 0 {
		return []byte("0"), nil
	}
	return a.Value, nil
}

// Float64 parses the amount.
func (a *Amount) Float64() (float64, error) {
	f, err := strconv.ParseFloat(string(a.Value), 64)
	if err != nil {
		return 0, fmt.Errorf("parsing amount %q: %w", a.Value, err)
	}
	return f, nil
}

// Int64OrStringType tells which member of an Int64OrString is set.
type Int64OrStringType int64

const (
	// Int64 means the Int64OrString holds an int64.
	Int64 Int64OrStringType = iota
	// String means the Int64OrString holds a string.
	String
)

// Int64OrString holds either an integer or a string, as Argo's backoff `duration`.
type Int64OrString struct {
	Type     Int64OrStringType `json:"type"`
	Int64Val int64             `json:"int64Val,omitempty"`
	StrVal   string            `json:"strVal,omitempty"`
}

// FromString returns an Int64OrString holding s.
func FromString(s string) Int64OrString {
	return Int64OrString{Type: String, StrVal: s}
}

// FromInt64 returns an Int64OrString holding i.
func FromInt64(i int64) Int64OrString {
	return Int64OrString{Type: Int64, Int64Val: i}
}

// UnmarshalJSON accepts a JSON number or string.
func (v *Int64OrString) UnmarshalJSON(value []byte) error {
	b := bytes.TrimSpace(value)
	if len(b) > 0 && b[0] == '"' {
		v.Type = String
		if err := json.Unmarshal(b, &v.StrVal); err != nil {
			return fmt.Errorf("decoding int64 or string: %w", err)
		}
		return nil
	}
	v.Type = Int64
	if err := json.Unmarshal(b, &v.Int64Val); err != nil {
		return fmt.Errorf("decoding int64 or string: %w", err)
	}
	return nil
}

// MarshalJSON writes the member that is set.
func (v Int64OrString) MarshalJSON() ([]byte, error) {
	if v.Type == String {
		return json.Marshal(v.StrVal)
	}
	return json.Marshal(v.Int64Val)
}

// Duration interprets the value as Argo does: an integer is nanoseconds, a
// string is an integer of nanoseconds or a Go duration ("1s", "3m").
func (v *Int64OrString) Duration() (time.Duration, error) {
	if v.Type != String {
		return time.Duration(v.Int64Val), nil
	}
	if i, err := strconv.ParseInt(v.StrVal, 10, 64); err == nil {
		return time.Duration(i), nil
	}
	d, err := time.ParseDuration(v.StrVal)
	if err != nil {
		return 0, fmt.Errorf("parsing duration %q: %w", v.StrVal, err)
	}
	return d, nil
}
