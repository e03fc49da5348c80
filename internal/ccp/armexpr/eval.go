package armexpr

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Context supplies what an expression may refer to. The zero value is usable:
// every parameters() call then fails unless Missing supplies a value.
// A Context is not modified by evaluation and may be shared by goroutines as
// long as nobody writes to its maps meanwhile.
type Context struct {
	// Parameters are caller-supplied values (deployment parameters / connector
	// inputs). They take precedence over the template's defaults. Lookup is
	// exact first, then case-insensitive (ARM parameter names are
	// case-insensitive).
	Parameters map[string]any
	// TemplateParameters is the template's "parameters" section: name ->
	// declaration object ({"type": ..., "defaultValue": ..., ...}). A
	// defaultValue may itself be an expression.
	TemplateParameters map[string]any
	// Variables is the template's "variables" section; values may be
	// expressions or trees containing expressions.
	Variables map[string]any
	// Missing, if set, is asked for a parameter that has neither a supplied
	// value nor a default. decl is its declaration (nil if undeclared) and
	// expr the expression being evaluated. ok=false keeps it an error.
	Missing func(name string, decl map[string]any, expr string) (v any, ok bool)
	// MissingVariable, if set, is asked for a variables('name') that the
	// template does not define. ok=false keeps it an error.
	MissingVariable func(name string, expr string) (v any, ok bool)

	// Placeholder deployment environment used by subscription(),
	// resourceGroup(), deployment() and resourceId(). Empty fields get
	// plausible fixed defaults.
	SubscriptionID string
	ResourceGroup  string
	Location       string
	DeploymentName string
	TenantID       string
}

// NewContext builds a Context for an ARM template object (its "parameters"
// and "variables" sections, keys matched case-insensitively) and
// caller-supplied parameter values. template may be nil.
func NewContext(template map[string]any, params map[string]any) *Context {
	c := &Context{Parameters: params}
	if template != nil {
		if m, ok := lookupKey(template, "parameters").(map[string]any); ok {
			c.TemplateParameters = m
		}
		if m, ok := lookupKey(template, "variables").(map[string]any); ok {
			c.Variables = m
		}
	}
	return c
}

