package jsonpath

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// ErrIndexOutOfRange is returned (wrapped) when a negative array index such
// as "$[-1]" is applied to an array. Json.NET throws ArgumentOutOfRangeException
// ("Index was out of range") in that case and the whole SelectTokens call
// fails; callers should treat it as "no match" and log it. The slice form
// "$[-1:]" is the working spelling.
var ErrIndexOutOfRange = errors.New("jsonpath: index was out of range (negative array index; use a slice such as [-1:])")

// ErrTooDeep is returned when recursive descent exceeds MaxScanDepth.
var ErrTooDeep = errors.New("jsonpath: document nested too deeply for recursive descent")

// MaxScanDepth bounds recursive descent ("..") so hostile documents cannot
// exhaust the stack. Json.NET itself refuses documents deeper than 64 by
// default, so this is generous.
const MaxScanDepth = 1000

// ErrTooManyMatches is returned (wrapped, naming the cap) when one step of a path would select
// more tokens than the cap: "$..*..*..*" multiplies a small document into millions of matches,
// and each costs memory. Results are nil then; nothing is truncated.
var ErrTooManyMatches = errors.New("jsonpath: too many matches")

// DefaultMaxMatches caps the tokens one step of Select, SelectString and SelectResult may
// select. Use SelectStringMax for another cap.
const DefaultMaxMatches = 100_000

// Select evaluates the path against doc. The document is copied once into a
// string; every returned Result's Raw aliases that copy (no per-match copy).
// A missing path yields no results and no error. The only errors are
// Json.NET runtime errors (ErrIndexOutOfRange, ErrTooDeep) and ErrTooManyMatches
// (more than DefaultMaxMatches); results are nil then, as SelectTokens would have
// thrown. doc is expected to be valid JSON (see gjson.ValidBytes); invalid JSON
// never panics but gives unspecified matches.
func (p *Path) Select(doc []byte) ([]gjson.Result, error) {
	return p.SelectString(string(doc))
}

// SelectString is Select for a document already held as a string; it does
// not copy the document.
func (p *Path) SelectString(doc string) ([]gjson.Result, error) {
	return p.SelectStringMax(doc, DefaultMaxMatches)
}

// SelectStringMax is SelectString with max as the match cap (every step, including filters'
// inner paths, selects at most max tokens; more is ErrTooManyMatches).
func (p *Path) SelectStringMax(doc string, max int) ([]gjson.Result, error) {
	root := gjson.Parse(doc)
	if !root.Exists() {
		return nil, nil
	}
	return p.selectFrom(root, max)
}

// SelectResult evaluates the path with root as the document root. Useful
// when the caller already holds a parsed gjson.Result.
func (p *Path) SelectResult(root gjson.Result) ([]gjson.Result, error) {
	if !root.Exists() {
		return nil, nil
	}
	return p.selectFrom(root, DefaultMaxMatches)
}

// SelectStringWarn is SelectStringMax that also reports, through warn (when not nil), the
// filter comparisons Json.NET would have failed on: an ordering operator (<, <=, >, >=) between
// a string that is not a number and a number. Json.NET throws there (a FormatException from
// JValue.CompareTo's Convert.ToInt64/ToDouble) and the whole SelectTokens call fails; this
// package makes that one comparison false instead and calls warn once per selection, with the
// first such comparison and how many there were.
func (p *Path) SelectStringWarn(doc string, max int, warn func(CompareWarning)) ([]gjson.Result, error) {
	root := gjson.Parse(doc)
	if !root.Exists() {
		return nil, nil
	}
	return p.selectWarn(root, max, warn)
}

// CompareWarning describes the ordering comparisons of one selection between a string that is
// not a number and a number (see SelectStringWarn); each was false.
type CompareWarning struct {
	Path   string // the path's source text
	Op     string // <, <=, > or >=
	Value  string // the first string that is not a number (at most 64 bytes, then "...")
	Number string // the number it was compared with, as written
	Count  int    // how many such comparisons the selection made
}

func (w CompareWarning) String() string {
	return fmt.Sprintf("jsonpath %q: %d comparison(s) of a non-numeric string with a number were false (first: %q %s %s)",
		w.Path, w.Count, w.Value, w.Op, w.Number)
}

