package kql

import (
	"github.com/tidwall/gjson"
)

// table is the intermediate result of a query: named columns and their rows.
type table struct {
	cols []string
	rows [][]gjson.Result
}

func (t *table) index(name string) int {
	for i, c := range t.cols {
		if c == name {
			return i
		}
	}
	return -1
}

// place adds the columns items assign that t does not have yet and returns, per item, the
// index of its column.
func (t *table) place(items []assign) []int {
	pos := make([]int, len(items))
	for i, it := range items {
		if j := t.index(it.name); j >= 0 {
			pos[i] = j
			continue
		}
		pos[i] = len(t.cols)
		t.cols = append(t.cols, it.name)
	}
	return pos
}

// Run evaluates the query over one parent record (raw JSON text) with the placeholders
// inherited from earlier steps, which the query can read as columns and which every output
// row carries unless a column of the same name overrides them. Each row maps every inherited
// placeholder and every output column to its tostring() value (null is "").
func (q *Query) Run(record string, inherited map[string]string) ([]Row, error) {
	t := &table{cols: []string{"data"}, rows: [][]gjson.Result{{strVal(record)}}}
	for _, op := range q.ops {
		nt, err := q.apply(op, t, inherited)
		if err != nil {
			return nil, err
		}
		t = nt
	}
	out := make([]Row, 0, len(t.rows))
	for _, r := range t.rows {
		row := make(Row, len(inherited)+len(t.cols))
		for k, v := range inherited {
			row[k] = v
		}
		for i, c := range t.cols {
			row[c] = toString(r[i])
		}
		out = append(out, row)
	}
	return out, nil
}

func (q *Query) apply(op kqlOp, t *table, inherited map[string]string) (*table, error) {
	c := &evalCtx{q: q, t: t, inherited: inherited}
	switch op.kind {
	case opProject, opExtend:
		return c.project(op)
	case opProjectAway, opProjectRename:
		cols, keep, msg := reshape(op, t.cols)
		if msg != "" {
			return nil, c.errAt(op.pos, "%s", msg)
		}
		return t.pick(cols, keep), nil
	case opMvExpand:
		return c.mvExpand(op)
	case opWhere:
		return c.where(op)
	case opTake:
		nt := &table{cols: t.cols, rows: t.rows}
		if len(nt.rows) > op.n {
			nt.rows = nt.rows[:op.n]
		}
		return nt, nil
	}
	return nil, c.errAt(op.pos, "internal: unknown operator")
}

// project is project (the assigned columns only) and extend (the assigned columns added to or
// replacing those of the table).
func (c *evalCtx) project(op kqlOp) (*table, error) {
	nt := &table{}
	keep := 0
	if op.kind == opExtend {
		nt.cols = append(nt.cols, c.t.cols...)
		keep = len(c.t.cols)
	}
	pos := nt.place(op.items)
	for _, r := range c.t.rows {
		c.row = r
		nr := make([]gjson.Result, len(nt.cols))
		copy(nr, r[:keep])
		for i, it := range op.items {
			v, err := c.eval(it.x, 0)
			if err != nil {
				return nil, err
			}
			nr[pos[i]] = v
		}
		nt.rows = append(nt.rows, nr)
	}
	return nt, nil
}

// pick is t with the columns keep (old indexes) under the names cols.
func (t *table) pick(cols []string, keep []int) *table {
	nt := &table{cols: cols}
	for _, r := range t.rows {
		nr := make([]gjson.Result, len(keep))
		for i, k := range keep {
			nr[i] = r[k]
		}
		nt.rows = append(nt.rows, nr)
	}
	return nt
}

// mvExpand fans every row out into one row per element of the expanded values.
func (c *evalCtx) mvExpand(op kqlOp) (*table, error) {
	nt := &table{cols: append([]string(nil), c.t.cols...)}
	pos := nt.place(op.items)
	for _, r := range c.t.rows {
		c.row = r
		lists := make([][]gjson.Result, len(op.items))
		n := 0
		for i, it := range op.items {
			v, err := c.eval(it.x, 0)
			if err != nil {
				return nil, err
			}
			lists[i] = expand(v, op.bagArr)
			n = max(n, len(lists[i]))
		}
		if op.n > 0 {
			n = min(n, op.n)
		}
		if len(nt.rows)+n > MaxRows {
			return nil, c.errAt(op.pos, "mv-expand produces more than %d rows for one record", MaxRows)
		}
		nt.rows = appendExpanded(nt.rows, r, len(nt.cols), pos, lists, n)
	}
	return nt, nil
}

// appendExpanded appends n copies of row r widened to width columns, copy k holding the k-th
// element of each list at pos (null when that list is shorter).
func appendExpanded(rows [][]gjson.Result, r []gjson.Result, width int, pos []int, lists [][]gjson.Result, n int) [][]gjson.Result {
	for k := 0; k < n; k++ {
		nr := make([]gjson.Result, width)
		copy(nr, r)
		for i := range lists {
			if k < len(lists[i]) {
				nr[pos[i]] = lists[i][k]
			} else {
				nr[pos[i]] = gjson.Result{}
			}
		}
		rows = append(rows, nr)
	}
	return rows
}

func (c *evalCtx) where(op kqlOp) (*table, error) {
	nt := &table{cols: c.t.cols}
	for _, r := range c.t.rows {
		c.row = r
		v, err := c.eval(op.cond, 0)
		if err != nil {
			return nil, err
		}
		if v.Type == gjson.True {
			nt.rows = append(nt.rows, r)
		}
	}
	return nt, nil
}
