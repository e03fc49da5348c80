package armexpr

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits that keep hostile input bounded.
const (
	maxExprLen    = 64 << 10 // characters in one expression
	maxParseDepth = 64       // nesting of calls / accessors
	maxEvalDepth  = 64       // nested variables/parameter defaults
	maxValueSize  = 1 << 20  // bytes of one string / elements of one array produced
	maxTreeDepth  = 256      // JSON nesting walked by ResolveTree
)

type nodeKind int

const (
	nString nodeKind = iota
	nInt
	nCall
	nIndex // X[Index]
	nProp  // X.Name
)

type node struct {
	kind  nodeKind
	str   string // string literal, function name or property name
	num   int64
	args  []*node // call arguments
	x     *node   // target of index / property access
	index *node
	pos   int
}

type parser struct {
	src   string
	pos   int
	depth int
}

type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("syntax error at offset %d: %s", e.pos, e.msg)
}

func parse(src string) (*node, error) {
	if len(src) > maxExprLen {
		return nil, &syntaxError{0, fmt.Sprintf("expression longer than %d characters", maxExprLen)}
	}
	p := &parser{src: src}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, &syntaxError{p.pos, fmt.Sprintf("unexpected %q after expression", p.rest())}
	}
	return n, nil
}

func (p *parser) rest() string {
	r := p.src[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) expr() (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth {
		return nil, &syntaxError{p.pos, "expression nested too deeply"}
	}
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	// accessor chain; each iteration consumes at least one character.
	for steps := 0; ; steps++ {
		if steps > maxParseDepth {
			return nil, &syntaxError{p.pos, "accessor chain too long"}
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return n, nil
		}
		switch p.src[p.pos] {
		case '[':
			start := p.pos
			p.pos++
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			if p.pos >= len(p.src) || p.src[p.pos] != ']' {
				return nil, &syntaxError{p.pos, "missing ']' after index"}
			}
			p.pos++
			n = &node{kind: nIndex, x: n, index: idx, pos: start}
		case '.':
			start := p.pos
			p.pos++
			p.skipSpace()
			name := p.ident()
			if name == "" {
				return nil, &syntaxError{p.pos, "property name expected after '.'"}
			}
			n = &node{kind: nProp, x: n, str: name, pos: start}
		default:
			return n, nil
		}
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '-'
}

func (p *parser) ident() string {
	start := p.pos
	if p.pos < len(p.src) && isIdentStart(p.src[p.pos]) {
		p.pos++
		for p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
			p.pos++
		}
	}
	return p.src[start:p.pos]
}

func (p *parser) primary() (*node, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, &syntaxError{p.pos, "unexpected end of expression"}
	}
	start := p.pos
	c := p.src[p.pos]
	switch {
	case c == '\'':
		s, err := p.stringLit()
		if err != nil {
			return nil, err
		}
		return &node{kind: nString, str: s, pos: start}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
		// tolerate a fractional part by truncation (ARM has no float literals)
		lit := p.src[start:p.pos]
		v, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			return nil, &syntaxError{start, fmt.Sprintf("bad integer %q", lit)}
		}
		return &node{kind: nInt, num: v, pos: start}, nil
	case isIdentStart(c):
		name := p.ident()
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '(' {
			switch strings.ToLower(name) {
			case "true", "false", "null":
				// bare literal, tolerated
				return &node{kind: nCall, str: name, pos: start}, nil
			}
			return nil, &syntaxError{start, fmt.Sprintf("'(' expected after function name %q", name)}
		}
		p.pos++
		call := &node{kind: nCall, str: name, pos: start}
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ')' {
			p.pos++
			return call, nil
		}
		for {
			if len(call.args) > 1024 {
				return nil, &syntaxError{p.pos, "too many arguments"}
			}
			a, err := p.expr()
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, a)
			p.skipSpace()
			if p.pos >= len(p.src) {
				return nil, &syntaxError{p.pos, fmt.Sprintf("missing ')' to close %s(", name)}
			}
			switch p.src[p.pos] {
			case ',':
				p.pos++
			case ')':
				p.pos++
				return call, nil
			default:
				return nil, &syntaxError{p.pos, fmt.Sprintf("',' or ')' expected in arguments of %s, found %q", name, p.rest())}
			}
		}
	default:
		return nil, &syntaxError{p.pos, fmt.Sprintf("unexpected %q", p.rest())}
	}
}

// stringLit reads a single-quoted literal; ” is an escaped quote.
func (p *parser) stringLit() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\'' {
			if p.pos+1 < len(p.src) && p.src[p.pos+1] == '\'' {
				b.WriteByte('\'')
				p.pos += 2
				continue
			}
			p.pos++
			return b.String(), nil
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", &syntaxError{start, "unterminated string literal"}
}
