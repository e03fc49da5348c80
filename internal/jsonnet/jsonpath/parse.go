// Package jsonpath evaluates JSONPath expressions the way Newtonsoft Json.NET's
// JToken.SelectTokens does, over raw JSON bytes.
//
// It exists because Microsoft Sentinel CCP definitions (eventsJsonPaths,
// nextPageTokenJsonPath, JwtTokenJsonPath, successStatusJsonPath, ...) are
// executed by Json.NET, and real connector files depend on its dialect: an
// optional "$", "$.[-1:]", a property literally named "null", "" meaning the
// root, filters like [?(@.TableKind == 'PrimaryResult')], and "$[-1]" being an
// error rather than "the last element". Generic Go JSONPath libraries differ
// on exactly those points. JSON is walked with github.com/tidwall/gjson; this
// package never parses JSON itself and results alias the document.
package jsonpath

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// stepKind enumerates the Json.NET path filters that are emulated.
type stepKind uint8

const (
	stepField      stepKind = iota // .name / ['name']            (FieldFilter)
	stepFieldAll                   // .* (FieldFilter with null name)
	stepFieldMulti                 // ['a','b']                     (FieldMultipleFilter)
	stepIndex                      // [n]                           (ArrayIndexFilter)
	stepIndexAll                   // [*]                           (ArrayIndexFilter, null index)
	stepIndexMulti                 // [0,1]                         (ArrayMultipleIndexFilter)
	stepSlice                      // [a:b:c]                       (ArraySliceFilter)
	stepScan                       // ..name / ..['name']           (ScanFilter)
	stepScanAll                    // ..*                           (ScanFilter with null name)
	stepScanMulti                  // ..['a','b']                   (ScanMultipleFilter)
	stepQuery                      // [?(...)]                      (QueryFilter)
	stepQueryScan                  // ..[?(...)]                    (QueryScanFilter)
	stepRoot                       // $ inside a filter expression  (RootFilter)
)

type step struct {
	kind    stepKind
	name    string
	names   []string
	index   int
	indexes []int
	// slice bounds; has* tell whether the bound was given.
	start, end, stepN          int
	hasStart, hasEnd, hasStepN bool
	expr                       expr
}

// Path is a compiled Json.NET JSONPath. It is immutable and safe for
// concurrent use.
type Path struct {
	src   string
	steps []step
}

// String returns the source text the path was compiled from.
func (p *Path) String() string { return p.src }

// ErrSyntax is wrapped by every Compile error.
var ErrSyntax = errors.New("jsonpath: syntax error")

type parser struct {
	s string
	i int
}

func (ps *parser) errf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d in %q: %s", ErrSyntax, ps.i, ps.s, fmt.Sprintf(format, args...))
}

// Compile parses a Json.NET JSONPath. The grammar follows Json.NET's JPath
// parser: "" and "$" select the root, "$" is only a root marker when followed
// by "." or "[" (so "$page" is a property name), a leading "." or ".." is
// allowed, and member names end at ".", "[", "(", "]", ")" or a space.
func Compile(path string) (*Path, error) {
	ps := &parser{s: path}
	steps, err := ps.parseMain()
	if err != nil {
		return nil, err
	}
	return &Path{src: path, steps: steps}, nil
}

// MustCompile is Compile that panics on error; for constant paths in tests
// and package-level variables.
func MustCompile(path string) *Path {
	p, err := Compile(path)
	if err != nil {
		panic(err)
	}
	return p
}

func (ps *parser) eatWhitespace() {
	for ps.i < len(ps.s) && ps.s[ps.i] == ' ' {
		ps.i++
	}
}

func (ps *parser) parseMain() ([]step, error) {
	start := ps.i
	ps.eatWhitespace()
	if ps.i == len(ps.s) {
		return nil, nil
	}
	if ps.s[ps.i] == '$' {
		if len(ps.s) == ps.i+1 {
			return nil, nil
		}
		if c := ps.s[ps.i+1]; c == '.' || c == '[' {
			ps.i++
			start = ps.i
		}
	}
	var steps []step
	atEnd, err := ps.parsePath(&steps, start, false)
	if err != nil {
		return nil, err
	}
	if !atEnd {
		last := ps.i
		ps.eatWhitespace()
		if ps.i < len(ps.s) {
			ps.i = last
			return nil, ps.errf("unexpected character %q while parsing path", ps.s[last])
		}
	}
	return steps, nil
}

