// Package timefmt renders query-window times with a CCP "queryTimeFormat".
//
// It exists because CCP formats are not strftime or Go layouts: besides the
// two epoch keywords (UnixTimestamp, UnixTimestampInMills) they are .NET
// custom date-time format strings applied to a UTC DateTime with the
// invariant culture. Real connector files depend on the .NET details: "T",
// "Z", digits, "+", "-" are literals, "sss" prints the seconds again
// (Proofpoint POD "ss.sss"), "fff" is milliseconds and "K" is "Z" for UTC.
// Formats are compiled once into a token list; Format never panics.
package timefmt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultFormat is used when queryTimeFormat is empty. Microsoft documents
// only "ISO 8601 UTC"; this pattern is what most sampled pollers spell out.
const DefaultFormat = "yyyy-MM-ddTHH:mm:ssZ"

// Keywords recognised before .NET format parsing (case-insensitive).
const (
	UnixTimestamp        = "UnixTimestamp"
	UnixTimestampInMills = "UnixTimestampInMills"
)

// ErrFormat is wrapped by every Compile error; .NET would throw a
// FormatException for the same input.
var ErrFormat = errors.New("timefmt: invalid .NET date-time format")

type kind uint8

const (
	kLiteral kind = iota
	kUnixSeconds
	kUnixMillis
	kYear     // n = token length
	kMonth    // n: 1-2 digits, 3 abbreviated name, 4+ full name
	kDay      // n: 1-2 digits, 3 abbreviated weekday, 4+ full weekday
	kHour24   // n
	kHour12   // n
	kMinute   // n
	kSecond   // n
	kFraction // n digits, f
	kFractionTrim
	kAMPM // n
	kOffset
	kRoundTripZone
	kEra
)

type token struct {
	kind kind
	n    int
	lit  string
}

// Formatter is a compiled queryTimeFormat; obtain one with Compile. It is
// immutable and safe for concurrent use. The zero value renders "".
type Formatter struct {
	src    string
	tokens []token
}

// String returns the format the Formatter was compiled from.
func (f Formatter) String() string { return f.src }

// IsEpoch reports whether the format renders an integer epoch value
// (UnixTimestamp or UnixTimestampInMills).
func (f Formatter) IsEpoch() bool {
	return len(f.tokens) == 1 && (f.tokens[0].kind == kUnixSeconds || f.tokens[0].kind == kUnixMillis)
}

// standard maps .NET single-character standard formats to their invariant
// culture custom patterns.
var standard = map[byte]string{
	'd': "MM/dd/yyyy",
	'D': "dddd, dd MMMM yyyy",
	'f': "dddd, dd MMMM yyyy HH:mm",
	'F': "dddd, dd MMMM yyyy HH:mm:ss",
	'g': "MM/dd/yyyy HH:mm",
	'G': "MM/dd/yyyy HH:mm:ss",
	'm': "MMMM dd", 'M': "MMMM dd",
	'o': "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", 'O': "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
	'r': "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", 'R': "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
	's': "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
	't': "HH:mm",
	'T': "HH:mm:ss",
	'u': "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
	'U': "dddd, dd MMMM yyyy HH:mm:ss",
	'y': "yyyy MMMM", 'Y': "yyyy MMMM",
}

// Compile parses a queryTimeFormat. "" means DefaultFormat; the epoch
// keywords are matched case-insensitively; a single character is a .NET
// standard format; anything else is a .NET custom format.
func Compile(format string) (Formatter, error) {
	switch {
	case format == "":
		return Compile(DefaultFormat)
	case strings.EqualFold(format, UnixTimestamp):
		return Formatter{src: format, tokens: []token{{kind: kUnixSeconds}}}, nil
	case strings.EqualFold(format, UnixTimestampInMills):
		return Formatter{src: format, tokens: []token{{kind: kUnixMillis}}}, nil
	}
	custom := format
	if len(format) == 1 {
		p, ok := standard[format[0]]
		if !ok {
			return Formatter{}, fmt.Errorf("%w: %q is not a standard format", ErrFormat, format)
		}
		custom = p
	}
	toks, err := parseCustom(custom)
	if err != nil {
		return Formatter{}, err
	}
	return Formatter{src: format, tokens: toks}, nil
}

