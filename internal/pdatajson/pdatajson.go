// Package pdatajson writes JSON text straight into pdata values, so an event becomes a
// structured log body without a detour through map[string]any (which costs allocations per
// field and loses integer precision). It reads the text once, byte by byte only where it must
// (strings are crossed eight bytes at a time by jsonscan), and strings without escapes alias
// the text instead of being copied.
package pdatajson

import (
	"math"
	"strconv"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-ccp/otelcol-ccp/internal/pdatajson/jsonscan"
)

// maxDepth bounds recursion on hostile, deeply nested input; deeper parts are kept as text.
const maxDepth = 64

// SetValue fills dest with the JSON value in raw (an object becomes a map, an array a slice,
// integers Int, other numbers Double). Invalid JSON is kept as a string.
func SetValue(dest pcommon.Value, raw string) {
	if ok, _ := jsonscan.Valid(raw, 0); !ok {
		dest.SetStr(raw)
		return
	}
	SetValidated(dest, raw)
}

// SetValidated is SetValue for text already known to be valid JSON (an event cut out of a
// validated response), skipping the second validation pass. Invalid text never panics but
// gives an unspecified value.
func SetValidated(dest pcommon.Value, raw string) {
	var c Converter
	c.SetValidated(dest, raw)
}

// Converter is SetValidated for the events of one page, which mostly share one shape: it
// remembers how many members the last root object had and allocates the next root map at that
// size once, instead of growing it member by member. The zero value is ready to use.
type Converter struct {
	// Extra is how many members the caller adds to every root object afterwards (add-on
	// attributes): room for them is reserved too.
	Extra int
	hint  int
}

// SetValidated fills dest from raw as the package's SetValidated does.
func (c *Converter) SetValidated(dest pcommon.Value, raw string) {
	p := parser{s: raw}
	i := 0
	for i < len(raw) && raw[i] <= ' ' {
		i++
	}
	if i < len(raw) && raw[i] == '{' {
		m := dest.SetEmptyMap()
		m.EnsureCapacity(c.hint + c.Extra)
		p.object(m, i, 1)
		c.hint = m.Len()
		return
	}
	p.value(dest, i, 0)
}

// SetMap fills dest with the members of a JSON object; it reports false when raw is not one.
func SetMap(dest pcommon.Map, raw string) bool {
	i := 0
	for i < len(raw) && raw[i] <= ' ' {
		i++
	}
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	if ok, _ := jsonscan.Valid(raw, 0); !ok {
		return false
	}
	p := parser{s: raw}
	p.object(dest, i, 0)
	return true
}

// parser fills pdata values from s. Each method takes the index of a value's first byte and
// returns the index after it, or -1 when the text is not JSON there (the rest is skipped).
type parser struct{ s string }

// value fills dest; depth counts the containers around it, and one at maxDepth is kept as text.
func (p *parser) value(dest pcommon.Value, i, depth int) int {
	s := p.s
	if i >= len(s) {
		return -1
	}
	switch c := s[i]; c {
	case '{', '[':
		if depth >= maxDepth {
			end := jsonscan.Skip(s, i)
			if end >= 0 {
				dest.SetStr(s[i:end])
			}
			return end
		}
		if c == '{' {
			return p.object(dest.SetEmptyMap(), i, depth+1)
		}
		return p.array(dest.SetEmptySlice(), i, depth+1)
	case '"':
		str, end := p.str(i)
		if end >= 0 {
			dest.SetStr(str)
		}
		return end
	case 't', 'f', 'n':
		end := jsonscan.Skip(s, i)
		if end >= 0 && c != 'n' { // an empty value is how pdata spells null
			dest.SetBool(c == 't')
		}
		return end
	}
	end, ok := jsonscan.Number(s, i)
	if !ok {
		return -1
	}
	setNumber(dest, s[i:end])
	return end
}

// str reads the string whose opening quote is at i; escapes are decoded as gjson decodes them.
func (p *parser) str(i int) (string, int) {
	end, escaped := jsonscan.StringEnd(p.s, i+1)
	switch {
	case end < 0:
		return "", -1
	case escaped:
		return gjson.Parse(p.s[i:end]).Str, end
	}
	return p.s[i+1 : end-1], end
}

// object fills m with the members of the object at i; members are at depth.
func (p *parser) object(m pcommon.Map, i, depth int) int {
	s := p.s
	if i = jsonscan.SkipSpace(s, i+1); i < len(s) && s[i] == '}' {
		return i + 1
	}
	for i >= 0 && i < len(s) && s[i] == '"' {
		key, end := p.str(i)
		if end < 0 {
			return -1
		}
		if i = jsonscan.SkipSpace(s, end); i >= len(s) || s[i] != ':' {
			return -1
		}
		// PutEmpty keeps the last of duplicate keys, like Json.NET.
		if i = p.value(m.PutEmpty(key), jsonscan.SkipSpace(s, i+1), depth); i < 0 {
			return -1
		}
		if i, end = p.next(i, '}'); end >= 0 {
			return end
		}
	}
	return -1
}

// array fills sl with the elements of the array at i; elements are at depth.
func (p *parser) array(sl pcommon.Slice, i, depth int) int {
	s := p.s
	if i = jsonscan.SkipSpace(s, i+1); i < len(s) && s[i] == ']' {
		return i + 1
	}
	for i >= 0 && i < len(s) {
		if i = p.value(sl.AppendEmpty(), i, depth); i < 0 {
			return -1
		}
		var end int
		if i, end = p.next(i, ']'); end >= 0 {
			return end
		}
	}
	return -1
}

// next reads what follows an element: a comma (the next element's index), or the closing
// bracket (end, the index after it). Anything else gives i = -1.
func (p *parser) next(i int, closing byte) (next, end int) {
	s := p.s
	switch i = jsonscan.SkipSpace(s, i); {
	case i < len(s) && s[i] == ',':
		return jsonscan.SkipSpace(s, i+1), -1
	case i < len(s) && s[i] == closing:
		return i, i + 1
	}
	return -1, -1
}

// setNumber keeps integers that fit int64 exact; other numbers become doubles, and those a
// double cannot hold (1e400) stay text.
func setNumber(dest pcommon.Value, raw string) {
	integral := true
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == '.' || c == 'e' || c == 'E' {
			integral = false
			break
		}
	}
	if integral {
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			dest.SetInt(n)
			return
		}
	}
	f, _ := strconv.ParseFloat(raw, 64)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		dest.SetStr(raw)
		return
	}
	dest.SetDouble(f)
}
