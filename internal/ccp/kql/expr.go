package kql

import (
	"strings"

	"github.com/tidwall/gjson"
)

func (p *parser) expr() (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errAt(p.peek().pos, "expression nested deeper than %d", maxDepth)
	}
	return p.orExpr()
}

func (p *parser) orExpr() (expr, error) { return p.chain("or", p.andExpr) }

func (p *parser) andExpr() (expr, error) { return p.chain("and", p.cmpExpr) }

// chain parses operand (word operand)*, left-associative: the "or" and "and" levels.
func (p *parser) chain(word string, operand func() (expr, error)) (expr, error) {
	l, err := operand()
	for err == nil && p.peek().kind == tIdent && p.peek().text == word {
		t := p.next()
		var r expr
		if r, err = operand(); err == nil {
			l = &binExpr{op: word, l: l, r: r, pos: t.pos}
		}
	}
	return l, err
}

func (p *parser) cmpExpr() (expr, error) {
	l, err := p.postfix()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tPunct && (t.text == "==" || t.text == "!=" || t.text == "=~" || t.text == "!~") {
		p.next()
		r, err := p.postfix()
		if err != nil {
			return nil, err
		}
		return &binExpr{op: t.text, l: l, r: r, pos: t.pos}, nil
	}
	return l, nil
}

func (p *parser) postfix() (expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for n := 0; ; n++ {
		if n > maxDepth {
			return nil, p.errAt(p.peek().pos, "member access chain longer than %d", maxDepth)
		}
		switch {
		case p.isPunct("."):
			t := p.next()
			k := p.next()
			if k.kind != tIdent {
				return nil, p.errAt(k.pos, "expected a property name after '.', found %s", describeTok(k))
			}
			x = &memberExpr{x: x, key: k.text, lit: true, pos: t.pos}
		case p.isPunct("["):
			if x, err = p.subscript(x); err != nil {
				return nil, err
			}
		default:
			return x, nil
		}
	}
}

// subscript parses x['key'] (a literal key) or x[expr] (an index or a computed key).
func (p *parser) subscript(x expr) (expr, error) {
	t := p.next()
	if k := p.peek(); k.kind == tString && p.toks[p.i+1].kind == tPunct && p.toks[p.i+1].text == "]" {
		p.next()
		p.next()
		return &memberExpr{x: x, key: k.text, lit: true, pos: t.pos}, nil
	}
	idx, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expect("]"); err != nil {
		return nil, err
	}
	return &memberExpr{x: x, idx: idx, pos: t.pos}, nil
}

func (p *parser) primary() (expr, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return &litExpr{strVal(t.text)}, nil
	case tNumber:
		return &litExpr{numVal(t.text)}, nil
	case tPunct:
		if t.text == "(" {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			return x, p.expect(")")
		}
		if t.text == "-" && p.peek().kind == tNumber {
			n := p.next()
			return &litExpr{numVal("-" + n.text)}, nil
		}
	case tIdent:
		if p.isPunct("(") {
			return p.call(t)
		}
		switch t.text {
		case "true":
			return &litExpr{gjson.Result{Type: gjson.True, Raw: "true"}}, nil
		case "false":
			return &litExpr{gjson.Result{Type: gjson.False, Raw: "false"}}, nil
		case "null":
			return &litExpr{gjson.Result{Type: gjson.Null, Raw: "null"}}, nil
		}
		return &identExpr{name: t.text, pos: t.pos}, nil
	}
	return nil, p.errAt(t.pos, "expected an expression, found %s", describeTok(t))
}

// call parses the arguments of the function named by t, whose "(" is next.
func (p *parser) call(t token) (expr, error) {
	fn := strings.ToLower(t.text)
	f, ok := funcs[fn]
	if !ok {
		return nil, p.errAt(t.pos, "function %s() is not in the supported subset (parse_json, todynamic, tostring, toint, tolong, isempty, isnotempty, isnull, isnotnull, not, strcat, coalesce)", t.text)
	}
	p.next()
	var args []expr
	for !p.isPunct(")") {
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if len(args) < f.min || len(args) > f.max {
		return nil, p.errAt(t.pos, "%s() takes %d argument(s), got %d", t.text, f.min, len(args))
	}
	return &callExpr{fn: fn, args: args, pos: t.pos}, nil
}
