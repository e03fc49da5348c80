package nested

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Bounds of the KQL evaluator; a stepPlaceholdersParsingKql is configuration, but parent
// records are vendor data, so every loop and every recursion has a ceiling.
const (
	maxKQLText  = 8 << 10 // characters of one query
	maxKQLDepth = 64      // expression nesting
	maxKQLOps   = 32      // pipe stages
	// MaxKQLRows bounds the rows one query may produce for one parent record.
	MaxKQLRows = 100000
)

// KQL is a compiled stepPlaceholdersParsingKql: a pipeline over the one-row table `source`
// whose only column `data` holds one parent record as raw JSON text.
type KQL struct {
	text string
	ops  []kqlOp
}

// Row is one placeholder row: name -> value, used as $name$.
type Row map[string]string

// String returns the query text.
func (q *KQL) String() string { return q.text }

// KQLError is a syntax or evaluation error; Pos is a 1-based byte position in the text
// (0 when the error is not tied to a position).
type KQLError struct {
	Text string
	Pos  int
	Msg  string
}

func (e *KQLError) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("stepPlaceholdersParsingKql %q: at position %d: %s", e.Text, e.Pos, e.Msg)
	}
	return fmt.Sprintf("stepPlaceholdersParsingKql %q: %s", e.Text, e.Msg)
}

// ---------------------------------------------------------------- tokens

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tPunct
)

type token struct {
	kind tokKind
	text string // identifier, punctuation, number text, or the decoded string
	pos  int    // 0-based byte offset
}

func lex(text string) ([]token, error) {
	var out []token
	fail := func(pos int, f string, a ...any) error {
		return &KQLError{Text: text, Pos: pos + 1, Msg: fmt.Sprintf(f, a...)}
	}
	i := 0
	for i < len(text) {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '/' && i+1 < len(text) && text[i+1] == '/':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i + 1
			for j < len(text) && isIdentPart(text[j]) {
				j++
			}
			// Verbatim strings @'...' / @"..." are handled below; a bare identifier here.
			out = append(out, token{tIdent, text[i:j], i})
			i = j
		case c == '@' && i+1 < len(text) && (text[i+1] == '\'' || text[i+1] == '"'):
			q := text[i+1]
			j := i + 2
			for j < len(text) && text[j] != q {
				j++
			}
			if j >= len(text) {
				return nil, fail(i, "unterminated string literal")
			}
			out = append(out, token{tString, text[i+2 : j], i})
			i = j + 1
		case c == '\'' || c == '"':
			s, n, err := lexString(text[i:])
			if err != "" {
				return nil, fail(i, "%s", err)
			}
			out = append(out, token{tString, s, i})
			i += n
		case c >= '0' && c <= '9':
			j := i
			for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == '.') {
				j++
			}
			if _, err := strconv.ParseFloat(text[i:j], 64); err != nil {
				return nil, fail(i, "bad number %q", text[i:j])
			}
			out = append(out, token{tNumber, text[i:j], i})
			i = j
		default:
			two := ""
			if i+1 < len(text) {
				two = text[i : i+2]
			}
			switch two {
			case "==", "!=", "=~", "!~":
				out = append(out, token{tPunct, two, i})
				i += 2
				continue
			}
			switch c {
			case '|', ',', '(', ')', '[', ']', '.', '=', '-':
				out = append(out, token{tPunct, string(c), i})
				i++
			default:
				r, _ := utf8.DecodeRuneInString(text[i:])
				return nil, fail(i, "unexpected character %q", r)
			}
		}
	}
	out = append(out, token{tEOF, "", len(text)})
	return out, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// lexString decodes a '...' or "..." literal with backslash escapes; n is its length.
