// Package lenientjson turns Json.NET-lenient JSON text into strict JSON.
//
// It exists because CCP POST templates (queryParametersTemplate) are often
// single-quoted pseudo-JSON — {'cid': 1234567, '{_APIKeyName}': '{_APIKey}'}
// in Microsoft's own examples, LastPass, Cortex XDR, the CrowdStrike step
// {'ids': ['$Url_PlaceHolder$']} — which Sentinel parses with Json.NET and
// sends as real JSON. Vendor APIs reject the single-quoted text, so after
// builtin substitution the body is normalised here: key order and number
// literals are kept byte-for-byte (1234567 stays 1234567, 1.0 stays 1.0),
// whitespace is dropped. If the text does not parse, the caller sends it
// verbatim (spec §4.6).
package lenientjson

import (
	"unicode"
	"unicode/utf8"
)

// MaxDepth bounds nesting so hostile input cannot exhaust the stack.
const MaxDepth = 1000

// Normalize parses text with Json.NET's leniency — single- or double-quoted
// strings, unquoted property names ([A-Za-z0-9_$] and other letters/digits),
// trailing commas in objects and arrays, // and /* */ comments, any
// whitespace (\r\n, tabs, a leading BOM) — and returns compact strict JSON.
// Exactly one top-level value is allowed. Numbers must be valid JSON number
// literals (they are copied verbatim); NaN, Infinity, undefined, hex/octal
// numbers, constructors and unquoted string values are rejected. ok is false
// when the text does not parse; strict is then nil. Duplicate keys are kept
// as written.
func Normalize(text []byte) (strict []byte, ok bool) {
	p := &parser{s: text, out: make([]byte, 0, len(text))}
	if len(p.s) >= 3 && p.s[0] == 0xEF && p.s[1] == 0xBB && p.s[2] == 0xBF {
		p.i = 3
	}
	if !p.skipSpace() || p.i >= len(p.s) {
		return nil, false
	}
	if !p.value(0) {
		return nil, false
	}
	if !p.skipSpace() || p.i != len(p.s) {
		return nil, false
	}
	return p.out, true
}

type parser struct {
	s   []byte
	i   int
	out []byte
}

// skipSpace skips whitespace and comments; false on an unterminated comment.
func (p *parser) skipSpace() bool {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			p.i++
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '/':
			p.i += 2
			for p.i < len(p.s) && p.s[p.i] != '\n' && p.s[p.i] != '\r' {
				p.i++
			}
		case c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '*':
			p.i += 2
			for {
				if p.i+1 >= len(p.s) {
					return false
				}
				if p.s[p.i] == '*' && p.s[p.i+1] == '/' {
					p.i += 2
					break
				}
				p.i++
			}
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(p.s[p.i:])
			if r == utf8.RuneError || !unicode.IsSpace(r) {
				return true
			}
			p.i += n
		default:
			return true
		}
	}
	return true
}

func (p *parser) value(depth int) bool {
	if depth > MaxDepth || p.i >= len(p.s) {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"' || c == '\'':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if p.hasWord(lit) {
				p.out = append(p.out, lit...)
				p.i += len(lit)
				return true
			}
		}
		return false
	}
}

// hasWord reports whether lit starts at p.i and is not followed by an
// identifier character.
func (p *parser) hasWord(lit string) bool {
	if len(p.s)-p.i < len(lit) || string(p.s[p.i:p.i+len(lit)]) != lit {
		return false
	}
	if j := p.i + len(lit); j < len(p.s) {
		r, _ := utf8.DecodeRune(p.s[j:])
		if isIdent(r) {
			return false
		}
	}
	return true
}

func isIdent(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (p *parser) object(depth int) bool { return p.container('}', depth) }

func (p *parser) array(depth int) bool { return p.container(']', depth) }

// container reads an object (closer '}') or an array (closer ']') from its
// opening bracket, writing its members comma-separated; a trailing comma
// is accepted.
func (p *parser) container(closer byte, depth int) bool {
	p.out = append(p.out, p.s[p.i])
	p.i++
	first := true
	for {
		if !p.skipSpace() || p.i >= len(p.s) {
			return false
		}
		if p.s[p.i] == closer {
			p.i++
			p.out = append(p.out, closer)
			return true
		}
		if !first {
			p.out = append(p.out, ',')
		}
		first = false
		var ok bool
		if closer == '}' {
			ok = p.member(depth)
		} else {
			ok = p.value(depth + 1)
		}
		if !ok || !p.skipSpace() || p.i >= len(p.s) {
			return false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case closer:
		default:
			return false
		}
	}
}

// member reads one "name: value" of an object; the name may be quoted
// either way or bare.
func (p *parser) member(depth int) bool {
	switch c := p.s[p.i]; {
	case c == '"' || c == '\'':
		if !p.str() {
			return false
		}
	default:
		if !p.ident() {
			return false
		}
	}
	if !p.skipSpace() || p.i >= len(p.s) || p.s[p.i] != ':' {
		return false
	}
	p.i++
	p.out = append(p.out, ':')
	return p.skipSpace() && p.value(depth+1)
}

// ident reads an unquoted property name and writes it as a JSON string.
func (p *parser) ident() bool {
	start := p.i
	for p.i < len(p.s) {
		r, n := utf8.DecodeRune(p.s[p.i:])
		if !isIdent(r) || (r == utf8.RuneError && n == 1) {
			break
		}
		p.i += n
	}
	if p.i == start {
		return false
	}
	p.out = append(p.out, '"')
	p.out = append(p.out, p.s[start:p.i]...) // letters/digits/_/$ need no escaping
	p.out = append(p.out, '"')
	return true
}

// number copies a strict JSON number literal verbatim.
func (p *parser) number() bool {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i >= len(p.s) {
		return false
	}
	if p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return false
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return false
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return false
		}
	}
	// A number must be followed by a delimiter (rejects 01, 0x1, 1a).
	if p.i < len(p.s) {
		r, _ := utf8.DecodeRune(p.s[p.i:])
		if isIdent(r) || r == '.' {
			return false
		}
	}
	p.out = append(p.out, p.s[start:p.i]...)
	return true
}

const hexDigits = "0123456789abcdef"

// str reads a single- or double-quoted string with Json.NET escapes and
// writes it as a strict JSON string.
func (p *parser) str() bool {
	q := p.s[p.i]
	p.i++
	p.out = append(p.out, '"')
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			p.out = append(p.out, '"')
			return true
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return false
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case 'b', 't', 'n', 'f', 'r', '\\', '/':
				p.out = append(p.out, '\\', e)
			case '"':
				p.out = append(p.out, '\\', '"')
			case '\'':
				p.out = append(p.out, '\'')
			case 'u':
				if p.i+4 > len(p.s) {
					return false
				}
				for _, h := range p.s[p.i : p.i+4] {
					if !isHex(h) {
						return false
					}
				}
				p.out = append(p.out, '\\', 'u')
				p.out = append(p.out, p.s[p.i:p.i+4]...)
				p.i += 4
			default:
				return false
			}
		case c == '"':
			p.out = append(p.out, '\\', '"')
			p.i++
		case c < 0x20:
			// Json.NET accepts raw control characters inside strings.
			p.out = append(p.out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			p.i++
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(p.s[p.i:])
			if r == utf8.RuneError && n == 1 {
				p.out = append(p.out, `\ufffd`...)
			} else {
				p.out = append(p.out, p.s[p.i:p.i+n]...)
			}
			p.i += n
		default:
			p.out = append(p.out, c)
			p.i++
		}
	}
	return false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