func lookupKey(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func lookupKeyOK(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	// deterministic choice when several keys differ only by case
	keys := make([]string, 0, 2)
	for k := range m {
		if strings.EqualFold(k, key) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, false
	}
	sort.Strings(keys)
	return m[keys[0]], true
}

// Error is an evaluation failure. Path is the JSON path of the string
// (set by ResolveTree), Expr the expression text, Func the function and
// Param the parameter or variable at fault when known.
type Error struct {
	Path  string
	Expr  string
	Func  string
	Param string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "expression %q", e.Expr)
	if e.Func != "" {
		fmt.Fprintf(&b, ": %s()", e.Func)
	}
	if e.Param != "" {
		fmt.Fprintf(&b, ": %q", e.Param)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// IsExpression reports whether s is an ARM expression string: entirely
// "[expr]" or the escaped form "[[expr]" with a non-empty expr.
func IsExpression(s string) bool {
	_, ok := exprBody(s)
	return ok
}

// exprBody returns the expression text inside "[...]" or "[[...]".
func exprBody(s string) (string, bool) {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return "", false
	}
	body := s[1 : len(s)-1]
	if strings.HasPrefix(body, "[") {
		body = body[1:]
	}
	if strings.TrimSpace(body) == "" {
		return "", false
	}
	return body, true
}

// Unescape handles a string that is not an expression: a string that starts
// with "[[" loses one '[' (ARM escaping); anything else is returned as is.
func Unescape(s string) string {
	if strings.HasPrefix(s, "[[") {
		return s[1:]
	}
	return s
}

// Eval evaluates one expression. expr may be the whole JSON string ("[...]"
// or "[[...]") or the bare expression text.
func Eval(expr string, ctx *Context) (any, error) {
	if ctx == nil {
		ctx = &Context{}
	}
	e := &evaluator{ctx: ctx, expr: expr, vars: map[string]any{}, busy: map[string]bool{}}
	return e.evalString(expr)
}

type evaluator struct {
	ctx   *Context
	expr  string // outermost expression, for messages
	depth int
	steps int
	vars  map[string]any  // memoised variables and parameter defaults ("v:"/"p:" + lower name)
	busy  map[string]bool // cycle detection
}

const maxSteps = 200000

func (e *evaluator) fail(fn, param, format string, args ...any) error {
	return &Error{Expr: e.expr, Func: fn, Param: param, Msg: fmt.Sprintf(format, args...)}
}

// brokenQuoted matches the source-form mistake 'parameters('x')' seen in
// real connector names, which is meant as parameters('x').
var brokenQuoted = regexp.MustCompile(`'(parameters|variables)\('([^']*)'\)'`)

func (e *evaluator) evalString(s string) (any, error) {
	body, ok := exprBody(s)
	if !ok {
		body = s
	}
	n, err := parse(body)
	if err != nil {
		fixed := brokenQuoted.ReplaceAllString(body, "$1('$2')")
		if fixed != body {
			if n2, err2 := parse(fixed); err2 == nil {
				n, err = n2, nil
			}
		}
		if err != nil {
			return nil, &Error{Expr: e.expr, Msg: err.Error()}
		}
	}
	return e.eval(n)
}

func (e *evaluator) eval(n *node) (any, error) {
	e.steps++
	if e.steps > maxSteps {
		return nil, e.fail("", "", "evaluation too expensive")
	}
	switch n.kind {
	case nString:
		return n.str, nil
	case nInt:
		return n.num, nil
	case nProp:
		x, err := e.eval(n.x)
		if err != nil {
			return nil, err
		}
		m, ok := x.(map[string]any)
		if !ok {
			return nil, e.fail("", "", "cannot read property %q of %s", n.str, typeName(x))
		}
		v, ok := lookupKeyOK(m, n.str)
		if !ok {
			return nil, e.fail("", "", "property %q not found (have %s)", n.str, keyList(m))
		}
		return v, nil
	case nIndex:
		x, err := e.eval(n.x)
		if err != nil {
			return nil, err
		}
		idx, err := e.eval(n.index)
		if err != nil {
			return nil, err
		}
		return e.index(x, idx)
	case nCall:
		return e.call(n)
	}
	return nil, e.fail("", "", "internal: unknown node")
}

func (e *evaluator) index(x, idx any) (any, error) {
	switch c := x.(type) {
	case []any:
		i, err := toInt(idx)
		if err != nil {
			return nil, e.fail("", "", "array index: %v", err)
		}
		if i < 0 || i >= int64(len(c)) {
			return nil, e.fail("", "", "index %d out of range (length %d)", i, len(c))
		}
		return c[i], nil
	case map[string]any:
		k := toStr(idx)
		v, ok := lookupKeyOK(c, k)
		if !ok {
			return nil, e.fail("", "", "property %q not found (have %s)", k, keyList(c))
		}
		return v, nil
	case string:
		// Lenient: a JSON array written as a string (e.g. a multi-select
		// parameter given on a command line) is indexed as that array; any
		// other scalar given where an array was expected answers [0] with
		// itself.
		if t := strings.TrimSpace(c); strings.HasPrefix(t, "[") {
			var arr []any
			d := json.NewDecoder(strings.NewReader(t))
			d.UseNumber()
			if d.Decode(&arr) == nil {
				return e.index(arr, idx)
			}
		}
	}
	if i, err := toInt(idx); err == nil && i == 0 && isScalar(x) && x != nil {
		return x, nil
	}
	return nil, e.fail("", "", "cannot index %s with %v", typeName(x), idx)
}

func isScalar(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return false
	}
	return true
}

func keyList(m map[string]any) string {
	ks := sortedKeys(m)
	if len(ks) > 10 {
		ks = append(ks[:10], "…")
	}
	return "[" + strings.Join(ks, ", ") + "]"
}

