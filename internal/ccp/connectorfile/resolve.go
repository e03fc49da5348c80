package connectorfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/armexpr"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/kql"
)

// Missing names an input that had no value.
type Missing struct {
	Name  string // parameter / placeholder name, without braces
	Label string // UI label when the file has one
	// Kind is "placeholder" ({{name}} or a legacy placeHolderName),
	// "parameter" (ARM parameters('name')) or "variable" (ARM
	// variables('name') not defined by the file; a parameter of the same
	// name supplies it).
	Kind string
	// Path is the JSON path (in the file) where the value was first needed.
	Path string
	// Value is the dummy that was filled in (FillDummies mode only).
	Value any
}

// Options tune Resolve.
type Options struct {
	// FillDummies fills every input that has no value with a plausible dummy
	// and reports it in the returned []Missing instead of failing.
	FillDummies bool
}

// Resolve substitutes {{name}} placeholders, legacy
// userRequestPlaceHoldersInput placeholders and ARM expressions in the
// poller's name, condition and properties, using params (names are matched
// case-insensitively; a key may also be written "{{name}}" or
// "dcrConfig.dataCollectionEndpoint"). Any input without a value is an
// error naming it (and its UI label); the []Missing list names all of them.
// The returned Poller has fresh Properties; p is not modified.
func Resolve(p Poller, params map[string]string) (Poller, []Missing, error) {
	return ResolveOpts(p, params, Options{})
}

// FillDummies resolves like Resolve but fills missing inputs with dummies and
// returns what it filled.
func FillDummies(p Poller, params map[string]string) (Poller, []Missing, error) {
	return ResolveOpts(p, params, Options{FillDummies: true})
}

// ResolveOpts is Resolve with options.
func ResolveOpts(p Poller, params map[string]string, opts Options) (Poller, []Missing, error) {
	r := &resolver{p: &p, opts: opts, params: params, missing: map[string]*Missing{}, stepCols: stepColumns(p.Properties, 0),
		members: objectMembers(p.Properties, p.propsPath)}
	ctx := r.armContext()
	where := func(path string) string {
		if p.Source != "" {
			return p.Source + ": " + path
		}
		return path
	}

	// properties: ARM expressions first, then placeholders
	props, err := r.arm(p.Properties, ctx, p.propsPath, 0)
	if err != nil {
		return p, r.list(), fmt.Errorf("%s%w", srcPrefix(p.Source), err)
	}
	props, err = r.placeholders(props, p.propsPath, 0)
	if err != nil {
		return p, r.list(), fmt.Errorf("%s%w", srcPrefix(p.Source), err)
	}
	props = r.legacyTargets(props)
	out := p
	if m, ok := props.(map[string]any); ok {
		out.Properties = m
	}

	// condition
	out.Condition = true
	if p.rawCond != nil {
		cpath := join(p.Path, "condition")
		cv, err := r.arm(p.rawCond, ctx, cpath, 0)
		if err != nil {
			return p, r.list(), fmt.Errorf("%s%w", srcPrefix(p.Source), err)
		}
		cv, err = r.placeholders(cv, cpath, 0)
		if err != nil {
			return p, r.list(), fmt.Errorf("%s%w", srcPrefix(p.Source), err)
		}
		b, err := asBool(cv)
		if err != nil {
			return p, r.list(), fmt.Errorf("%s: condition %q: %v", where(cpath), p.ConditionExpr, err)
		}
		out.Condition = b
	}

	// name: best effort, never fatal
	if p.rawName != nil {
		r.quiet = true
		name := p.rawName
		if s, ok := name.(string); ok {
			name = armPlaceholders(s)
		}
		if nv, err := armexpr.ResolveTree(name, ctx, join(p.Path, "name")); err == nil {
			if nv, err = r.placeholders(nv, join(p.Path, "name"), 0); err == nil {
				if s, ok := nv.(string); ok && s != "" {
					out.FullName = s
					out.Name = lastSegment(s)
				}
			}
		}
		r.quiet = false
	}

	miss := r.list()
	if !opts.FillDummies && len(miss) > 0 {
		names := make([]string, len(miss))
		for i, m := range miss {
			names[i] = describe(m)
		}
		return p, miss, fmt.Errorf("%smissing value for %s", srcPrefix(p.Source), strings.Join(names, ", "))
	}
	return out, miss, nil
}