func lexString(s string) (string, int, string) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case q:
			return b.String(), i + 1, ""
		case '\\':
			if i+1 >= len(s) {
				return "", 0, "unterminated string literal"
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				return "", 0, fmt.Sprintf("unknown escape \\%c in string literal", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, "unterminated string literal"
}

// ---------------------------------------------------------------- AST

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

// ---------------------------------------------------------------- parser

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
	return &KQLError{Text: p.text, Pos: pos + 1, Msg: fmt.Sprintf(f, a...)}
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

// CompileKQL parses a stepPlaceholdersParsingKql query of the supported subset (see doc.go).
// kqlOperatorStart are the first words of the operators a query may begin with when it leaves
// out the table name.
var kqlOperatorStart = map[string]bool{"project": true, "extend": true, "where": true, "mv": true,
	"mvexpand": true, "take": true, "limit": true}

func CompileKQL(text string) (*KQL, error) {
	if len(text) > maxKQLText {
		return nil, &KQLError{Text: text[:64] + "...", Msg: fmt.Sprintf("query longer than %d characters", maxKQLText)}
	}
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{text: text, toks: toks}
	q := &KQL{text: text}
	// "source | project ..." is the documented form; Lookout's file starts with the operator
	// ("project token = parse_json(source) | ..."), which is read as if "source |" preceded it.
	t := p.peek()
	implicit := false
	switch {
	case t.kind == tIdent && t.text == "source":
		p.next()
	case t.kind == tIdent && kqlOperatorStart[t.text]:
		implicit = true
	default:
		return nil, p.errAt(t.pos, "the query must start with the table name source, found %s", describeTok(t))
	}
	for p.peek().kind != tEOF {
		if !implicit {
			if err := p.expect("|"); err != nil {
				return nil, err
			}
		}
		implicit = false
		if len(q.ops) >= maxKQLOps {
			return nil, p.errAt(p.peek().pos, "more than %d pipe stages", maxKQLOps)
		}
		op, err := p.operator()
		if err != nil {
			return nil, err
		}
		q.ops = append(q.ops, op)
	}
	return q, nil
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

func (p *parser) expr() (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxKQLDepth {
		return nil, p.errAt(p.peek().pos, "expression nested deeper than %d", maxKQLDepth)
	}
	return p.orExpr()
}

func (p *parser) orExpr() (expr, error) {
	l, err := p.andExpr()
	for err == nil && p.peek().kind == tIdent && p.peek().text == "or" {
		t := p.next()
		var r expr
		if r, err = p.andExpr(); err == nil {
			l = &binExpr{op: "or", l: l, r: r, pos: t.pos}
		}
	}
	return l, err
}

func (p *parser) andExpr() (expr, error) {
	l, err := p.cmpExpr()
	for err == nil && p.peek().kind == tIdent && p.peek().text == "and" {
		t := p.next()
		var r expr
		if r, err = p.cmpExpr(); err == nil {
			l = &binExpr{op: "and", l: l, r: r, pos: t.pos}
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
		if n > maxKQLDepth {
			return nil, p.errAt(p.peek().pos, "member access chain longer than %d", maxKQLDepth)
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
			t := p.next()
			if k := p.peek(); k.kind == tString && p.toks[p.i+1].kind == tPunct && p.toks[p.i+1].text == "]" {
				p.next()
				p.next()
				x = &memberExpr{x: x, key: k.text, lit: true, pos: t.pos}
				continue
			}
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			x = &memberExpr{x: x, idx: idx, pos: t.pos}
		default:
			return x, nil
		}
	}
}

var kqlFuncs = map[string][2]int{ // name -> min, max args
	"parse_json": {1, 1}, "todynamic": {1, 1}, "tostring": {1, 1}, "toint": {1, 1},
	"tolong": {1, 1}, "isempty": {1, 1}, "isnotempty": {1, 1}, "isnull": {1, 1},
	"isnotnull": {1, 1}, "not": {1, 1}, "strcat": {1, 64}, "coalesce": {1, 64},
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
			fn := strings.ToLower(t.text)
			arity, ok := kqlFuncs[fn]
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
			if len(args) < arity[0] || len(args) > arity[1] {
				return nil, p.errAt(t.pos, "%s() takes %d argument(s), got %d", t.text, arity[0], len(args))
			}
			return &callExpr{fn: fn, args: args, pos: t.pos}, nil
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

// ---------------------------------------------------------------- values

func strVal(s string) gjson.Result {
	b, _ := json.Marshal(s)
	return gjson.Result{Type: gjson.String, Str: s, Raw: string(b)}
}

func numVal(text string) gjson.Result {
	f, _ := strconv.ParseFloat(text, 64)
	return gjson.Result{Type: gjson.Number, Num: f, Raw: text}
}

func isNull(v gjson.Result) bool { return v.Type == gjson.Null }

// toString is KQL tostring(): strings unquoted, numbers as written, booleans true/false,
// objects and arrays as compact JSON, null as "".
func toString(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return ""
	case gjson.String:
		return v.Str
	case gjson.Number:
		return v.Raw
	case gjson.True:
		return "true"
	case gjson.False:
		return "false"
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(v.Raw)) == nil {
		return b.String()
	}
	return v.Raw
}

// parseJSON is parse_json()/todynamic(): a string holding JSON becomes that value; anything
// else (already dynamic, or text that is not JSON) is returned as is.
func parseJSON(v gjson.Result) gjson.Result {
	if v.Type != gjson.String {
		return v
	}
	s := strings.TrimSpace(v.Str)
	if s == "" || !gjson.Valid(s) {
		return v
	}
	return gjson.Parse(s)
}

func toInt(v gjson.Result, bits int) gjson.Result {
	var f float64
	switch v.Type {
	case gjson.Number:
		if n, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
			return intVal(n, bits)
		}
		f = v.Num
	case gjson.String:
		s := strings.TrimSpace(v.Str)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return intVal(n, bits)
		}
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return gjson.Result{}
		}
	case gjson.True:
		return intVal(1, bits)
	case gjson.False:
		return intVal(0, bits)
	default:
		return gjson.Result{}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f >= 9.2e18 || f <= -9.2e18 {
		return gjson.Result{}
	}
	return intVal(int64(f), bits)
}

func intVal(n int64, bits int) gjson.Result {
	if bits == 32 && (n > math.MaxInt32 || n < math.MinInt32) {
		return gjson.Result{}
	}
	return numVal(strconv.FormatInt(n, 10))
}

func boolVal(b bool) gjson.Result {
	if b {
		return gjson.Result{Type: gjson.True, Raw: "true"}
	}
	return gjson.Result{Type: gjson.False, Raw: "false"}
}

func isEmpty(v gjson.Result) bool {
	return v.Type == gjson.Null || v.Type == gjson.String && v.Str == ""
}

// ---------------------------------------------------------------- evaluation

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

type evalCtx struct {
	q         *KQL
	t         *table
	row       []gjson.Result
	inherited map[string]string
}

func (c *evalCtx) errAt(pos int, f string, a ...any) error {
	return &KQLError{Text: c.q.text, Pos: pos + 1, Msg: fmt.Sprintf(f, a...)}
}

func (c *evalCtx) eval(x expr, depth int) (gjson.Result, error) {
	if depth > maxKQLDepth*2 {
		return gjson.Result{}, &KQLError{Text: c.q.text, Msg: "expression too deep"}
	}
	switch e := x.(type) {
	case *litExpr:
		return e.v, nil
	case *identExpr:
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
	case *memberExpr:
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
	case *binExpr:
		l, err := c.eval(e.l, depth+1)
		if err != nil {
			return l, err
		}
		switch e.op {
		case "and":
			if l.Type != gjson.True {
				return boolVal(false), nil
			}
		case "or":
			if l.Type == gjson.True {
				return boolVal(true), nil
			}
		}
		r, err := c.eval(e.r, depth+1)
		if err != nil {
			return r, err
		}
		switch e.op {
		case "and", "or":
			return boolVal(r.Type == gjson.True), nil
		case "==", "!=":
			eq := equal(l, r, false)
			return boolVal(eq == (e.op == "==")), nil
		default: // =~ !~
			eq := equal(l, r, true)
			return boolVal(eq == (e.op == "=~")), nil
		}
	case *callExpr:
		args := make([]gjson.Result, len(e.args))
		for i, a := range e.args {
			v, err := c.eval(a, depth+1)
			if err != nil {
				return v, err
			}
			args[i] = v
		}
		switch e.fn {
		case "parse_json", "todynamic":
			return parseJSON(args[0]), nil
		case "tostring":
			if isNull(args[0]) {
				return strVal(""), nil
			}
			return strVal(toString(args[0])), nil
		case "toint":
			return toInt(args[0], 32), nil
		case "tolong":
			return toInt(args[0], 64), nil
		case "isempty":
			return boolVal(isEmpty(args[0])), nil
		case "isnotempty":
			return boolVal(!isEmpty(args[0])), nil
		case "isnull":
			return boolVal(isNull(args[0])), nil
		case "isnotnull":
			return boolVal(!isNull(args[0])), nil
		case "not":
			return boolVal(args[0].Type != gjson.True), nil
		case "strcat":
			var b strings.Builder
			for _, a := range args {
				b.WriteString(toString(a))
			}
			return strVal(b.String()), nil
		case "coalesce":
			for _, a := range args {
				if !isEmpty(a) {
					return a, nil
				}
			}
			return gjson.Result{}, nil
		}
	}
	return gjson.Result{}, &KQLError{Text: c.q.text, Msg: fmt.Sprintf("internal: cannot evaluate %T", x)}
}

func equal(l, r gjson.Result, fold bool) bool {
	if l.Type == gjson.Number && r.Type == gjson.Number {
		return l.Num == r.Num
	}
	if fold {
		return strings.EqualFold(toString(l), toString(r))
	}
	return toString(l) == toString(r)
}

// member is property access on a property bag; anything else (or a missing key) is null.
// Keys are matched exactly, as in KQL.
func member(v gjson.Result, key string) gjson.Result {
	if !v.IsObject() {
		return gjson.Result{}
	}
	var out gjson.Result
	v.ForEach(func(k, val gjson.Result) bool {
		if k.Str == key {
			out = val // last duplicate wins, as Json.NET does
		}
		return true
	})
	return out
}

// index is array indexing; negative indexes count from the end, as in KQL.
func index(v gjson.Result, i int) gjson.Result {
	if !v.IsArray() {
		return gjson.Result{}
	}
	arr := v.Array()
	if i < 0 {
		i += len(arr)
	}
	if i < 0 || i >= len(arr) {
		return gjson.Result{}
	}
	return arr[i]
}

// expand is the mv-expand of one value: array elements; a property bag's entries as
// single-entry bags ({"key": value}) or, with bagexpansion=array, as [key, value] pairs;
// any other value (including null and empty arrays) as a single null-or-scalar row.
func expand(v gjson.Result, bagArr bool) []gjson.Result {
	switch {
	case v.IsArray():
		return v.Array()
	case v.IsObject():
		var out []gjson.Result
		v.ForEach(func(k, val gjson.Result) bool {
			key, _ := json.Marshal(k.Str)
			var raw string
			if bagArr {
				raw = "[" + string(key) + "," + val.Raw + "]"
			} else {
				raw = "{" + string(key) + ":" + val.Raw + "}"
			}
			out = append(out, gjson.Parse(raw))
			return true
		})
		return out
	}
	return []gjson.Result{v}
}

// Run evaluates the query over one parent record (raw JSON text) with the placeholders
// inherited from earlier steps, which the query can read as columns and which every output
// row carries unless a column of the same name overrides them. Each row maps every inherited
// placeholder and every output column to its tostring() value (null is "").
func (q *KQL) Run(record string, inherited map[string]string) ([]Row, error) {
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

func (q *KQL) apply(op kqlOp, t *table, inherited map[string]string) (*table, error) {
	ctx := &evalCtx{q: q, t: t, inherited: inherited}
	switch op.kind {
	case opProject, opExtend:
		nt := &table{}
		keep := 0
		if op.kind == opExtend {
			nt.cols = append(nt.cols, t.cols...)
			keep = len(t.cols)
		}
		pos := make([]int, len(op.items))
		for i, it := range op.items {
			if j := nt.index(it.name); j >= 0 {
				pos[i] = j
				continue
			}
			pos[i] = len(nt.cols)
			nt.cols = append(nt.cols, it.name)
		}
		for _, r := range t.rows {
			ctx.row = r
			nr := make([]gjson.Result, len(nt.cols))
			copy(nr, r[:keep])
			for i, it := range op.items {
				v, err := ctx.eval(it.x, 0)
				if err != nil {
					return nil, err
				}
				nr[pos[i]] = v
			}
			nt.rows = append(nt.rows, nr)
		}
		return nt, nil
	case opProjectAway, opProjectRename:
		drop := map[string]bool{}
		rename := map[string]string{}
		for _, n := range op.names {
			if t.index(n) < 0 {
				return nil, ctx.errAt(op.pos, "project-away: unknown column %q", n)
			}
			drop[n] = true
		}
		for _, it := range op.items {
			old := it.x.(*identExpr).name
			if t.index(old) < 0 {
				return nil, ctx.errAt(op.pos, "project-rename: unknown column %q", old)
			}
			rename[old] = it.name
		}
		nt := &table{}
		var keep []int
		for i, c := range t.cols {
			if drop[c] {
				continue
			}
			if n, ok := rename[c]; ok {
				c = n
			}
			nt.cols = append(nt.cols, c)
			keep = append(keep, i)
		}
		for _, r := range t.rows {
			nr := make([]gjson.Result, len(keep))
			for i, k := range keep {
				nr[i] = r[k]
			}
			nt.rows = append(nt.rows, nr)
		}
		return nt, nil
	case opMvExpand:
		nt := &table{cols: append([]string(nil), t.cols...)}
		pos := make([]int, len(op.items))
		for i, it := range op.items {
			if j := nt.index(it.name); j >= 0 {
				pos[i] = j
				continue
			}
			pos[i] = len(nt.cols)
			nt.cols = append(nt.cols, it.name)
		}
		for _, r := range t.rows {
			ctx.row = r
			lists := make([][]gjson.Result, len(op.items))
			n := 0
			for i, it := range op.items {
				v, err := ctx.eval(it.x, 0)
				if err != nil {
					return nil, err
				}
				lists[i] = expand(v, op.bagArr)
				n = max(n, len(lists[i]))
			}
			if op.n > 0 {
				n = min(n, op.n)
			}
			if len(nt.rows)+n > MaxKQLRows {
				return nil, ctx.errAt(op.pos, "mv-expand produces more than %d rows for one record", MaxKQLRows)
			}
			for k := 0; k < n; k++ {
				nr := make([]gjson.Result, len(nt.cols))
				copy(nr, r)
				for i := range op.items {
					if k < len(lists[i]) {
						nr[pos[i]] = lists[i][k]
					} else {
						nr[pos[i]] = gjson.Result{}
					}
				}
				nt.rows = append(nt.rows, nr)
			}
		}
		return nt, nil
	case opWhere:
		nt := &table{cols: t.cols}
		for _, r := range t.rows {
			ctx.row = r
			v, err := ctx.eval(op.cond, 0)
			if err != nil {
				return nil, err
			}
			if v.Type == gjson.True {
				nt.rows = append(nt.rows, r)
			}
		}
		return nt, nil
	case opTake:
		nt := &table{cols: t.cols, rows: t.rows}
		if len(nt.rows) > op.n {
			nt.rows = nt.rows[:op.n]
		}
		return nt, nil
	}
	return nil, ctx.errAt(op.pos, "internal: unknown operator")
}

// Columns returns the placeholder names the query yields given the inherited names, in a
// stable order (inherited first, then the output columns). It reports columns that are read
// but exist neither in the table nor among the inherited names.
func (q *KQL) Columns(inherited []string) ([]string, error) {
	cols := []string{"data"}
	has := func(list []string, n string) bool {
		for _, c := range list {
			if c == n {
				return true
			}
		}
		return false
	}
	var check func(x expr) error
	check = func(x expr) error {
		switch e := x.(type) {
		case *identExpr:
			if !has(cols, e.name) && !has(inherited, e.name) && !(e.name == "source" && has(cols, "data")) {
				return &KQLError{Text: q.text, Pos: e.pos + 1, Msg: fmt.Sprintf("unknown column %q (columns here: %s)", e.name, strings.Join(append(append([]string(nil), cols...), inherited...), ", "))}
			}
		case *memberExpr:
			if err := check(e.x); err != nil {
				return err
			}
			if !e.lit {
				return check(e.idx)
			}
		case *binExpr:
			if err := check(e.l); err != nil {
				return err
			}
			return check(e.r)
		case *callExpr:
			for _, a := range e.args {
				if err := check(a); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, op := range q.ops {
		switch op.kind {
		case opProject, opExtend, opMvExpand:
			for _, it := range op.items {
				if err := check(it.x); err != nil {
					return nil, err
				}
			}
			var next []string
			if op.kind != opProject {
				next = append(next, cols...)
			}
			for _, it := range op.items {
				if !has(next, it.name) {
					next = append(next, it.name)
				}
			}
			cols = next
		case opWhere:
			if err := check(op.cond); err != nil {
				return nil, err
			}
		case opProjectAway, opProjectRename:
			var next []string
			for _, c := range cols {
				away := false
				for _, n := range op.names {
					away = away || n == c
				}
				for _, it := range op.items {
					if it.x.(*identExpr).name == c {
						c = it.name
					}
				}
				if !away {
					next = append(next, c)
				}
			}
			for _, n := range op.names {
				if !has(cols, n) {
					return nil, &KQLError{Text: q.text, Pos: op.pos + 1, Msg: fmt.Sprintf("project-away: unknown column %q", n)}
				}
			}
			for _, it := range op.items {
				if old := it.x.(*identExpr).name; !has(cols, old) {
					return nil, &KQLError{Text: q.text, Pos: op.pos + 1, Msg: fmt.Sprintf("project-rename: unknown column %q", old)}
				}
			}
			cols = next
		}
	}
	out := append([]string(nil), inherited...)
	for _, c := range cols {
		if !has(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}