// MustCompile is Compile that panics on error (for constants and tests).
func MustCompile(format string) Formatter {
	f, err := Compile(format)
	if err != nil {
		panic(err)
	}
	return f
}

func repeatLen(s string, i int) int {
	c := s[i]
	n := 1
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

func parseCustom(s string) ([]token, error) {
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: kLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	add := func(t token) {
		flush()
		toks = append(toks, t)
	}
	for i := 0; i < len(s); {
		c := s[i]
		n := 1
		switch c {
		case 'y', 'M', 'd', 'H', 'h', 'm', 's', 't', 'z', 'g':
			n = repeatLen(s, i)
			add(specToken(c, n))
		case 'f', 'F':
			n = repeatLen(s, i)
			if n > 7 {
				return nil, fmt.Errorf("%w: %q: more than 7 fraction digits", ErrFormat, s)
			}
			k := kFraction
			if c == 'F' {
				k = kFractionTrim
			}
			add(token{kind: k, n: n})
		case 'K':
			add(token{kind: kRoundTripZone})
		case ':', '/':
			lit.WriteByte(c) // invariant culture separators
		case '\'', '"':
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				lit.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("%w: %q: cannot find a matching quote character", ErrFormat, s)
			}
			n = j - i + 1
		case '%':
			if i+1 >= len(s) || s[i+1] == '%' {
				return nil, fmt.Errorf("%w: %q: invalid %% specifier", ErrFormat, s)
			}
			// "%x" formats x as a one-character custom pattern.
			sub, err := parseCustom(s[i+1 : i+2])
			if err != nil {
				return nil, err
			}
			for _, t := range sub {
				if t.kind == kLiteral {
					lit.WriteString(t.lit)
				} else {
					add(t)
				}
			}
			n = 2
		case '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("%w: %q: trailing backslash", ErrFormat, s)
			}
			lit.WriteByte(s[i+1])
			n = 2
		default:
			lit.WriteByte(c)
		}
		i += n
	}
	flush()
	return toks, nil
}

func specToken(c byte, n int) token {
	switch c {
	case 'y':
		return token{kind: kYear, n: n}
	case 'M':
		return token{kind: kMonth, n: n}
	case 'd':
		return token{kind: kDay, n: n}
	case 'H':
		return token{kind: kHour24, n: min(n, 2)}
	case 'h':
		return token{kind: kHour12, n: min(n, 2)}
	case 'm':
		return token{kind: kMinute, n: min(n, 2)}
	case 's':
		return token{kind: kSecond, n: min(n, 2)}
	case 't':
		return token{kind: kAMPM, n: n}
	case 'z':
		return token{kind: kOffset, n: n}
	default: // 'g'
		return token{kind: kEra}
	}
}

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// Format renders t (converted to UTC). The zero Formatter renders nothing.
func (f Formatter) Format(t time.Time) string {
	return string(f.AppendFormat(make([]byte, 0, 32), t))
}

