package jsonpath

import (
	"errors"
	"fmt"
	"strconv"

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

// Select evaluates the path against doc. The document is copied once into a
// string; every returned Result's Raw aliases that copy (no per-match copy).
// A missing path yields no results and no error. The only errors are
// Json.NET runtime errors (ErrIndexOutOfRange, ErrTooDeep); results are nil
// then, as SelectTokens would have thrown. doc is expected to be valid JSON
// (see gjson.ValidBytes); invalid JSON never panics but gives unspecified
// matches.
func (p *Path) Select(doc []byte) ([]gjson.Result, error) {
	return p.SelectString(string(doc))
}

// SelectString is Select for a document already held as a string; it does
// not copy the document.
func (p *Path) SelectString(doc string) ([]gjson.Result, error) {
	root := gjson.Parse(doc)
	if !root.Exists() {
		return nil, nil
	}
	return p.selectFrom(root)
}

// SelectResult evaluates the path with root as the document root. Useful
// when the caller already holds a parsed gjson.Result.
func (p *Path) SelectResult(root gjson.Result) ([]gjson.Result, error) {
	if !root.Exists() {
		return nil, nil
	}
	return p.selectFrom(root)
}

func (p *Path) selectFrom(root gjson.Result) ([]gjson.Result, error) {
	out, err := evalSteps(root, root, p.steps)
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

func evalSteps(root, cur gjson.Result, steps []step) ([]gjson.Result, error) {
	current := []gjson.Result{cur}
	var next []gjson.Result
	for i := range steps {
		next = next[:0]
		var err error
		for _, t := range current {
			next, err = applyStep(root, t, &steps[i], next)
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

func applyStep(root, t gjson.Result, s *step, out []gjson.Result) ([]gjson.Result, error) {
	switch s.kind {
	case stepRoot:
		out = append(out, root)
	case stepField:
		if isObject(t) {
			if v, ok := field(t, s.name); ok {
				out = append(out, v)
			}
		}
	case stepFieldAll:
		if isObject(t) {
			t.ForEach(func(_, v gjson.Result) bool {
				out = append(out, v)
				return true
			})
		}
	case stepFieldMulti:
		if isObject(t) {
			for _, n := range s.names {
				if v, ok := field(t, n); ok {
					out = append(out, v)
				}
			}
		}
	case stepIndex:
		if isArray(t) {
			if s.index < 0 {
				return nil, fmt.Errorf("%w: [%d]", ErrIndexOutOfRange, s.index)
			}
			if v, ok := elemAt(t, s.index); ok {
				out = append(out, v)
			}
		}
	case stepIndexMulti:
		if isArray(t) {
			for _, n := range s.indexes {
				if n < 0 {
					return nil, fmt.Errorf("%w: [%d]", ErrIndexOutOfRange, n)
				}
				if v, ok := elemAt(t, n); ok {
					out = append(out, v)
				}
			}
		}
	case stepIndexAll:
		if isArray(t) {
			out = arrayElems(t, out)
		}
	case stepSlice:
		if isArray(t) {
			out = applySlice(t, s, out)
		}
	case stepScan, stepScanAll, stepScanMulti:
		if s.kind == stepScanAll {
			out = append(out, t)
		}
		var err error
		out, err = scan(t, s, out, 0)
		if err != nil {
			return nil, err
		}
	case stepQuery:
		if isContainer(t) {
			// Json.NET enumerates the token's children: array elements, or
			// JProperty objects for an object (on which member paths never
			// match), so only array elements are meaningful.
			if isArray(t) {
				var err error
				t.ForEach(func(_, v gjson.Result) bool {
					var ok bool
					ok, err = s.expr.match(root, v)
					if err != nil {
						return false
					}
					if ok {
						out = append(out, v)
					}
					return true
				})
				if err != nil {
					return nil, err
				}
			}
		}
	case stepQueryScan:
		var err error
		out, err = queryScan(root, t, s, out, 0)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func applySlice(t gjson.Result, s *step, out []gjson.Result) []gjson.Result {
	// Collect elements after what is already in out, then compact.
	base := len(out)
	out = arrayElems(t, out)
	elems := out[base:]
	n := len(elems)
	stepN := 1
	if s.hasStepN {
		stepN = s.stepN
	}
	var start, stop int
	if s.hasStart {
		start = s.start
		if start < 0 {
			start += n
		}
	} else if stepN > 0 {
		start = 0
	} else {
		start = n - 1
	}
	if s.hasEnd {
		stop = s.end
		if stop < 0 {
			stop += n
		}
	} else if stepN > 0 {
		stop = n
	} else {
		stop = -1
	}
	if stepN > 0 {
		start = max(start, 0)
		start = min(start, n)
	} else {
		start = min(start, n-1)
	}
	stop = max(stop, -1)
	stop = min(stop, n)
	w := base
	if stepN > 0 {
		for i := start; i < stop; i += stepN {
			out[w] = elems[i]
			w++
		}
	} else if stepN < 0 {
		// Descending: copy the picks to a small buffer first because the
		// write cursor would overwrite unread elements otherwise.
		var picks []gjson.Result
		for i := start; i > stop && i >= 0; i += stepN {
			picks = append(picks, elems[i])
		}
		w += copy(out[base:], picks)
	}
	return out[:w]
}

// scan implements ScanFilter / ScanMultipleFilter: a pre-order walk of all
// descendants of t, yielding property values whose name matches (or, for
// "..*", every descendant value).
func scan(t gjson.Result, s *step, out []gjson.Result, depth int) ([]gjson.Result, error) {
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
			out = append(out, v)
		}
		if isContainer(v) {
			out, err = scan(v, s, out, depth+1)
			if err != nil {
				return false
			}
		}
		return true
	})
	return out, err
}

// queryScan implements QueryScanFilter: the filter is tested on t and every
// descendant value (pre-order).
func queryScan(root, t gjson.Result, s *step, out []gjson.Result, depth int) ([]gjson.Result, error) {
	if depth >= MaxScanDepth {
		return nil, ErrTooDeep
	}
	ok, err := s.expr.match(root, t)
	if err != nil {
		return nil, err
	}
	if ok {
		out = append(out, t)
	}
	if !isContainer(t) {
		return out, nil
	}
	t.ForEach(func(_, v gjson.Result) bool {
		out, err = queryScan(root, v, s, out, depth+1)
		return err == nil
	})
	return out, err
}

// ---- filter evaluation ----

func (e *expr) match(root, t gjson.Result) (bool, error) {
	switch e.op {
	case opAnd:
		for _, c := range e.children {
			ok, err := c.match(root, t)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case opOr:
		for _, c := range e.children {
			ok, err := c.match(root, t)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	left, err := e.left.values(root, t)
	if err != nil {
		return false, err
	}
	if e.op == opExists {
		return len(left) > 0, nil
	}
	if len(left) == 0 {
		return false, nil
	}
	right, err := e.right.values(root, t)
	if err != nil {
		return false, err
	}
	for _, l := range left {
		for _, r := range right {
			if matchTokens(e.op, l, r) {
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

func (o *operand) values(root, t gjson.Result) ([]value, error) {
	if !o.isPath {
		v := value{kind: o.kind, str: o.str, num: o.num, isInt: o.isInt, i64: o.i64}
		if o.kind == litRegex {
			v.re = o
		}
		return []value{v}, nil
	}
	rs, err := evalSteps(root, t, o.steps)
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
		v := value{kind: litNumber, num: r.Num}
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
			switch {
			case l.i64 < r.i64:
				return -1, true
			case l.i64 > r.i64:
				return 1, true
			}
			return 0, true
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
		switch {
		case l.str < r.str:
			return -1, true
		case l.str > r.str:
			return 1, true
		}
		return 0, true
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

// matchTokens mirrors BooleanQueryExpression.MatchTokens: comparisons only
// apply to scalar values; with a container on either side only != is true.
func matchTokens(op opKind, l, r value) bool {
	if l.container || r.container {
		return op == opNe || op == opStrictNe
	}
	if op == opRegex {
		return r.re != nil && l.kind == litString && r.re.re.MatchString(l.str)
	}
	if r.kind == litRegex || l.kind == litRegex {
		return false
	}
	c, ok := compare(l, r)
	switch op {
	case opEq:
		return ok && c == 0
	case opStrictEq:
		return ok && c == 0 && l.isInt == r.isInt
	case opNe:
		return !ok || c != 0
	case opStrictNe:
		return !ok || c != 0 || l.isInt != r.isInt
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