func (p *Path) selectFrom(root gjson.Result, max int) ([]gjson.Result, error) {
	return p.selectWarn(root, max, nil)
}

func (p *Path) selectWarn(root gjson.Result, max int, warn func(CompareWarning)) ([]gjson.Result, error) {
	if max <= 0 {
		max = DefaultMaxMatches
	}
	ev := &evaluator{root: root, max: max}
	out, err := ev.evalSteps(root, p.steps)
	if warn != nil && ev.nonNumeric.Count > 0 {
		w := ev.nonNumeric
		w.Path = p.src
		warn(w)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (path %q)", err, p.src)
	}
	return out, nil
}

func isObject(r gjson.Result) bool { return r.Type == gjson.JSON && len(r.Raw) > 0 && r.Raw[0] == '{' }
func isArray(r gjson.Result) bool  { return r.Type == gjson.JSON && len(r.Raw) > 0 && r.Raw[0] == '[' }
func isContainer(r gjson.Result) bool {
	return r.Type == gjson.JSON && len(r.Raw) > 0 && (r.Raw[0] == '[' || r.Raw[0] == '{')
}

// evaluator holds what every step of one evaluation shares: the document root ($ in filters)
// and the match cap.
type evaluator struct {
	root gjson.Result
	max  int
	// nonNumeric counts the ordering comparisons between a non-numeric string and a number
	// and keeps the first (see SelectStringWarn).
	nonNumeric CompareWarning
}

// push appends v unless out already holds the cap.
func (ev *evaluator) push(out []gjson.Result, v gjson.Result) ([]gjson.Result, error) {
	if len(out) >= ev.max {
		return out, fmt.Errorf("%w: a step selects more than %d tokens", ErrTooManyMatches, ev.max)
	}
	return append(out, v), nil
}

func (ev *evaluator) evalSteps(cur gjson.Result, steps []step) ([]gjson.Result, error) {
	current := []gjson.Result{cur}
	var next []gjson.Result
	for i := range steps {
		next = next[:0]
		var err error
		for _, t := range current {
			next, err = ev.applyStep(t, &steps[i], next)
			if err != nil {
				return nil, err
			}
		}
		if len(next) == 0 {
			return nil, nil
		}
		current, next = next, current
	}
	return current, nil
}

// field returns the value of property name in object t; with duplicate keys
// the last one wins, as in Json.NET's default JObject loading.
func field(t gjson.Result, name string) (gjson.Result, bool) {
	var v gjson.Result
	found := false
	t.ForEach(func(k, val gjson.Result) bool {
		if k.Str == name {
			v, found = val, true
		}
		return true
	})
	return v, found
}

// arrayElems appends the elements of array t to buf.
func arrayElems(t gjson.Result, buf []gjson.Result) []gjson.Result {
	t.ForEach(func(_, v gjson.Result) bool {
		buf = append(buf, v)
		return true
	})
	return buf
}

// children appends the values of container t (array elements or object members) to out,
// keeping filter when it is non-nil.
func (ev *evaluator) children(t gjson.Result, out []gjson.Result, keep func(gjson.Result) (bool, error)) ([]gjson.Result, error) {
	var err error
	t.ForEach(func(_, v gjson.Result) bool {
		ok := true
		if keep != nil {
			if ok, err = keep(v); err != nil {
				return false
			}
		}
		if ok {
			out, err = ev.push(out, v)
		}
		return err == nil
	})
	return out, err
}

// elemAt returns element n (n >= 0) of array t.
func elemAt(t gjson.Result, n int) (gjson.Result, bool) {
	var v gjson.Result
	found := false
	i := 0
	t.ForEach(func(_, val gjson.Result) bool {
		if i == n {
			v, found = val, true
			return false
		}
		i++
		return true
	})
	return v, found
}