// AppendFormat is Format appending to dst. Each token kind has its own
// appender; the switch calls them directly (a table of functions would make
// dst escape, moving Format's buffer to the heap).
func (f Formatter) AppendFormat(dst []byte, t time.Time) []byte {
	t = t.UTC()
	for _, tk := range f.tokens {
		switch tk.kind {
		case kLiteral:
			dst = append(dst, tk.lit...)
		case kUnixSeconds:
			dst = strconv.AppendInt(dst, t.Unix(), 10)
		case kUnixMillis:
			dst = strconv.AppendInt(dst, t.UnixMilli(), 10)
		case kYear:
			dst = appendYear(dst, t, tk)
		case kMonth:
			dst = appendMonth(dst, t, tk)
		case kDay:
			dst = appendDay(dst, t, tk)
		case kHour24:
			dst = appendDigits(dst, t.Hour(), tk.n)
		case kHour12:
			dst = appendHour12(dst, t, tk)
		case kMinute:
			dst = appendDigits(dst, t.Minute(), tk.n)
		case kSecond:
			dst = appendDigits(dst, t.Second(), tk.n)
		case kFraction, kFractionTrim:
			dst = appendFraction(dst, t, tk)
		case kAMPM:
			dst = appendAMPM(dst, t, tk)
		case kOffset:
			dst = appendOffset(dst, tk)
		case kRoundTripZone:
			dst = append(dst, 'Z')
		case kEra:
			dst = append(dst, "A.D."...)
		}
	}
	return dst
}

// appendYear: "y" and "yy" are the year within its century.
func appendYear(dst []byte, t time.Time, tk token) []byte {
	y := t.Year()
	if tk.n <= 2 {
		y %= 100
		if y < 0 {
			y = -y
		}
	}
	return appendDigits(dst, y, tk.n)
}

// appendMonth: "M"/"MM" digits, "MMM" abbreviated name, longer the name.
func appendMonth(dst []byte, t time.Time, tk token) []byte {
	switch {
	case tk.n <= 2:
		return appendDigits(dst, int(t.Month()), tk.n)
	case tk.n == 3:
		return append(dst, monthNames[t.Month()-1][:3]...)
	}
	return append(dst, monthNames[t.Month()-1]...)
}

// appendDay: "d"/"dd" the day of the month, "ddd" abbreviated weekday,
// longer the weekday.
func appendDay(dst []byte, t time.Time, tk token) []byte {
	switch {
	case tk.n <= 2:
		return appendDigits(dst, t.Day(), tk.n)
	case tk.n == 3:
		return append(dst, dayNames[t.Weekday()][:3]...)
	}
	return append(dst, dayNames[t.Weekday()]...)
}

func appendHour12(dst []byte, t time.Time, tk token) []byte {
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	return appendDigits(dst, h, tk.n)
}

// appendFraction writes n digits of the second's fraction in .NET ticks;
// "F" (kFractionTrim) drops trailing zeros.
func appendFraction(dst []byte, t time.Time, tk token) []byte {
	frac := t.Nanosecond() / 100 // .NET ticks
	for i := tk.n; i < 7; i++ {
		frac /= 10
	}
	digits := tk.n
	if tk.kind == kFractionTrim {
		for digits > 0 && frac%10 == 0 {
			frac /= 10
			digits--
		}
		if digits == 0 {
			// .NET also drops a '.' written just before an empty F.
			if len(dst) > 0 && dst[len(dst)-1] == '.' {
				dst = dst[:len(dst)-1]
			}
			return dst
		}
	}
	return appendDigits(dst, frac, digits)
}

// appendAMPM: "t" is A or P, longer AM or PM.
func appendAMPM(dst []byte, t time.Time, tk token) []byte {
	ampm := "AM"
	if t.Hour() >= 12 {
		ampm = "PM"
	}
	if tk.n == 1 {
		ampm = ampm[:1]
	}
	return append(dst, ampm...)
}

// appendOffset: the time is UTC, so +0, +00 or +00:00.
func appendOffset(dst []byte, tk token) []byte {
	switch {
	case tk.n <= 1:
		return append(dst, "+0"...)
	case tk.n == 2:
		return append(dst, "+00"...)
	}
	return append(dst, "+00:00"...)
}

// appendDigits writes v zero-padded to at least n digits.
func appendDigits(dst []byte, v, n int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var buf [20]byte
	b := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(b); i < n; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}

// Format compiles format and renders t; a convenience for one-off use.
func Format(format string, t time.Time) (string, error) {
	f, err := Compile(format)
	if err != nil {
		return "", err
	}
	return f.Format(t), nil
}
