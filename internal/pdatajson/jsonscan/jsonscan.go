// Package jsonscan walks JSON text quickly: it validates a document and bounds its nesting in
// one pass, and skips or splits values of text already validated. It accepts exactly what
// gjson.Valid accepts (RFC 8259 grammar; bytes of strings are not checked for UTF-8), so the
// engine's validation does not change when it stops calling gjson for it.
//
// Strings, most of an event's bytes, are crossed eight bytes at a time: a word without a quote,
// a backslash or a control byte is skipped whole.
package jsonscan

import (
	"math/bits"
	"strings"

	"github.com/tidwall/gjson"
)

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special flags the bytes of w that end a run of plain string bytes: '"', '\\' and those below
// 0x20. Borrows only run towards higher bytes, so the lowest flag is always a true one.
func special(w uint64) uint64 {
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return (((q - ones) &^ q) | ((b - ones) &^ b) | ((w - ones*0x20) &^ w)) & highs
}

// load64 reads 8 bytes little-endian (the compiler merges the loads into one).
func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// stop is the index of the first '"', '\\' or control byte at or after i, len(s) if none.
func stop(s string, i int) int {
	for ; i+16 <= len(s); i += 16 { // two words a turn: fewer branches on long values
		m, n := special(load64(s, i)), special(load64(s, i+8))
		if m|n != 0 {
			if m != 0 {
				return i + bits.TrailingZeros64(m)/8
			}
			return i + 8 + bits.TrailingZeros64(n)/8
		}
	}
	for ; i+8 <= len(s); i += 8 {
		if m := special(load64(s, i)); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// String scans a string whose opening quote is at i-1: end is the index after the closing
// quote, escaped says a backslash occurs in it, ok says it is a valid JSON string.
func String(s string, i int) (end int, escaped, ok bool) {
	// Names and short values: the first 16 bytes a word at a time.
	for w := i; w+8 <= len(s) && w < i+16; w += 8 {
		if m := special(load64(s, w)); m != 0 {
			if k := w + bits.TrailingZeros64(m)/8; s[k] == '"' {
				return k + 1, false, true
			}
			return escapedString(s, i) // a backslash or a control byte first
		}
	}
	// Longer strings, most without escapes: find the quote and look for a backslash with vector
	// instructions, then for control bytes four words at a time.
	if q := strings.IndexByte(s[i:], '"'); q >= 0 {
		if span := s[i : i+q]; strings.IndexByte(span, '\\') < 0 && !hasControl(span) {
			return i + q + 1, false, true
		}
	}
	return escapedString(s, i)
}

// hasControl reports whether s holds a byte below 0x20.
func hasControl(s string) bool {
	for len(s) >= 32 { // four words a turn, with the bounds known from the loop condition
		w0, w1, w2, w3 := load64(s, 0), load64(s, 8), load64(s, 16), load64(s, 24)
		if ((w0-ones*0x20)&^w0|(w1-ones*0x20)&^w1|(w2-ones*0x20)&^w2|(w3-ones*0x20)&^w3)&highs != 0 {
			return true
		}
		s = s[32:]
	}
	for ; len(s) >= 8; s = s[8:] {
		if w := load64(s, 0); (w-ones*0x20)&^w&highs != 0 {
			return true
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return false
}

// escapedString is String for strings with a backslash or a fault.
func escapedString(s string, i int) (end int, escaped, ok bool) {
	for {
		i = stop(s, i)
		if i >= len(s) || s[i] < 0x20 {
			return i, escaped, false
		}
		if s[i] == '"' {
			return i + 1, escaped, true
		}
		escaped = true
		if i+1 >= len(s) {
			return i + 1, escaped, false
		}
		switch s[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			for k := 2; k < 6; k++ {
				if i+k >= len(s) || !isHex(s[i+k]) {
					return i + k, escaped, false
				}
			}
			i += 6
		default:
			return i + 1, escaped, false
		}
	}
}

// StringEnd is String for text already validated: end is the index after the quote that closes
// the string opened at i-1 (-1 if none), escaped says a backslash occurs in it. It does not
// look for what would make the string invalid. Most strings (names, short values) end within
// 16 bytes: those are read two words at a time; longer ones are searched with
// strings.IndexByte (vector instructions).
func StringEnd(s string, i int) (end int, escaped bool) {
	for w := i; w+8 <= len(s) && w < i+16; w += 8 {
		if m := quoteOrBackslash(load64(s, w)); m != 0 {
			if k := w + bits.TrailingZeros64(m)/8; s[k] == '"' {
				return k + 1, false
			}
			break // a backslash first: escapes need the full search
		}
	}
	return stringEndSearch(s, i)
}

// quoteOrBackslash flags the bytes of w that are '"' or '\\' (the lowest flag is exact).
func quoteOrBackslash(w uint64) uint64 {
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return ((q-ones)&^q | (b-ones)&^b) & highs
}

// stringEndSearch is StringEnd for long strings and strings with escapes.
func stringEndSearch(s string, i int) (end int, escaped bool) {
	for j := i; ; {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return -1, false
		}
		q := j + k
		bs := 0
		for q-1-bs >= i && s[q-1-bs] == '\\' {
			bs++
		}
		if bs%2 == 0 { // the quote is not escaped
			return q + 1, bs > 0 || strings.IndexByte(s[i:q], '\\') >= 0
		}
		j = q + 1
	}
}

// SkipSpace returns the index of the first byte at or after i that is not JSON whitespace.
func SkipSpace(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return i
		}
	}
	return i
}

// Number scans a number starting at i with gjson's grammar: end is the index after it.
func Number(s string, i int) (end int, ok bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i >= len(s) || s[i] < '0' || s[i] > '9':
		return i, false
	case s[i] == '0':
		i++
	default:
		i = digits(s, i)
	}
	if i < len(s) && s[i] == '.' {
		if i+1 >= len(s) || s[i+1] < '0' || s[i+1] > '9' {
			return i + 1, false
		}
		i = digits(s, i+1)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return i, false
		}
		i = digits(s, i)
	}
	return i, true
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// literal checks that word (true, false or null) is at i.
func literal(s string, i int, word string) (end int, ok bool) {
	if len(s)-i < len(word) {
		return i, false
	}
	for k := 0; k < len(word); k++ {
		if s[i+k] != word[k] {
			return i, false
		}
	}
	return i + len(word), true
}

