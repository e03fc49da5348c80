package kql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

type expr interface{}

type identExpr struct {
	name string
	pos  int
}

type litExpr struct{ v gjson.Result }

type memberExpr struct {
	x   expr
	key string // literal key (x.key, x['key'])
	idx expr   // computed index x[expr], when key is unused
	lit bool   // key is set
	pos int
}

type callExpr struct {
	fn   string
	args []expr
	pos  int
}

type binExpr struct {
	op   string
	l, r expr
	pos  int
}

type assign struct {
	name string
	x    expr
}

type opKind int

const (
	opProject opKind = iota
	opExtend
	opProjectAway
	opProjectRename
	opMvExpand
	opWhere
	opTake
)

type kqlOp struct {
	kind   opKind
	pos    int
	items  []assign // project, extend, mv-expand, project-rename (name = old column)
	names  []string // project-away
	cond   expr     // where
	n      int      // take/limit, mv-expand limit (0 = none)
	bagArr bool     // mv-expand bagexpansion=array
}

type parser struct {
	text  string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(pos int, f string, a ...any) error {
	return errAt(p.text, pos, f, a...)
}

func (p *parser) isPunct(s string) bool { t := p.peek(); return t.kind == tPunct && t.text == s }

func (p *parser) expect(s string) error {
	t := p.next()
	if t.kind != tPunct || t.text != s {
		return p.errAt(t.pos, "expected %q, found %s", s, describeTok(t))
	}
	return nil
}

func describeTok(t token) string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// opName reads an operator name, joining hyphenated names (mv-expand, project-away).
func (p *parser) opName() (string, int) {
	t := p.next()
	if t.kind != tIdent {
		return "", t.pos
	}
	name := t.text
	for p.isPunct("-") && p.toks[p.i+1].kind == tIdent && p.toks[p.i].pos == t.pos+len(name) {
		p.next()
		name += "-" + p.next().text
	}
	return strings.ToLower(name), t.pos
}

func (p *parser) operator() (kqlOp, error) {
	name, pos := p.opName()
	op := kqlOp{pos: pos}
	var err error
	switch name {
	case "project":
		op.kind = opProject
		op.items, err = p.assignList(true)
	case "extend":
		op.kind = opExtend
		op.items, err = p.assignList(true)
	case "project-away":
		op.kind = opProjectAway
		op.names, err = p.identList()
	case "project-rename":
		op.kind = opProjectRename
		op.items, err = p.assignList(false)
		for _, it := range op.items {
			if _, ok := it.x.(*identExpr); !ok && err == nil {
				err = p.errAt(pos, "project-rename takes new = old column names")
			}
		}
	case "mvexpand", "mv-expand":
		op.kind = opMvExpand
		if t := p.peek(); t.kind == tIdent && strings.EqualFold(t.text, "bagexpansion") {
			p.next()
			if err := p.expect("="); err != nil {
				return op, err
			}
			v := p.next()
			switch strings.ToLower(v.text) {
			case "bag":
			case "array":
				op.bagArr = true
			default:
				return op, p.errAt(v.pos, "bagexpansion must be bag or array, found %s", describeTok(v))
			}
		}
		op.items, err = p.assignList(true)
		if err == nil {
			op.n, err = p.optLimit()
		}
	case "where":
		op.kind = opWhere
		op.cond, err = p.expr()
	case "take", "limit":
		op.kind = opTake
		t := p.next()
		n, perr := strconv.Atoi(t.text)
		if t.kind != tNumber || perr != nil || n < 0 {
			return op, p.errAt(t.pos, "%s needs a non-negative integer, found %s", name, describeTok(t))
		}
		op.n = n
	case "":
		return op, p.errAt(pos, "expected an operator after |")
	default:
		return op, p.errAt(pos, "operator %q is not in the supported subset (project, extend, project-away, project-rename, mv-expand/mvexpand, where, take)", name)
	}
	if err != nil {
		return op, err
	}
	if t := p.peek(); t.kind != tEOF && !(t.kind == tPunct && t.text == "|") {
		return op, p.errAt(t.pos, "unexpected %s after %s", describeTok(t), name)
	}
	return op, nil
}

func (p *parser) optLimit() (int, error) {
	if t := p.peek(); t.kind == tIdent && strings.EqualFold(t.text, "limit") {
		p.next()
		n := p.next()
		v, err := strconv.Atoi(n.text)
		if n.kind != tNumber || err != nil || v < 0 {
			return 0, p.errAt(n.pos, "limit needs a non-negative integer")
		}
		return v, nil
	}
	return 0, nil
}

func (p *parser) identList() ([]string, error) {
	var out []string
	for {
		t := p.next()
		if t.kind != tIdent {
			return nil, p.errAt(t.pos, "expected a column name, found %s", describeTok(t))
		}
		out = append(out, t.text)
		if !p.isPunct(",") {
			return out, nil
		}
		p.next()
	}
}

// assignList parses "name = expr, expr, ...". derive allows an unnamed expression whose
// name follows KQL's rule (a column keeps its name, res.id becomes res_id).
func (p *parser) assignList(derive bool) ([]assign, error) {
	var out []assign
	for {
		start := p.peek()
		var a assign
		if start.kind == tIdent && p.toks[p.i+1].kind == tPunct && p.toks[p.i+1].text == "=" {
			p.next()
			p.next()
			a.name = start.text
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		a.x = x
		if a.name == "" {
			if !derive {
				return nil, p.errAt(start.pos, "expected name = column")
			}
			n, ok := derivedName(x)
			if !ok {
				return nil, p.errAt(start.pos, "give this expression a column name (name = expression)")
			}
			a.name = n
		}
		out = append(out, a)
		if !p.isPunct(",") {
			return out, nil
		}
		p.next()
	}
}

func derivedName(x expr) (string, bool) {
	switch e := x.(type) {
	case *identExpr:
		return e.name, true
	case *memberExpr:
		base, ok := derivedName(e.x)
		if !ok {
			return "", false
		}
		if e.lit {
			return base + "_" + e.key, true
		}
		if l, ok := e.idx.(*litExpr); ok {
			return base + "_" + toString(l.v), true
		}
	}
	return "", false
}