func srcPrefix(s string) string {
	if s == "" {
		return ""
	}
	return s + ": "
}

func describe(m Missing) string {
	s := fmt.Sprintf("%s %q", m.Kind, m.Name)
	if m.Label != "" {
		s += fmt.Sprintf(" (%s)", m.Label)
	}
	if m.Path != "" {
		s += " at " + m.Path
	}
	return s
}

func lastSegment(s string) string {
	s = strings.TrimRight(s, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 && i+1 < len(s) {
		return s[i+1:]
	}
	return s
}

func asBool(v any) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case nil:
		return true, nil
	}
	return false, fmt.Errorf("not a boolean: %v", v)
}

type resolver struct {
	p       *Poller
	opts    Options
	params  map[string]string
	missing map[string]*Missing
	order   []string
	quiet   bool   // name resolution: do not record missing inputs
	curPath string // JSON path of the string being evaluated
	outer   *armexpr.Context
	// stepCols are the columns the definition's stepPlaceholdersParsingKql queries produce.
	stepCols map[string]bool
	// members are the members the poller reads of object parameters, by lower-case name.
	members map[string][]memberRead
}

// mapStrings returns a copy of the JSON tree v in which every string was passed through fn,
// with its JSON path (keys in sorted order, so missing inputs are reported deterministically).
func mapStrings(v any, path string, depth int, fn func(s, path string) (any, error)) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: JSON nested more than %d levels", path, maxDepth)
	}
	switch t := v.(type) {
	case string:
		return fn(t, path)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			y, err := mapStrings(x, fmt.Sprintf("%s[%d]", path, i), depth+1, fn)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range slices.Sorted(maps.Keys(t)) {
			y, err := mapStrings(t[k], join(path, k), depth+1, fn)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	}
	return v, nil
}

// arm evaluates the ARM expressions of a tree like armexpr.ResolveTree, but
// keeps track of the JSON path so that missing inputs are reported with it.
func (r *resolver) arm(v any, ctx *armexpr.Context, path string, depth int) (any, error) {
	return mapStrings(v, path, depth, func(t, path string) (any, error) {
		r.curPath = path
		if oc := r.outerContext(); oc != nil && strings.HasPrefix(t, "[") && !strings.HasPrefix(t, "[[") {
			return armexpr.ResolveTree(armPlaceholders(t), oc, path)
		}
		return armexpr.ResolveTree(armPlaceholders(t), ctx, path)
	})
}

func (r *resolver) list() []Missing {
	out := make([]Missing, 0, len(r.order))
	for _, k := range r.order {
		out = append(out, *r.missing[k])
	}
	return out
}

func (r *resolver) record(kind, name, path string, value any) {
	if r.quiet {
		return
	}
	k := strings.ToLower(name)
	if _, ok := r.missing[k]; ok {
		return
	}
	m := &Missing{Name: name, Kind: kind, Path: path, Label: r.label(name)}
	if r.opts.FillDummies {
		m.Value = value
	}
	r.missing[k] = m
	r.order = append(r.order, k)
}

func (r *resolver) label(name string) string {
	for _, u := range r.p.UIParams {
		if strings.EqualFold(u.Name, name) && u.Label != "" {
			return u.Label
		}
	}
	return ""
}

// lookup finds a user value by name, "{{name}}" or UI label.
func (r *resolver) lookup(name string) (string, bool) {
	if v, ok := r.params[name]; ok {
		return v, true
	}
	keys := make([]string, 0, len(r.params))
	for k := range r.params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.EqualFold(stripBraces(k), name) {
			return r.params[k], true
		}
	}
	if lbl := r.label(name); lbl != "" {
		for _, k := range keys {
			if strings.EqualFold(k, lbl) {
				return r.params[k], true
			}
		}
	}
	return "", false
}

