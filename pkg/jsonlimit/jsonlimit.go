// Package jsonlimit checks JSON text in one linear pass without recursion and
// refuses documents nested deeper than a limit, so that hostile input (a
// megabyte of `[`) costs time proportional to its size and a few hundred
// bytes of memory, never a deep stack. Sources check request bodies with it
// at the edge; the sensor engine checks event data before decoding it.
package jsonlimit

import (
	"errors"
	"fmt"
)

// DefaultMaxDepth is the nesting limit of a limit that is zero or negative:
// 1,000 levels of arrays and objects.
const DefaultMaxDepth = 1000

var (
	// ErrTooDeep is wrapped by the error of a document nested deeper than the limit.
	ErrTooDeep = errors.New("JSON nesting too deep")
	// ErrSyntax is wrapped by the error of text that is not one JSON value.
	ErrSyntax = errors.New("invalid JSON")
)

// Check reports whether data is exactly one JSON value (with optional
// whitespace around it) nested at most maxDepth levels deep; the error wraps
// ErrTooDeep or ErrSyntax. A maxDepth of zero or less means DefaultMaxDepth.
func Check(data []byte, maxDepth int) error {
	_, err := scan(data, maxDepth)
	return err
}

// CheckString is Check for a string.
func CheckString(data string, maxDepth int) error {
	_, err := scan(data, maxDepth)
	return err
}

// Compact checks data as Check does and, when it is valid, removes its
// insignificant whitespace in place and returns the compacted prefix of
// data. On error data is unchanged and returned as is with the error.
func Compact(data []byte, maxDepth int) ([]byte, error) {
	spaces, err := scan(data, maxDepth)
	if err != nil || spaces == 0 {
		return data, err
	}
	return data[:compactValid(data)], nil
}

// text is what the scanner reads.
type text interface{ ~string | ~[]byte }

// scan validates data and returns how many bytes of insignificant
// whitespace it holds. The containers open at each point are kept on an
// explicit stack of at most maxDepth bytes.
func scan[T text](data T, maxDepth int) (spaces int, err error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	var stack []byte // '{' or '[' per open container
	n := len(data)
	i := 0
	skip := func() {
		for i < n {
			switch data[i] {
			case ' ', '\t', '\n', '\r':
				i++
				spaces++
			default:
				return
			}
		}
	}
	syntax := func(what string) error {
		if i >= n {
			return fmt.Errorf("%w: unexpected end of input", ErrSyntax)
		}
		return fmt.Errorf("%w: %s at byte %d", ErrSyntax, what, i)
	}
	// key reads `"name" :` inside an object.
	key := func() error {
		skip()
		if i >= n || data[i] != '"' {
			return syntax("expected a string key")
		}
		end, ok := stringEnd(data, i+1)
		if !ok {
			return syntax("invalid string")
		}
		i = end
		skip()
		if i >= n || data[i] != ':' {
			return syntax("expected ':'")
		}
		i++
		return nil
	}

value:
	skip()
	if i >= n {
		return spaces, syntax("")
	}
	switch c := data[i]; {
	case c == '{' || c == '[':
		if len(stack) == maxDepth {
			return spaces, fmt.Errorf("%w: more than %d levels of nesting (at byte %d)", ErrTooDeep, maxDepth, i)
		}
		stack = append(stack, c)
		i++
		skip()
		if i < n && (data[i] == '}' && c == '{' || data[i] == ']' && c == '[') {
			stack = stack[:len(stack)-1]
			i++
			goto next
		}
		if c == '{' {
			if err := key(); err != nil {
				return spaces, err
			}
		}
		goto value
	case c == '"':
		end, ok := stringEnd(data, i+1)
		if !ok {
			return spaces, syntax("invalid string")
		}
		i = end
	case c == '-' || c >= '0' && c <= '9':
		end, ok := numberEnd(data, i)
		if !ok {
			return spaces, syntax("invalid number")
		}
		i = end
	case c == 't':
		if !literal(data, i, "true") {
			return spaces, syntax("invalid literal")
		}
		i += 4
	case c == 'f':
		if !literal(data, i, "false") {
			return spaces, syntax("invalid literal")
		}
		i += 5
	case c == 'n':
		if !literal(data, i, "null") {
			return spaces, syntax("invalid literal")
		}
		i += 4
	default:
		return spaces, syntax(fmt.Sprintf("unexpected %q", c))
	}

next:
	skip()
	if len(stack) == 0 {
		if i != n {
			return spaces, syntax("unexpected data after the value")
		}
		return spaces, nil
	}
	if i >= n {
		return spaces, syntax("")
	}
	top := stack[len(stack)-1]
	switch c := data[i]; {
	case c == ',':
		i++
		if top == '{' {
			if err := key(); err != nil {
				return spaces, err
			}
		}
		goto value
	case c == '}' && top == '{' || c == ']' && top == '[':
		stack = stack[:len(stack)-1]
		i++
		goto next
	default:
		if top == '{' {
			return spaces, syntax("expected ',' or '}'")
		}
		return spaces, syntax("expected ',' or ']'")
	}
}

// literal reports whether data holds word at i.
func literal[T text](data T, i int, word string) bool {
	if len(data)-i < len(word) {
		return false
	}
	for j := 0; j < len(word); j++ {
		if data[i+j] != word[j] {
			return false
		}
	}
	return true
}

// stringEnd returns the index just past the closing quote of the string
// whose contents start at i, checking its escapes and that it holds no
// control character.
func stringEnd[T text](data T, i int) (int, bool) {
	for i < len(data) {
		switch c := data[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i+1 >= len(data) {
				return i, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(data)-i < 6 {
					return i, false
				}
				for j := i + 2; j < i+6; j++ {
					if !isHex(data[j]) {
						return i, false
					}
				}
				i += 6
			default:
				return i, false
			}
		default:
			i++
		}
	}
	return i, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// numberEnd returns the index just past the number starting at i:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd[T text](data T, i int) (int, bool) {
	n := len(data)
	digits := func() bool {
		start := i
		for i < n && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i > start
	}
	if data[i] == '-' {
		i++
	}
	switch {
	case i < n && data[i] == '0':
		i++
	case !digits():
		return i, false
	}
	if i < n && data[i] == '.' {
		i++
		if !digits() {
			return i, false
		}
	}
	if i < n && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < n && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			return i, false
		}
	}
	return i, true
}

// compactValid removes the insignificant whitespace of the valid JSON in b
// and returns the new length; strings are copied whole, quote to quote.
func compactValid(b []byte) int {
	w, i := 0, 0
	for i < len(b) {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			end, _ := stringEnd(b, i+1)
			w += copy(b[w:], b[i:end])
			i = end
		default:
			b[w] = c
			w++
			i++
		}
	}
	return w
}