// Skip returns the index after the value that starts at i (no leading space) in valid JSON,
// or -1 when the text there is not a value. Containers are crossed without recursion;
// strings are not checked (see StringEnd).
func Skip(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		i, _ = StringEnd(s, i+1)
		return i
	case '{', '[':
		return skipContainer(s, i)
	}
	end, ok := scalarEnd(s, i)
	if !ok {
		return -1
	}
	return end
}

// scalarEnd scans the literal (true, false, null) or number at i.
func scalarEnd(s string, i int) (int, bool) {
	switch s[i] {
	case 't':
		return literal(s, i, "true")
	case 'f':
		return literal(s, i, "false")
	case 'n':
		return literal(s, i, "null")
	}
	return Number(s, i)
}

// skipContainer finds the bracket closing the one at i by counting brackets outside strings.
func skipContainer(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '"':
			end, _ := StringEnd(s, i+1)
			if end < 0 {
				return -1
			}
			i = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// Elements calls fn with the start and end of each element of the array (or each member value
// of the object) at s[i:], in order, until fn returns false. It reports false when the text
// is not a well-formed container, which valid JSON never is (strings are not checked).
func Elements(s string, i int, fn func(start, end int) bool) bool {
	return each(s, i, func(_, _, start, end int) bool { return fn(start, end) })
}

// Members is Elements for an object, with each member's name decoded as gjson decodes it; it
// reports false for anything but a well-formed object.
func Members(s string, i int, fn func(name string, start, end int) bool) bool {
	if i >= len(s) || s[i] != '{' {
		return false
	}
	return each(s, i, func(keyStart, keyEnd, start, end int) bool {
		name := s[keyStart+1 : keyEnd-1]
		if strings.IndexByte(name, '\\') >= 0 {
			name = gjson.Parse(s[keyStart:keyEnd]).Str
		}
		return fn(name, start, end)
	})
}

// each walks the container at s[i:]: for an object keyStart and keyEnd delimit each member's
// quoted name (-1 in an array), start and end its value.
func each(s string, i int, fn func(keyStart, keyEnd, start, end int) bool) bool {
	if i >= len(s) || (s[i] != '[' && s[i] != '{') {
		return false
	}
	obj := s[i] == '{'
	i = SkipSpace(s, i+1)
	if i < len(s) && (s[i] == ']' || s[i] == '}') {
		return true
	}
	for {
		keyStart, keyEnd := -1, -1
		if obj {
			if i >= len(s) || s[i] != '"' {
				return false
			}
			keyStart = i
			keyEnd, _ = StringEnd(s, i+1)
			if i = SkipSpace(s, keyEnd); keyEnd < 0 || i >= len(s) || s[i] != ':' {
				return false
			}
			i = SkipSpace(s, i+1)
		}
		end := Skip(s, i)
		if end < 0 || !fn(keyStart, keyEnd, i, end) {
			return end >= 0
		}
		if i = SkipSpace(s, end); i >= len(s) {
			return false
		}
		switch s[i] {
		case ',':
			i = SkipSpace(s, i+1)
		case ']', '}':
			return true
		default:
			return false
		}
	}
}