func memberStep(member string, scan bool) step {
	if member == "*" {
		if scan {
			return step{kind: stepScanAll}
		}
		return step{kind: stepFieldAll}
	}
	if scan {
		return step{kind: stepScan, name: member}
	}
	return step{kind: stepField, name: member}
}

// parsePath mirrors JPath.ParsePath. It reports whether the end of the
// expression was reached.
func (ps *parser) parsePath(steps *[]step, partStart int, query bool) (bool, error) {
	scan := false
	followingIndexer := false
	followingDot := false
	ended := false
	for ps.i < len(ps.s) && !ended {
		c := ps.s[ps.i]
		switch c {
		case '[', '(':
			if ps.i > partStart {
				*steps = append(*steps, memberStep(ps.s[partStart:ps.i], scan))
				scan = false
			}
			st, err := ps.parseIndexer(c, scan)
			if err != nil {
				return false, err
			}
			*steps = append(*steps, st)
			scan = false
			ps.i++
			partStart = ps.i
			followingIndexer = true
			followingDot = false
		case ']', ')':
			ended = true
		case ' ':
			ended = true
		case '.':
			if ps.i > partStart {
				*steps = append(*steps, memberStep(ps.s[partStart:ps.i], scan))
				scan = false
			}
			if ps.i+1 < len(ps.s) && ps.s[ps.i+1] == '.' {
				scan = true
				ps.i++
			}
			ps.i++
			partStart = ps.i
			followingIndexer = false
			followingDot = true
		default:
			if query && (c == '=' || c == '<' || c == '!' || c == '>' || c == '|' || c == '&') {
				ended = true
			} else {
				if followingIndexer {
					return false, ps.errf("unexpected character %q following indexer", c)
				}
				ps.i++
			}
		}
	}
	atEnd := ps.i == len(ps.s)
	if ps.i > partStart {
		member := strings.TrimRight(ps.s[partStart:ps.i], " ")
		*steps = append(*steps, memberStep(member, scan))
	} else if followingDot && (atEnd || query) {
		return false, ps.errf("unexpected end while parsing path")
	}
	return atEnd, nil
}

func (ps *parser) parseIndexer(open byte, scan bool) (step, error) {
	ps.i++
	closer := byte(']')
	if open == '(' {
		closer = ')'
	}
	if ps.i >= len(ps.s) {
		return step{}, ps.errf("path ended with open indexer")
	}
	ps.eatWhitespace()
	if ps.i >= len(ps.s) {
		return step{}, ps.errf("path ended with open indexer")
	}
	switch ps.s[ps.i] {
	case '\'':
		return ps.parseQuotedField(closer, scan)
	case '?':
		return ps.parseQuery(closer, scan)
	default:
		// Json.NET ignores the scan flag for numeric indexers: $..[0] == $[0].
		return ps.parseArrayIndexer(closer)
	}
}

func (ps *parser) parseQuotedField(closer byte, scan bool) (step, error) {
	var fields []string
	for ps.i < len(ps.s) {
		field, err := ps.readQuotedString()
		if err != nil {
			return step{}, err
		}
		ps.eatWhitespace()
		if ps.i >= len(ps.s) {
			return step{}, ps.errf("path ended with open indexer")
		}
		switch ps.s[ps.i] {
		case closer:
			if fields != nil {
				fields = append(fields, field)
				if scan {
					return step{kind: stepScanMulti, names: fields}, nil
				}
				return step{kind: stepFieldMulti, names: fields}, nil
			}
			// A quoted '*' is a literal property name, not a wildcard.
			if scan {
				return step{kind: stepScan, name: field}, nil
			}
			return step{kind: stepField, name: field}, nil
		case ',':
			ps.i++
			ps.eatWhitespace()
			fields = append(fields, field)
			if ps.i >= len(ps.s) || ps.s[ps.i] != '\'' {
				return step{}, ps.errf("expected quoted name in indexer")
			}
		default:
			return step{}, ps.errf("unexpected character %q while parsing path indexer", ps.s[ps.i])
		}
	}
	return step{}, ps.errf("path ended with open indexer")
}