// armContext builds the expression context from the poller's template
// scope and the user's parameters.
func (r *resolver) armContext() *armexpr.Context {
	return r.armContextFor(r.p.scope)
}

// outerContext is the context of single-bracket expressions inside a contentTemplates
// mainTemplate: ARM evaluates them when the solution package deploys (the outer template's
// variables, e.g. Sophos' tokenEndpoint), while [[...]] waits for the inner deployment.
func (r *resolver) outerContext() *armexpr.Context {
	sc := r.p.scope
	if sc == nil || sc.outer == nil || sc.passed != nil {
		return nil
	}
	if r.outer == nil {
		r.outer = r.armContextFor(sc.outer)
	}
	return r.outer
}

func (r *resolver) armContextFor(sc *scope) *armexpr.Context {
	ctx := &armexpr.Context{}
	var decls map[string]any
	if sc != nil {
		decls = sc.parameters
		ctx.TemplateParameters = sc.parameters
		ctx.Variables = sc.variables
	}
	user := map[string]any{}
	// values passed down by an enclosing deployment (evaluated outside)
	if sc != nil && sc.passed != nil {
		outer := &armexpr.Context{}
		if sc.outer != nil {
			outer.TemplateParameters = sc.outer.parameters
			outer.Variables = sc.outer.variables
		}
		outer.Parameters = r.userValues(nil)
		for k, pv := range sc.passed {
			if pm, ok := pv.(map[string]any); ok {
				if raw, ok := get(pm, "value"); ok {
					if v, err := armexpr.ResolveTree(raw, outer, ""); err == nil {
						user[k] = v
					}
				}
			}
		}
	}
	for k, v := range r.userValues(decls) {
		user[k] = v
	}
	r.completeObjects(user)
	ctx.Parameters = user
	ctx.MissingVariable = func(name, expr string) (any, bool) {
		if v, ok := get(user, name); ok {
			return v, true
		}
		if r.quiet {
			return nil, false
		}
		v := dummyValue(name, !strings.Contains(expr, "://"))
		r.record("variable", name, r.curPath, v)
		return v, true
	}
	ctx.Missing = func(name string, decl map[string]any, expr string) (any, bool) {
		if r.quiet {
			return nil, false
		}
		// In strict mode the dummy only lets evaluation go on so that every
		// missing input is reported; the resolution still fails.
		v := r.withMembers(name, decl, dummyParam(name, decl, expr))
		r.record("parameter", name, r.curPath, v)
		return v, true
	}
	return ctx
}

// userValues converts the string parameters to ARM values: JSON arrays and
// objects are decoded, array-typed declarations get comma-separated lists,
// "a.b" keys build objects, and dcrConfig is synthesised from its fields.
func (r *resolver) userValues(decls map[string]any) map[string]any {
	out := map[string]any{}
	keys := make([]string, 0, len(r.params))
	for k := range r.params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw := r.params[k]
		name := stripBraces(k)
		var v any = raw
		typ := ""
		if d, ok := get(decls, name); ok {
			if dm, ok := d.(map[string]any); ok {
				typ = strings.ToLower(getStr(dm, "type"))
			}
		}
		t := strings.TrimSpace(raw)
		if (strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]")) || (strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}")) {
			if j, err := ParseJSON([]byte(t)); err == nil {
				v = j
			}
		}
		if s, ok := v.(string); ok {
			switch typ {
			case "array":
				var arr []any
				for _, part := range strings.Split(s, ",") {
					arr = append(arr, strings.TrimSpace(part))
				}
				v = arr
			case "bool":
				if b, err := asBool(s); err == nil {
					v = b
				}
			case "int":
				v = json.Number(strings.TrimSpace(s))
			}
		}
		if i := strings.IndexByte(name, '.'); i > 0 && i < len(name)-1 {
			obj, _ := out[name[:i]].(map[string]any)
			if obj == nil {
				obj = map[string]any{}
				out[name[:i]] = obj
			}
			obj[name[i+1:]] = v
			continue
		}
		out[name] = v
	}
	if _, ok := get(out, "dcrConfig"); !ok {
		dcr := map[string]any{}
		for _, f := range []string{"dataCollectionEndpoint", "dataCollectionRuleImmutableId", "streamName"} {
			if v, ok := get(out, f); ok {
				dcr[f] = v
			}
		}
		if len(dcr) > 0 {
			out["dcrConfig"] = dcr
		}
	}
	return out
}

