package kql

import (
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// evalCtx evaluates expressions over one row of a table.
type evalCtx struct {
	q         *Query
	t         *table
	row       []gjson.Result
	inherited map[string]string
}

func (c *evalCtx) errAt(pos int, f string, a ...any) error {
	return errAt(c.q.text, pos, f, a...)
}

func (c *evalCtx) eval(x expr, depth int) (gjson.Result, error) {
	if depth > maxDepth*2 {
		return gjson.Result{}, &Error{Text: c.q.text, Msg: "expression too deep"}
	}
	switch e := x.(type) {
	case *litExpr:
		return e.v, nil
	case *identExpr:
		return c.ident(e)
	case *memberExpr:
		return c.member(e, depth)
	case *binExpr:
		return c.binary(e, depth)
	case *callExpr:
		args := make([]gjson.Result, len(e.args))
		for i, a := range e.args {
			v, err := c.eval(a, depth+1)
			if err != nil {
				return v, err
			}
			args[i] = v
		}
		return funcs[e.fn].fn(args), nil
	}
	return gjson.Result{}, &Error{Text: c.q.text, Msg: fmt.Sprintf("internal: cannot evaluate %T", x)}
}

// ident is a column of the row, else an inherited placeholder, else (source) the record.
func (c *evalCtx) ident(e *identExpr) (gjson.Result, error) {
	if i := c.t.index(e.name); i >= 0 {
		return c.row[i], nil
	}
	if v, ok := c.inherited[e.name]; ok {
		return strVal(v), nil
	}
	if e.name == "source" {
		// parse_json(source): the record itself, as the data column holds it
		if i := c.t.index("data"); i >= 0 {
			return c.row[i], nil
		}
	}
	return gjson.Result{}, c.errAt(e.pos, "unknown column %q (columns: %s)", e.name, strings.Join(c.t.cols, ", "))
}

// member is x.key, x['key'], x[index] or x[computed key].
func (c *evalCtx) member(e *memberExpr, depth int) (gjson.Result, error) {
	base, err := c.eval(e.x, depth+1)
	if err != nil {
		return base, err
	}
	if e.lit {
		return member(base, e.key), nil
	}
	k, err := c.eval(e.idx, depth+1)
	if err != nil {
		return k, err
	}
	if k.Type == gjson.Number {
		return index(base, int(k.Num)), nil
	}
	return member(base, toString(k)), nil
}

// binary is a comparison or a logical operator; and/or do not evaluate their right operand
// when the left one decides.
func (c *evalCtx) binary(e *binExpr, depth int) (gjson.Result, error) {
	l, err := c.eval(e.l, depth+1)
	if err != nil {
		return l, err
	}
	switch {
	case e.op == "and" && l.Type != gjson.True:
		return boolVal(false), nil
	case e.op == "or" && l.Type == gjson.True:
		return boolVal(true), nil
	}
	r, err := c.eval(e.r, depth+1)
	if err != nil {
		return r, err
	}
	switch e.op {
	case "and", "or":
		return boolVal(r.Type == gjson.True), nil
	case "==", "!=":
		return boolVal(equal(l, r, false) == (e.op == "==")), nil
	default: // =~ !~
		return boolVal(equal(l, r, true) == (e.op == "=~")), nil
	}
}