// readQuotedString reads a single-quoted string starting at ps.i (the quote).
func (ps *parser) readQuotedString() (string, error) {
	var sb strings.Builder
	ps.i++
	for ps.i < len(ps.s) {
		c := ps.s[ps.i]
		switch {
		case c == '\\' && ps.i+1 < len(ps.s):
			ps.i++
			switch e := ps.s[ps.i]; e {
			case 'b':
				sb.WriteByte('\b')
			case 't':
				sb.WriteByte('\t')
			case 'n':
				sb.WriteByte('\n')
			case 'f':
				sb.WriteByte('\f')
			case 'r':
				sb.WriteByte('\r')
			case '\\', '"', '\'', '/':
				sb.WriteByte(e)
			default:
				return "", ps.errf("unknown escape character \\%c", e)
			}
			ps.i++
		case c == '\'':
			ps.i++
			return sb.String(), nil
		default:
			sb.WriteByte(c)
			ps.i++
		}
	}
	return "", ps.errf("path ended with an open string")
}

func (ps *parser) parseInt(text string) (int, error) {
	text = strings.TrimSpace(text)
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil {
		return 0, ps.errf("invalid array index %q", text)
	}
	return int(n), nil
}

// parseArrayIndexer mirrors JPath.ParseArrayIndexer: [n], [*], [a,b], [a:b:c].
func (ps *parser) parseArrayIndexer(closer byte) (step, error) {
	x := indexerScan{ps: ps, start: ps.i, end: -1, slice: step{kind: stepSlice}}
	for ps.i < len(ps.s) {
		c := ps.s[ps.i]
		if c == ' ' {
			x.end = ps.i
			ps.eatWhitespace()
			continue
		}
		switch {
		case c == closer:
			return x.close()
		case c == ',':
			if err := x.comma(); err != nil {
				return step{}, err
			}
			continue
		case c == '*':
			return ps.parseIndexAll(closer)
		case c == ':':
			if err := x.colon(); err != nil {
				return step{}, err
			}
			continue
		case (c < '0' || c > '9') && c != '-', x.end >= 0:
			// a non-digit, or a digit after a space inside a number
			return step{}, ps.errf("unexpected character %q while parsing path indexer", c)
		}
		ps.i++
	}
	return step{}, ps.errf("path ended with open indexer")
}

// indexerScan is parseArrayIndexer's state. The number being read starts at
// start and ends at end when a space followed it, else at the cursor.
type indexerScan struct {
	ps         *parser
	start, end int
	indexes    []int // numbers before each ',' ([a,b])
	colons     int   // ':' seen so far ([a:b:c])
	slice      step
}

func (x *indexerScan) text() string {
	stop := x.ps.i
	if x.end >= 0 {
		stop = x.end
	}
	return x.ps.s[x.start:stop]
}

// number parses the number just read, which must be there.
func (x *indexerScan) number() (int, error) {
	text := x.text()
	if text == "" {
		return 0, x.ps.errf("array index expected")
	}
	return x.ps.parseInt(text)
}

// next skips a separator and the spaces after it.
func (x *indexerScan) next() {
	x.ps.i++
	x.ps.eatWhitespace()
	x.start = x.ps.i
	x.end = -1
}

func (x *indexerScan) comma() error {
	n, err := x.number()
	if err != nil {
		return err
	}
	x.indexes = append(x.indexes, n)
	x.next()
	return nil
}

func (x *indexerScan) colon() error {
	if err := x.slicePart(); err != nil {
		return err
	}
	x.colons++
	x.next()
	return nil
}

// slicePart sets the slice bound just read, if one was given.
func (x *indexerScan) slicePart() error {
	text := x.text()
	if text == "" {
		return nil
	}
	n, err := x.ps.parseInt(text)
	if err != nil {
		return err
	}
	x.ps.setSlicePart(&x.slice, x.colons, n)
	return nil
}

// close ends the indexer at its closer: a list, a slice or one index.
func (x *indexerScan) close() (step, error) {
	switch {
	case x.indexes != nil:
		n, err := x.number()
		if err != nil {
			return step{}, err
		}
		return step{kind: stepIndexMulti, indexes: append(x.indexes, n)}, nil
	case x.colons > 0:
		if err := x.slicePart(); err != nil {
			return step{}, err
		}
		if x.slice.hasStepN && x.slice.stepN == 0 {
			return step{}, x.ps.errf("step cannot be zero")
		}
		return x.slice, nil
	}
	n, err := x.number()
	if err != nil {
		return step{}, err
	}
	return step{kind: stepIndex, index: n}, nil
}

