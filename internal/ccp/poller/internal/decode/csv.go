package decode

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// csvToJSON converts RFC 4180 CSV (configurable delimiter and quote
// character; a quote inside a quoted field is written twice) into a JSON
// array of objects. encoding/csv is not used because it cannot change the
// quote character (csvEscape). Blank lines are skipped. With a header, keys
// come from the first record (an empty header cell becomes columnN); a row
// longer than the header gets columnN keys for the extra cells, a shorter
// row simply has fewer keys. Without a header, keys are column1..N.
func csvToJSON(data []byte, o Options) ([]byte, error) {
	delim, err := oneRune(o.CSVDelimiter, "csvDelimiter", ',')
	if err != nil {
		return nil, err
	}
	quote, err := oneRune(o.CSVEscape, "csvEscape", '"')
	if err != nil {
		return nil, err
	}
	if delim == quote {
		return nil, fmt.Errorf("%w: csvDelimiter and csvEscape are both %q", ErrInvalid, delim)
	}
	hasHeader := o.HasCSVHeader == nil || *o.HasCSVHeader
	p := csvParser{s: data, delim: delim, quote: quote}
	out := make([]byte, 0, len(data)*2+2)
	out = append(out, '[')
	var header []string
	rows := 0
	var rec [][]byte
	for {
		var ok bool
		rec, ok, err = p.record(rec[:0])
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if hasHeader && header == nil {
			header = make([]string, len(rec))
			for i, f := range rec {
				header[i] = string(f)
				if header[i] == "" {
					header[i] = "column" + strconv.Itoa(i+1)
				}
			}
			continue
		}
		if rows > 0 {
			out = append(out, ',')
		}
		rows++
		out = append(out, '{')
		for i, f := range rec {
			if i > 0 {
				out = append(out, ',')
			}
			if i < len(header) {
				out = appendJSONString(out, header[i])
			} else {
				out = appendJSONString(out, "column"+strconv.Itoa(i+1))
			}
			out = append(out, ':')
			out = appendJSONBytes(out, f)
		}
		out = append(out, '}')
	}
	return append(out, ']'), nil
}

type csvParser struct {
	s            []byte
	i            int
	line         int
	delim, quote rune
}

// record parses the next non-blank record. Field slices alias p.s unless
// the field contained escaped quotes.
func (p *csvParser) record(fields [][]byte) ([][]byte, bool, error) {
	// Skip blank lines.
	for p.i < len(p.s) && (p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		if p.s[p.i] == '\n' {
			p.line++
		}
		p.i++
	}
	if p.i >= len(p.s) {
		return fields, false, nil
	}
	startLine := p.line + 1
	for {
		f, err := p.field(startLine)
		if err != nil {
			return nil, false, err
		}
		fields = append(fields, f)
		if p.i >= len(p.s) {
			return fields, true, nil
		}
		r, n := utf8.DecodeRune(p.s[p.i:])
		switch {
		case r == p.delim:
			p.i += n
		case r == '\r' || r == '\n':
			if r == '\r' && p.i+1 < len(p.s) && p.s[p.i+1] == '\n' {
				p.i++
			}
			p.i++
			p.line++
			return fields, true, nil
		default: // unreachable: field stops only at a delimiter or line end
			p.i += n
		}
	}
}

// field reads one field and leaves p.i on the delimiter, line end or EOF.
func (p *csvParser) field(startLine int) ([]byte, error) {
	if p.i < len(p.s) {
		if r, n := utf8.DecodeRune(p.s[p.i:]); r == p.quote {
			return p.quoted(n, startLine)
		}
	}
	start := p.i
	p.toFieldEnd()
	return p.s[start:p.i], nil
}

// toFieldEnd moves p.i to the next delimiter, line end or EOF.
func (p *csvParser) toFieldEnd() {
	for p.i < len(p.s) {
		r, n := utf8.DecodeRune(p.s[p.i:])
		if r == p.delim || r == '\n' || r == '\r' {
			return
		}
		p.i += n
	}
}

func (p *csvParser) quoted(qlen, startLine int) ([]byte, error) {
	p.i += qlen
	var buf []byte
	start := p.i
	for p.i < len(p.s) {
		r, n := utf8.DecodeRune(p.s[p.i:])
		if r == '\n' {
			p.line++
		}
		if r != p.quote {
			p.i += n
			continue
		}
		// A doubled quote is an escaped quote.
		if p.i+n < len(p.s) {
			if r2, n2 := utf8.DecodeRune(p.s[p.i+n:]); r2 == p.quote {
				buf = append(buf, p.s[start:p.i+n]...)
				p.i += n + n2
				start = p.i
				continue
			}
		}
		// Closing quote.
		var f []byte
		if buf != nil {
			f = append(buf, p.s[start:p.i]...)
		} else {
			f = p.s[start:p.i]
		}
		p.i += n
		// Lenient: text between the closing quote and the next delimiter is
		// kept (as encoding/csv's LazyQuotes would).
		tail := p.i
		p.toFieldEnd()
		if p.i > tail {
			f = append(append([]byte(nil), f...), p.s[tail:p.i]...)
		}
		return f, nil
	}
	return nil, fmt.Errorf("%w: csv record starting on line %d: unterminated quoted field", ErrInvalid, startLine)
}

const hexDigits = "0123456789abcdef"

func appendJSONString(dst []byte, s string) []byte {
	return appendJSONBytes(dst, []byte(s))
}

// appendJSONBytes writes b as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONBytes(dst, b []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, b[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}