func (ev *evaluator) applyStep(t gjson.Result, s *step, out []gjson.Result) ([]gjson.Result, error) {
	switch s.kind {
	case stepRoot:
		return ev.push(out, ev.root)
	case stepField:
		if isObject(t) {
			if v, ok := field(t, s.name); ok {
				return ev.push(out, v)
			}
		}
	case stepFieldAll:
		if isObject(t) {
			return ev.children(t, out, nil)
		}
	case stepFieldMulti, stepIndex, stepIndexMulti:
		return ev.applyPicks(t, s, out)
	case stepIndexAll:
		if isArray(t) {
			return ev.children(t, out, nil)
		}
	case stepSlice:
		if isArray(t) {
			return ev.applySlice(t, s, out)
		}
	case stepScan, stepScanAll, stepScanMulti:
		var err error
		if s.kind == stepScanAll {
			if out, err = ev.push(out, t); err != nil {
				return nil, err
			}
		}
		return ev.scan(t, s, out, 0)
	case stepQuery:
		// Json.NET enumerates the token's children: array elements, or JProperty objects for
		// an object (on which member paths never match), so only array elements are meaningful.
		if isArray(t) {
			return ev.children(t, out, func(v gjson.Result) (bool, error) { return ev.match(&s.expr, v) })
		}
	case stepQueryScan:
		return ev.queryScan(t, s, out, 0)
	}
	return out, nil
}