// parseIndexAll reads the rest of [*].
func (ps *parser) parseIndexAll(closer byte) (step, error) {
	ps.i++
	if ps.i >= len(ps.s) {
		return step{}, ps.errf("path ended with open indexer")
	}
	ps.eatWhitespace()
	if ps.i >= len(ps.s) || ps.s[ps.i] != closer {
		return step{}, ps.errf("unexpected character while parsing path indexer")
	}
	return step{kind: stepIndexAll}, nil
}

func (ps *parser) setSlicePart(sl *step, colons, n int) {
	switch colons {
	case 0:
		sl.start, sl.hasStart = n, true
	case 1:
		sl.end, sl.hasEnd = n, true
	default:
		sl.stepN, sl.hasStepN = n, true
	}
}

func (ps *parser) parseQuery(closer byte, scan bool) (step, error) {
	ps.i++
	if ps.i >= len(ps.s) {
		return step{}, ps.errf("path ended with open indexer")
	}
	if ps.s[ps.i] != '(' {
		return step{}, ps.errf("unexpected character %q while parsing path indexer", ps.s[ps.i])
	}
	ps.i++
	e, err := ps.parseExpression()
	if err != nil {
		return step{}, err
	}
	ps.i++ // past ')'
	if ps.i >= len(ps.s) {
		return step{}, ps.errf("path ended with open indexer")
	}
	ps.eatWhitespace()
	if ps.i >= len(ps.s) || ps.s[ps.i] != closer {
		return step{}, ps.errf("unexpected character while parsing path indexer")
	}
	if scan {
		return step{kind: stepQueryScan, expr: e}, nil
	}
	return step{kind: stepQuery, expr: e}, nil
}

// ---- filter expressions ----

type opKind uint8

const (
	opExists opKind = iota
	opEq
	opStrictEq
	opNe
	opStrictNe
	opLt
	opLe
	opGt
	opGe
	opRegex
	opAnd
	opOr
)

// opText is the operator as written, for warnings.
var opText = [...]string{opLt: "<", opLe: "<=", opGt: ">", opGe: ">="}

type litKind uint8

const (
	litString litKind = iota
	litNumber
	litTrue
	litFalse
	litNull
	litRegex
)

// operand is either a path (relative to @, or to the root when root is set)
// or a literal value.
type operand struct {
	isPath bool
	steps  []step
	kind   litKind
	str    string
	num    float64
	isInt  bool
	i64    int64
	re     *regexp.Regexp
}

// expr is a boolean filter expression. Composite expressions (opAnd/opOr)
// use children; the others compare left and right.
type expr struct {
	op          opKind
	left, right *operand
	children    []*expr
}

// parseExpression mirrors JPath.ParseExpression, including its unusual
// grouping: each change of && / || nests the rest of the expression, so
// "a && b || c" is a && (b || c). There are no parentheses.
func (ps *parser) parseExpression() (expr, error) {
	var root, parent *expr
	for ps.i < len(ps.s) {
		left, err := ps.parseSide()
		if err != nil {
			return expr{}, err
		}
		be := &expr{op: opExists, left: left}
		if c := ps.s[ps.i]; c != ')' && c != '|' && c != '&' {
			op, err := ps.parseOperator()
			if err != nil {
				return expr{}, err
			}
			right, err := ps.parseSide()
			if err != nil {
				return expr{}, err
			}
			be.op, be.right = op, right
		}
		switch ps.s[ps.i] {
		case ')':
			if parent != nil {
				parent.children = append(parent.children, be)
				return *root, nil
			}
			return *be, nil
		case '&', '|':
			want := opAnd
			tok := "&&"
			if ps.s[ps.i] == '|' {
				want, tok = opOr, "||"
			}
			if !strings.HasPrefix(ps.s[ps.i:], tok) {
				return expr{}, ps.errf("unexpected character %q in filter", ps.s[ps.i])
			}
			ps.i += 2
			if parent == nil || parent.op != want {
				ce := &expr{op: want}
				if parent != nil {
					parent.children = append(parent.children, ce)
				}
				parent = ce
				if root == nil {
					root = parent
				}
			}
			parent.children = append(parent.children, be)
		default:
			return expr{}, ps.errf("unexpected character %q in filter", ps.s[ps.i])
		}
	}
	return expr{}, ps.errf("path ended with open query")
}