// placeholderRE matches {{name}}; names may hold spaces ("{{Client Secret}}" in Zoom's file).
var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*[^{}\s])\s*\}\}`)

// stepColumns collects the columns the nested-step KQL queries of a poller assign; a query
// that does not compile provides none (loading the steps reports it).
func stepColumns(v any, depth int) map[string]bool {
	cols := map[string]bool{}
	_, _ = mapStrings(v, "", depth, func(s, path string) (any, error) {
		if strings.HasSuffix(strings.ToLower(path), "stepplaceholdersparsingkql") {
			if q, err := kql.Compile(s); err == nil {
				for _, n := range q.Assigned() {
					cols[n] = true
				}
			}
		}
		return s, nil
	})
	return cols
}

// armPlaceholders rewrites {{name}} written directly inside an ARM expression (outside its
// quoted literals) as parameters('name'), which is what Sentinel's packaging turns it into:
// "[[equals({{X}}[0], 'Yes')]" (Netskope) becomes "[[equals(parameters('X')[0], 'Yes')]".
// Placeholders inside '...' literals stay text and are filled later.
func armPlaceholders(s string) string {
	if !strings.Contains(s, "{{") || !armexpr.IsExpression(s) {
		return s
	}
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			inQuote = !inQuote // '' inside a literal toggles twice: still inside
		}
		if !inQuote && c == '{' && strings.HasPrefix(s[i:], "{{") {
			if loc := placeholderRE.FindStringSubmatchIndex(s[i:]); loc != nil && loc[0] == 0 {
				name := s[i+loc[2] : i+loc[3]]
				b.WriteString("parameters('" + strings.ReplaceAll(name, "'", "''") + "')")
				i += loc[1] - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// placeholders replaces {{name}} in every string of v.
func (r *resolver) placeholders(v any, path string, depth int) (any, error) {
	return mapStrings(v, path, depth, func(t, path string) (any, error) {
		if !strings.Contains(t, "{{") {
			return t, nil
		}
		return placeholderRE.ReplaceAllStringFunc(t, func(m string) string {
			name := placeholderRE.FindStringSubmatch(m)[1]
			if r.stepCols[name] && strings.Contains(strings.ToLower(path), "stepcollectorconfigs") {
				// A nested step's own placeholder written {{name}} (Lookout) rather than
				// $name$: it is filled per record at run time, not by the user.
				return "$" + name + "$"
			}
			if val, ok := r.lookup(name); ok {
				return val
			}
			if !r.opts.FillDummies {
				r.record("placeholder", name, path, nil)
				return m
			}
			idx := strings.Index(t, m)
			d := dummyPlaceholder(name, t[:max(idx, 0)])
			r.record("placeholder", name, path, d)
			return d
		}), nil
	})
}

// legacyTargets applies userRequestPlaceHoldersInput entries whose
// placeHolderName is not of the {{name}} form (those were handled
// everywhere already): in the strings addressed by requestObjectKey /
// pollingKeyPaths, or everywhere when no address is usable.
func (r *resolver) legacyTargets(props any) any {
	for _, u := range r.p.UIParams {
		if u.Kind != "placeholder" || u.PlaceHolderName == "" || placeholderRE.MatchString(u.PlaceHolderName) {
			continue
		}
		val, ok := r.lookup(u.Name)
		if !ok {
			if !r.opts.FillDummies {
				if stringsContain(props, u.PlaceHolderName, 0) {
					r.record("placeholder", u.Name, r.p.propsPath, nil)
				}
				continue
			}
			val = "dummy-" + hostSafe(u.Name)
			if stringsContain(props, u.PlaceHolderName, 0) {
				r.record("placeholder", u.Name, r.p.propsPath, val)
			}
		}
		done := false
		m, _ := props.(map[string]any)
		if m != nil && u.RequestObjectKey != "" {
			if req := getMap(m, "request"); req != nil {
				done = replaceAt(req, []string{u.RequestObjectKey}, u.PlaceHolderName, val) || done
			}
		}
		if m != nil {
			for _, kp := range u.PollingKeyPaths {
				done = replaceAt(m, splitKeyPath(kp), u.PlaceHolderName, val) || done
			}
		}
		if !done {
			props = replaceAll(props, u.PlaceHolderName, val, 0)
		}
	}
	return props
}

func splitKeyPath(p string) []string {
	p = strings.TrimPrefix(strings.TrimSpace(p), "$")
	p = strings.TrimPrefix(p, ".")
	if p == "" {
		return nil
	}
	return strings.Split(p, ".")
}

// replaceAt replaces old in the string at keys below m (case-insensitive keys).
func replaceAt(m map[string]any, keys []string, old, val string) bool {
	if len(keys) == 0 || len(keys) > maxDepth {
		return false
	}
	cur := m
	for i, k := range keys {
		var real string
		for _, kk := range slices.Sorted(maps.Keys(cur)) {
			if strings.EqualFold(kk, k) {
				real = kk
				break
			}
		}
		if real == "" {
			return false
		}
		if i == len(keys)-1 {
			s, ok := cur[real].(string)
			if !ok || !strings.Contains(s, old) {
				return false
			}
			cur[real] = strings.ReplaceAll(s, old, val)
			return true
		}
		next, ok := cur[real].(map[string]any)
		if !ok {
			return false
		}
		cur = next
	}
	return false
}

func replaceAll(v any, old, val string, depth int) any {
	if depth > maxDepth {
		return v
	}
	switch t := v.(type) {
	case string:
		return strings.ReplaceAll(t, old, val)
	case []any:
		for i := range t {
			t[i] = replaceAll(t[i], old, val, depth+1)
		}
	case map[string]any:
		for k := range t {
			t[k] = replaceAll(t[k], old, val, depth+1)
		}
	}
	return v
}

func stringsContain(v any, s string, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch t := v.(type) {
	case string:
		return strings.Contains(t, s)
	case []any:
		for _, x := range t {
			if stringsContain(x, s, depth+1) {
				return true
			}
		}
	case map[string]any:
		for _, x := range t {
			if stringsContain(x, s, depth+1) {
				return true
			}
		}
	}
	return false
}

// initNameAndCondition fills Name/FullName/Condition at load time, with the
// template's defaults only.
func (p *Poller) initNameAndCondition() {
	p.Name = fmt.Sprintf("%s-%d", p.Kind, p.Index)
	if s, ok := p.rawName.(string); ok {
		p.FullName = s
	}
	r := &resolver{p: p, params: nil, missing: map[string]*Missing{}, quiet: true}
	ctx := r.armContext()
	ctx.Missing = nil
	ctx.MissingVariable = nil
	if p.rawName != nil {
		if nv, err := armexpr.ResolveTree(p.rawName, ctx, ""); err == nil {
			if s, ok := nv.(string); ok && s != "" && !strings.Contains(s, "{{") {
				p.FullName = s
				p.Name = lastSegment(s)
			}
		}
	}
	p.Condition = true
	if p.rawCond != nil {
		if cv, err := armexpr.ResolveTree(p.rawCond, ctx, ""); err == nil {
			if b, err := asBool(cv); err == nil {
				p.Condition = b
			}
		}
	}
}

// ParamsFromConnectBody reads a Sentinel Connect API request body and
// returns its inputs as parameters: every requestConfigUserInputValues entry
// (placeHolderName without braces -> placeHolderValue) and the top-level
// string credentials (apiKey, userName, password, clientId, ...). The body
// may be the bare object or wrapped in {"properties": ...}.
func ParamsFromConnectBody(b []byte) (map[string]string, error) {
	v, err := ParseJSON(b)
	if err != nil {
		return nil, fmt.Errorf("connect body: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("connect body: not a JSON object")
	}
	if p := getMap(m, "properties"); p != nil {
		m = p
	}
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch t := m[k].(type) {
		case string:
			if !strings.EqualFold(k, "kind") {
				out[k] = t
			}
		case json.Number:
			out[k] = t.String()
		case bool:
			out[k] = fmt.Sprint(t)
		}
	}
	in, _ := get(m, "requestConfigUserInputValues")
	arr, _ := in.([]any)
	for i, x := range arr {
		e, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("connect body: requestConfigUserInputValues[%d] is not an object", i)
		}
		name := stripBraces(getStr(e, "placeHolderName"))
		if name == "" {
			return nil, fmt.Errorf("connect body: requestConfigUserInputValues[%d] has no placeHolderName", i)
		}
		val, _ := get(e, "placeHolderValue")
		switch t := val.(type) {
		case string:
			out[name] = t
		case nil:
			out[name] = ""
		default:
			bs, _ := json.Marshal(t)
			out[name] = string(bs)
		}
	}
	return out, nil
}

// memberRE matches a member read of a parameter: parameters('name').member or
// parameters('name')['member'].
var memberRE = regexp.MustCompile(`(?i)parameters\(\s*'([^']+)'\s*\)\s*(?:\.\s*([A-Za-z_$][A-Za-z0-9_$]*)|\[\s*'([^']+)'\s*\])`)

// memberRead is one member of an object parameter that the poller reads, and where.
type memberRead struct{ member, path string }

// objectMembers lists, by lower-case parameter name, the members the poller reads of
// object parameters (dcrConfig: dataCollectionEndpoint, ...), each with the JSON path of its
// first read, in file order.
func objectMembers(v any, path string) map[string][]memberRead {
	out := map[string][]memberRead{}
	_, _ = mapStrings(v, path, 0, func(s, at string) (any, error) {
		for _, m := range memberRE.FindAllStringSubmatch(s, -1) {
			name, member := strings.ToLower(m[1]), m[2]+m[3]
			seen := false
			for _, x := range out[name] {
				seen = seen || strings.EqualFold(x.member, member)
			}
			if !seen {
				out[name] = append(out[name], memberRead{member: member, path: at})
			}
		}
		return s, nil
	})
	return out
}

// completeObjects gives every object the user supplied the members the poller reads and
// the object lacks: each is a missing input "name.member" (supplied as a member of the
// object or under that key), filled with a dummy so that evaluation goes on.
func (r *resolver) completeObjects(user map[string]any) {
	if r.quiet {
		return
	}
	keys := make([]string, 0, len(user))
	for k := range user {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		obj, ok := user[k].(map[string]any)
		if !ok {
			continue
		}
		for _, m := range r.members[strings.ToLower(k)] {
			if _, ok := get(obj, m.member); ok {
				continue
			}
			d := dummyValue(m.member, true)
			r.record("parameter", k+"."+m.member, m.path, d)
			obj[m.member] = d
		}
	}
}

// withMembers completes the dummy of an object parameter with the members the poller
// reads; a parameter without declaration that is read by member is an object.
func (r *resolver) withMembers(name string, decl map[string]any, v any) any {
	reads := r.members[strings.ToLower(name)]
	if len(reads) == 0 {
		return v
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if decl != nil {
			return v
		}
		obj = map[string]any{}
	}
	for _, m := range reads {
		if _, ok := get(obj, m.member); !ok {
			obj[m.member] = dummyValue(m.member, true)
		}
	}
	return obj
}

// ObjectMembers lists, by lower-case parameter name, the members the poller reads of its
// object parameters (parameters('dcrConfig').dataCollectionEndpoint), in file order.
func ObjectMembers(p Poller) map[string][]string {
	out := map[string][]string{}
	for name, reads := range objectMembers(p.Properties, p.propsPath) {
		for _, m := range reads {
			out[name] = append(out[name], m.member)
		}
	}
	return out
}