func (e *evaluator) args(n *node) ([]any, error) {
	out := make([]any, len(n.args))
	for i, a := range n.args {
		v, err := e.eval(a)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// parameter resolves parameters('name').
func (e *evaluator) parameter(name string) (any, error) {
	if v, ok := lookupKeyOK(e.ctx.Parameters, name); ok {
		return v, nil
	}
	var decl map[string]any
	if d, ok := lookupKeyOK(e.ctx.TemplateParameters, name); ok {
		decl, _ = d.(map[string]any)
		if decl != nil {
			if dv, ok := lookupKeyOK(decl, "defaultValue"); ok {
				return e.nested("p:"+strings.ToLower(name), "parameters", name, dv)
			}
		}
	}
	if e.ctx.Missing != nil {
		if v, ok := e.ctx.Missing(name, decl, e.expr); ok {
			return v, nil
		}
	}
	if decl != nil {
		return nil, e.fail("parameters", name, "parameter has no value and no defaultValue")
	}
	return nil, e.fail("parameters", name, "parameter not supplied")
}

func (e *evaluator) variable(name string) (any, error) {
	raw, ok := lookupKeyOK(e.ctx.Variables, name)
	if !ok {
		if e.ctx.MissingVariable != nil {
			if v, ok := e.ctx.MissingVariable(name, e.expr); ok {
				return v, nil
			}
		}
		return nil, e.fail("variables", name, "variable not defined")
	}
	return e.nested("v:"+strings.ToLower(name), "variables", name, raw)
}

// nested evaluates a default value or variable, which may be an expression
// or a tree containing expressions, once per evaluation: the value is
// memoised under key.
func (e *evaluator) nested(key, fn, name string, raw any) (any, error) {
	if v, ok := e.vars[key]; ok {
		return v, nil
	}
	v, err := e.evalNested(key, fn, name, raw)
	if err != nil {
		return nil, err
	}
	e.vars[key] = v
	return v, nil
}

func (e *evaluator) evalNested(key, fn, name string, raw any) (any, error) {
	if e.busy[key] {
		return nil, e.fail(fn, name, "circular reference")
	}
	e.depth++
	if e.depth > maxEvalDepth {
		return nil, e.fail(fn, name, "references nested too deeply")
	}
	e.busy[key] = true
	defer func() { e.busy[key] = false; e.depth-- }()
	v, err := e.tree(raw, 0)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Param == "" {
			return nil, e.fail(fn, name, "%s", err.Error())
		}
		return nil, err
	}
	return v, nil
}

// tree evaluates every expression string in raw, within this evaluator.
func (e *evaluator) tree(raw any, depth int) (any, error) {
	w := jsonWalk{
		leaf: func(s, _ string) (any, error) {
			body, ok := exprBody(s)
			if !ok {
				return Unescape(s), nil
			}
			n, err := parse(body)
			if err != nil {
				return nil, e.fail("", "", "in %q: %v", s, err)
			}
			return e.eval(n)
		},
		tooDeep: func(string) error { return e.fail("", "", "JSON nested too deeply") },
	}
	return w.walk(raw, "", depth)
}

// ResolveTree returns a copy of v in which every expression string has been
// evaluated and every escaped "[[..." literal unescaped. path is the JSON path
// of v, used as the prefix of error paths (e.g. "properties").
func ResolveTree(v any, ctx *Context, path string) (any, error) {
	if ctx == nil {
		ctx = &Context{}
	}
	w := jsonWalk{
		paths:   true,
		leaf:    func(s, path string) (any, error) { return resolveString(s, ctx, path) },
		tooDeep: func(path string) error { return &Error{Path: path, Msg: "JSON nested too deeply"} },
	}
	return w.walk(v, path, 0)
}

// resolveString evaluates one string of ResolveTree; an error carries path.
func resolveString(s string, ctx *Context, path string) (any, error) {
	if !IsExpression(s) {
		return Unescape(s), nil
	}
	r, err := Eval(s, ctx)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			cp := *ae
			cp.Path = path
			return nil, &cp
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// jsonWalk copies a JSON tree, replacing every string by leaf's value. It
// visits object keys in sorted order so that the first error is always the
// same one, and tracks JSON paths only when paths is set.
type jsonWalk struct {
	paths   bool
	leaf    func(s, path string) (any, error)
	tooDeep func(path string) error
}

func (w jsonWalk) walk(v any, path string, depth int) (any, error) {
	if depth > maxTreeDepth {
		return nil, w.tooDeep(path)
	}
	switch t := v.(type) {
	case string:
		return w.leaf(t, path)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			r, err := w.walk(x, w.elemPath(path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range sortedKeys(t) {
			r, err := w.walk(t[k], w.memberPath(path, k), depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func (w jsonWalk) elemPath(path string, i int) string {
	if !w.paths {
		return ""
	}
	return fmt.Sprintf("%s[%d]", path, i)
}

func (w jsonWalk) memberPath(path, k string) string {
	if !w.paths {
		return ""
	}
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- conversions ----

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number, int, int64, float64, int32, float32, uint64, uint32, uint:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func toInt(v any) (int64, error) {
	switch t := v.(type) {
	case int64:
		return t, nil
	case int:
		return int64(t), nil
	case int32:
		return int64(t), nil
	case uint32:
		return int64(t), nil
	case uint:
		if uint64(t) > math.MaxInt64 {
			return 0, fmt.Errorf("%d out of range", t)
		}
		return int64(t), nil
	case uint64:
		if t > math.MaxInt64 {
			return 0, fmt.Errorf("%d out of range", t)
		}
		return int64(t), nil
	case float64:
		return floatToInt(t)
	case float32:
		return floatToInt(float64(t))
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", t.String())
		}
		return floatToInt(f)
	case string:
		s := strings.TrimSpace(t)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return floatToInt(f)
		}
		return 0, fmt.Errorf("%q is not an integer", t)
	case bool:
		if t {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%s is not convertible to an integer", typeName(v))
}

func floatToInt(f float64) (int64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, fmt.Errorf("%v out of range", f)
	}
	return int64(f), nil
}

func isNumber(v any) bool {
	switch v.(type) {
	case json.Number, int, int64, float64, int32, float32, uint64, uint32, uint:
		return true
	}
	return false
}

// toStr renders a value the way ARM's string() does.
func toStr(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		if t {
			return "True"
		}
		return "False"
	case json.Number:
		return t.String()
	case int64:
		return strconv.FormatInt(t, 10)
	case int:
		return strconv.Itoa(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case []any, map[string]any:
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Sprint(t)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}

func toBool(v any) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "1":
			return true, nil
		case "false", "0", "":
			return false, nil
		}
		return false, fmt.Errorf("%q is not a boolean", t)
	case nil:
		return false, nil
	}
	if isNumber(v) {
		i, err := toInt(v)
		if err != nil {
			return false, err
		}
		return i != 0, nil
	}
	return false, fmt.Errorf("%s is not convertible to a boolean", typeName(v))
}

// equal compares like ARM's equals(), tolerating numbers written as strings
// and numbers of different Go types.
func equal(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		ai, e1 := toInt(a)
		bi, e2 := toInt(b)
		if e1 == nil && e2 == nil {
			return ai == bi
		}
		return toStr(a) == toStr(b)
	}
	switch at := a.(type) {
	case nil:
		return b == nil
	case string:
		switch bt := b.(type) {
		case string:
			return at == bt
		case bool:
			return strings.EqualFold(at, toStr(bt))
		}
		if isNumber(b) {
			bi, err := toInt(b)
			ai, err2 := toInt(at)
			return err == nil && err2 == nil && ai == bi
		}
		return false
	case bool:
		if bt, ok := b.(bool); ok {
			return at == bt
		}
		return isString(b) && equal(b, a) // the string case compares
	case []any:
		bt, ok := b.([]any)
		if !ok || len(at) != len(bt) {
			return false
		}
		for i := range at {
			if !equal(at[i], bt[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bt, ok := b.(map[string]any)
		if !ok || len(at) != len(bt) {
			return false
		}
		for k, v := range at {
			w, ok := lookupKeyOK(bt, k)
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	if isNumber(a) && isString(b) {
		return equal(b, a)
	}
	return false
}

func isString(v any) bool { _, ok := v.(string); return ok }