func (ps *parser) parseSide() (*operand, error) {
	ps.eatWhitespace()
	if ps.i >= len(ps.s) {
		return nil, ps.errf("path ended with open query")
	}
	var o *operand
	switch c := ps.s[ps.i]; c {
	case '$', '@':
		o = &operand{isPath: true}
		if c == '$' {
			o.steps = append(o.steps, step{kind: stepRoot})
		}
		ps.i++
		atEnd, err := ps.parsePath(&o.steps, ps.i, true)
		if err != nil {
			return nil, err
		}
		if atEnd {
			return nil, ps.errf("path ended with open query")
		}
	default:
		v, err := ps.parseValue()
		if err != nil {
			return nil, err
		}
		o = v
	}
	ps.eatWhitespace()
	if ps.i >= len(ps.s) {
		return nil, ps.errf("path ended with open query")
	}
	return o, nil
}

func (ps *parser) parseValue() (*operand, error) {
	c := ps.s[ps.i]
	switch {
	case c == '\'':
		s, err := ps.readQuotedString()
		if err != nil {
			return nil, err
		}
		return &operand{kind: litString, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		st := ps.i
		for ps.i < len(ps.s) {
			d := ps.s[ps.i]
			if d == ' ' || d == ')' || d == '&' || d == '|' || d == ']' {
				break
			}
			ps.i++
		}
		if ps.i >= len(ps.s) {
			return nil, ps.errf("path ended with open query")
		}
		text := ps.s[st:ps.i]
		o := &operand{kind: litNumber, str: text}
		if !strings.ContainsAny(text, ".eE") {
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				o.isInt, o.i64, o.num = true, n, float64(n)
				return o, nil
			}
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			ps.i = st
			return nil, ps.errf("could not read number %q", text)
		}
		o.num = f
		return o, nil
	case strings.HasPrefix(ps.s[ps.i:], "true"):
		ps.i += 4
		return &operand{kind: litTrue}, nil
	case strings.HasPrefix(ps.s[ps.i:], "false"):
		ps.i += 5
		return &operand{kind: litFalse}, nil
	case strings.HasPrefix(ps.s[ps.i:], "null"):
		ps.i += 4
		return &operand{kind: litNull}, nil
	case c == '/':
		return ps.parseRegex()
	}
	return nil, ps.errf("unexpected character %q in filter", c)
}

func (ps *parser) parseRegex() (*operand, error) {
	st := ps.i
	ps.i++
	for ps.i < len(ps.s) {
		c := ps.s[ps.i]
		if c == '\\' && ps.i+1 < len(ps.s) {
			ps.i += 2
			continue
		}
		if c == '/' {
			pattern := ps.s[st+1 : ps.i]
			ps.i++
			fst := ps.i
			for ps.i < len(ps.s) && ps.s[ps.i] >= 'a' && ps.s[ps.i] <= 'z' {
				ps.i++
			}
			flags := ""
			for _, f := range ps.s[fst:ps.i] {
				switch f {
				case 'i', 'm', 's':
					flags += string(f)
				}
			}
			if flags != "" {
				pattern = "(?" + flags + ")" + pattern
			}
			re, err := regexp.Compile(pattern)
			if err != nil {
				return nil, ps.errf("invalid regex: %v", err)
			}
			return &operand{kind: litRegex, re: re}, nil
		}
		ps.i++
	}
	return nil, ps.errf("path ended with open regex")
}

func (ps *parser) parseOperator() (opKind, error) {
	if ps.i+1 >= len(ps.s) {
		return 0, ps.errf("path ended with open query")
	}
	ops := []struct {
		tok string
		op  opKind
	}{
		{"===", opStrictEq}, {"==", opEq}, {"=~", opRegex}, {"!==", opStrictNe}, {"!=", opNe},
		{"<>", opNe}, // Json.NET's JPath.ParseOperator reads "<>" as NotEquals
		{"<=", opLe}, {"<", opLt}, {">=", opGe}, {">", opGt},
	}
	for _, o := range ops {
		if strings.HasPrefix(ps.s[ps.i:], o.tok) {
			ps.i += len(o.tok)
			return o.op, nil
		}
	}
	return 0, ps.errf("could not read query operator")
}