// applyPicks selects named members or numbered elements: ['a','b'], [n], [0,1].
func (ev *evaluator) applyPicks(t gjson.Result, s *step, out []gjson.Result) ([]gjson.Result, error) {
	var err error
	switch {
	case s.kind == stepFieldMulti && isObject(t):
		for _, n := range s.names {
			if v, ok := field(t, n); ok {
				if out, err = ev.push(out, v); err != nil {
					return nil, err
				}
			}
		}
	case s.kind == stepIndex && isArray(t):
		if s.index < 0 {
			return nil, fmt.Errorf("%w: [%d]", ErrIndexOutOfRange, s.index)
		}
		if v, ok := elemAt(t, s.index); ok {
			return ev.push(out, v)
		}
	case s.kind == stepIndexMulti && isArray(t):
		for _, n := range s.indexes {
			if n < 0 {
				return nil, fmt.Errorf("%w: [%d]", ErrIndexOutOfRange, n)
			}
			if v, ok := elemAt(t, n); ok {
				if out, err = ev.push(out, v); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// applySlice implements [start:end:step] without holding the whole array: it counts the
// elements, then pushes the picked ones (descending steps pick from a bounded buffer).
func (ev *evaluator) applySlice(t gjson.Result, s *step, out []gjson.Result) ([]gjson.Result, error) {
	n := 0
	t.ForEach(func(_, _ gjson.Result) bool { n++; return true })
	start, stop, stepN := sliceBounds(s, n)
	lo, hi := start, stop // the index range walked, ascending
	if stepN < 0 {
		lo, hi = stop+1, start+1
	}
	var picked []gjson.Result
	var err error
	i := 0
	t.ForEach(func(_, v gjson.Result) bool {
		if i >= lo && i < hi {
			switch {
			case stepN > 0 && (i-start)%stepN == 0:
				out, err = ev.push(out, v)
			case stepN < 0 && (start-i)%(-stepN) == 0:
				picked, err = ev.push(picked, v)
			}
		}
		i++
		return err == nil && i < hi
	})
	for j := len(picked) - 1; err == nil && j >= 0; j-- {
		out, err = ev.push(out, picked[j])
	}
	return out, err
}

// sliceBounds resolves a slice's start, stop (exclusive) and step against an array of n
// elements, as Json.NET's ArraySliceFilter does.
func sliceBounds(s *step, n int) (start, stop, stepN int) {
	stepN = 1
	if s.hasStepN {
		stepN = s.stepN
	}
	// without a bound, a forward slice runs over the whole array and a
	// backward one from its last element down to before the first
	defStart, defStop := 0, n
	if stepN <= 0 {
		defStart, defStop = n-1, -1
	}
	start = sliceBound(s.hasStart, s.start, n, defStart)
	stop = sliceBound(s.hasEnd, s.end, n, defStop)
	if stepN > 0 {
		start = min(max(start, 0), n)
	} else {
		start = min(start, n-1)
	}
	stop = min(max(stop, -1), n)
	return start, stop, stepN
}

// sliceBound is a given bound, negative counting from the end, or def.
func sliceBound(given bool, v, n, def int) int {
	if !given {
		return def
	}
	if v < 0 {
		v += n
	}
	return v
}

// scan implements ScanFilter / ScanMultipleFilter: a pre-order walk of all
// descendants of t, yielding property values whose name matches (or, for
// "..*", every descendant value).
func (ev *evaluator) scan(t gjson.Result, s *step, out []gjson.Result, depth int) ([]gjson.Result, error) {
	if !isContainer(t) {
		return out, nil
	}
	if depth >= MaxScanDepth {
		return nil, ErrTooDeep
	}
	obj := isObject(t)
	var err error
	t.ForEach(func(k, v gjson.Result) bool {
		match := false
		switch s.kind {
		case stepScanAll:
			match = true
		case stepScan:
			match = obj && k.Str == s.name
		case stepScanMulti:
			if obj {
				for _, n := range s.names {
					if k.Str == n {
						match = true
						break
					}
				}
			}
		}
		if match {
			if out, err = ev.push(out, v); err != nil {
				return false
			}
		}
		if isContainer(v) {
			out, err = ev.scan(v, s, out, depth+1)
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queryScan implements QueryScanFilter: the filter is tested on t and every
// descendant value (pre-order).
func (ev *evaluator) queryScan(t gjson.Result, s *step, out []gjson.Result, depth int) ([]gjson.Result, error) {
	if depth >= MaxScanDepth {
		return nil, ErrTooDeep
	}
	ok, err := ev.match(&s.expr, t)
	if err != nil {
		return nil, err
	}
	if ok {
		if out, err = ev.push(out, t); err != nil {
			return nil, err
		}
	}
	if !isContainer(t) {
		return out, nil
	}
	t.ForEach(func(_, v gjson.Result) bool {
		out, err = ev.queryScan(v, s, out, depth+1)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- filter evaluation ----

func (ev *evaluator) match(e *expr, t gjson.Result) (bool, error) {
	switch e.op {
	case opAnd:
		for _, c := range e.children {
			ok, err := ev.match(c, t)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case opOr:
		for _, c := range e.children {
			ok, err := ev.match(c, t)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	left, err := ev.values(e.left, t)
	if err != nil {
		return false, err
	}
	if e.op == opExists {
		return len(left) > 0, nil
	}
	if len(left) == 0 {
		return false, nil
	}
	right, err := ev.values(e.right, t)
	if err != nil {
		return false, err
	}
	for _, l := range left {
		for _, r := range right {
			if ev.matchTokens(e.op, l, r) {
				return true, nil
			}
		}
	}
	return false, nil
}

// value is a scalar taking part in a comparison.
type value struct {
	container bool
	kind      litKind
	str       string
	num       float64
	isInt     bool
	i64       int64
	re        *operand
}

func (ev *evaluator) values(o *operand, t gjson.Result) ([]value, error) {
	if !o.isPath {
		v := value{kind: o.kind, str: o.str, num: o.num, isInt: o.isInt, i64: o.i64}
		if o.kind == litRegex {
			v.re = o
		}
		return []value{v}, nil
	}
	rs, err := ev.evalSteps(t, o.steps)
	if err != nil {
		return nil, err
	}
	vs := make([]value, 0, len(rs))
	for _, r := range rs {
		vs = append(vs, resultValue(r))
	}
	return vs, nil
}

func resultValue(r gjson.Result) value {
	switch r.Type {
	case gjson.String:
		return value{kind: litString, str: r.Str}
	case gjson.Number:
		v := value{kind: litNumber, num: r.Num, str: r.Raw}
		if n, err := strconv.ParseInt(r.Raw, 10, 64); err == nil {
			v.isInt, v.i64 = true, n
		}
		return v
	case gjson.True:
		return value{kind: litTrue}
	case gjson.False:
		return value{kind: litFalse}
	case gjson.Null:
		return value{kind: litNull}
	}
	return value{container: true}
}

// compare returns the ordering of two scalars of compatible kinds; ok is
// false when they cannot be compared (different kinds).
func compare(l, r value) (c int, ok bool) {
	switch {
	case l.kind == litNumber && r.kind == litNumber:
		if l.isInt && r.isInt {
			return cmp.Compare(l.i64, r.i64), true
		}
		switch {
		case l.num < r.num:
			return -1, true
		case l.num > r.num:
			return 1, true
		case l.num == r.num:
			return 0, true
		}
		return 0, false // NaN
	case l.kind == litString && r.kind == litString:
		return cmp.Compare(l.str, r.str), true
	case (l.kind == litTrue || l.kind == litFalse) && (r.kind == litTrue || r.kind == litFalse):
		lb, rb := l.kind == litTrue, r.kind == litTrue
		switch {
		case lb == rb:
			return 0, true
		case !lb:
			return -1, true
		}
		return 1, true
	case l.kind == litNull && r.kind == litNull:
		return 0, true
	}
	return 0, false
}

// matchTokens mirrors BooleanQueryExpression.MatchTokens: comparisons only apply to scalar
// values; with a container on either side only != is true (NotEquals and Exists are the only
// operators MatchTokens answers true for non-JValue tokens; !== is false there).
func (ev *evaluator) matchTokens(op opKind, l, r value) bool {
	if l.container || r.container {
		return op == opNe
	}
	if op == opRegex {
		return r.re != nil && l.kind == litString && r.re.re.MatchString(l.str)
	}
	if r.kind == litRegex || l.kind == litRegex {
		return false
	}
	switch op {
	case opLt, opLe, opGt, opGe:
		var ok bool
		if l, r, ok = ev.numericOperands(op, l, r); !ok {
			return false
		}
	}
	c, ok := compare(l, r)
	switch op {
	case opEq, opStrictEq:
		// EqualsWithStringCoercion and EqualsWithStrictMatch agree for JSON scalars: the same
		// type, or an integer and a float of equal value (1 === 1.0); compare refuses other
		// mixes ('1' == 1 is false).
		return ok && c == 0
	case opNe, opStrictNe:
		return !ok || c != 0
	case opLt:
		return ok && c < 0
	case opLe:
		return ok && c <= 0
	case opGt:
		return ok && c > 0
	case opGe:
		return ok && c >= 0
	}
	return false
}

// numericOperands prepares an ordering comparison the way JValue.CompareTo does: when one side
// is a string and the other a number, the string is read as a number ("214376" > 10). A string
// that is not a number makes Json.NET throw; here the comparison is false and counted for
// SelectStringWarn. Json.NET reads the string with Convert.ToInt64 when the number is an
// integer, so it also throws for "2.5" > 1; here any decimal number compares numerically.
func (ev *evaluator) numericOperands(op opKind, l, r value) (value, value, bool) {
	switch {
	case l.kind == litString && r.kind == litNumber:
		n, ok := numericString(l.str)
		if !ok {
			ev.noteNonNumeric(op, l.str, r.str)
		}
		return n, r, ok
	case l.kind == litNumber && r.kind == litString:
		n, ok := numericString(r.str)
		if !ok {
			ev.noteNonNumeric(op, r.str, l.str)
		}
		return l, n, ok
	}
	return l, r, true
}

func (ev *evaluator) noteNonNumeric(op opKind, str, num string) {
	w := &ev.nonNumeric
	if w.Count == 0 {
		if len(str) > 64 {
			str = str[:64] + "..."
		}
		w.Op, w.Value, w.Number = opText[op], str, num
	}
	w.Count++
}

// numericString reads s as a number, as .NET's Int64/Double parsing with the invariant culture
// does for the usual forms: surrounding white space, an optional sign, digits, an optional
// fraction and exponent ("26", " -3 ", "1.5e3"). Hex, digit separators, "NaN" and "Infinity"
// are not numbers here.
func numericString(s string) (value, bool) {
	t := strings.TrimSpace(s)
	if t == "" || strings.Trim(t, "0123456789+-.eE") != "" {
		return value{}, false
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		return value{kind: litNumber, num: float64(n), isInt: true, i64: n, str: t}, true
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return value{}, false
	}
	return value{kind: litNumber, num: f, str: t}, true
}
