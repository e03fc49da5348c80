package kql

import (
	"fmt"
	"slices"
	"strings"
)

// Columns returns the placeholder names the query yields given the inherited names, in a
// stable order (inherited first, then the output columns). It reports columns that are read
// but exist neither in the table nor among the inherited names.
func (q *Query) Columns(inherited []string) ([]string, error) {
	ck := &checker{q: q, cols: []string{"data"}, inherited: inherited}
	for _, op := range q.ops {
		if err := ck.op(op); err != nil {
			return nil, err
		}
	}
	out := append([]string(nil), inherited...)
	for _, c := range ck.cols {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// checker follows the column names through the operators of a query without data.
type checker struct {
	q         *Query
	cols      []string
	inherited []string
}

func (ck *checker) op(op kqlOp) error {
	switch op.kind {
	case opProject, opExtend, opMvExpand:
		for _, it := range op.items {
			if err := ck.check(it.x); err != nil {
				return err
			}
		}
		var next []string
		if op.kind != opProject {
			next = append(next, ck.cols...)
		}
		for _, it := range op.items {
			if !slices.Contains(next, it.name) {
				next = append(next, it.name)
			}
		}
		ck.cols = next
	case opWhere:
		return ck.check(op.cond)
	case opProjectAway, opProjectRename:
		next, _, msg := reshape(op, ck.cols)
		if msg != "" {
			return errAt(ck.q.text, op.pos, "%s", msg)
		}
		ck.cols = next
	}
	return nil
}

// check reports the first column x reads that is neither in the table nor inherited.
func (ck *checker) check(x expr) error {
	switch e := x.(type) {
	case *identExpr:
		has := slices.Contains(ck.cols, e.name)
		if !has && !slices.Contains(ck.inherited, e.name) && !(e.name == "source" && slices.Contains(ck.cols, "data")) {
			return errAt(ck.q.text, e.pos, "unknown column %q (columns here: %s)", e.name, strings.Join(append(append([]string(nil), ck.cols...), ck.inherited...), ", "))
		}
	case *memberExpr:
		if err := ck.check(e.x); err != nil {
			return err
		}
		if !e.lit {
			return ck.check(e.idx)
		}
	case *binExpr:
		if err := ck.check(e.l); err != nil {
			return err
		}
		return ck.check(e.r)
	case *callExpr:
		for _, a := range e.args {
			if err := ck.check(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// reshape applies project-away / project-rename to the column names cols: the names kept (as
// renamed) and their indexes in cols, or a message naming a column that does not exist.
func reshape(op kqlOp, cols []string) (next []string, keep []int, msg string) {
	rename := map[string]string{}
	for _, n := range op.names {
		if !slices.Contains(cols, n) {
			return nil, nil, fmt.Sprintf("project-away: unknown column %q", n)
		}
	}
	for _, it := range op.items {
		old := it.x.(*identExpr).name
		if !slices.Contains(cols, old) {
			return nil, nil, fmt.Sprintf("project-rename: unknown column %q", old)
		}
		rename[old] = it.name
	}
	for i, c := range cols {
		if slices.Contains(op.names, c) {
			continue
		}
		if n, ok := rename[c]; ok {
			c = n
		}
		next = append(next, c)
		keep = append(keep, i)
	}
	return next, keep, ""
}

// Assigned returns the names the query's operators assign (project, extend, mv-expand and
// project-rename), in order, each once: the placeholders it can provide whatever it inherits.
func (q *Query) Assigned() []string {
	var out []string
	for _, op := range q.ops {
		for _, it := range op.items {
			if !slices.Contains(out, it.name) {
				out = append(out, it.name)
			}
		}
	}
	return out
}
