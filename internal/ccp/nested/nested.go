package nested

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tidwall/sjson"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/kql"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/origin"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/sjsonkey"
)

// Limits of §7 and of this implementation.
const (
	MaxNextSteps           = 3  // nextSteps per step (schema limit)
	MaxSteps               = 4  // entries of stepCollectorConfigs (schema limit)
	DefaultStepParallelism = 15 // request.maxParallelism when absent (schema default)
	// DefaultMaxParallelism caps concurrent child calls of a Runner (a step's maxParallelism
	// above it is lowered): the collector shares two cores with other pipelines.
	DefaultMaxParallelism = 4
	// DefaultMaxChildCalls bounds the child requests one Expand call may start.
	DefaultMaxChildCalls = 10000
	// maxTopWorkers bounds the parent records expanded at the same time.
	maxTopWorkers = 16
)

// Keys of a step (and of the root) that belong to nested polling, not to the engine.
var nestedKeys = []string{"stepInfo", "stepCollectorConfigs", "shouldJoinNestedData", "joinedDataStepName"}

// Time-window fields a child ignores (§7: the window is the parent's).
var childWindowKeys = []string{"queryWindowInMin", "queryWindowDelayInMin", "firstWindowBackfillInMin"}

// Options configure a Runner.
type Options struct {
	// Engine is the template of every child engine: HTTPClient, Logger, Observer,
	// MaxBodySize, MaxPages (per child call), DefaultTimeFormat, backoff bounds, and Limiter,
	// the connector's (give the parent engine's; nil: one from the parent's rateLimitQPS).
	// Its Auth is replaced per step (the step's own auth, else the parent's).
	Engine poller.Options
	// AuthSettings build the Authenticator of a step that has its own auth object.
	AuthSettings auth.Settings
	// MaxParallelism caps concurrent child calls (default DefaultMaxParallelism); each step's
	// request.maxParallelism (default 15) is lowered to it.
	MaxParallelism int
	// MaxChildCalls bounds the child calls of one Expand (default DefaultMaxChildCalls); the
	// rest are skipped with a warning.
	MaxChildCalls int
	// Path names the definition in messages ("polling_config", a file name).
	Path string
}

// ParseDefinition parses a poller whether or not it has nested steps: with them, it checks
// the steps and parses the parent part, which definition.Parse alone would refuse.
func ParseDefinition(props map[string]any, source string) (*definition.Definition, error) {
	if !Present(props) {
		return definition.Parse(props, source)
	}
	if err := Validate(props); err != nil {
		return nil, fmt.Errorf("%s: nested steps: %w", source, err)
	}
	return definition.Parse(ParentProps(props), source)
}

// Present reports whether a poller object (any shape definition.Unwrap accepts) uses nested
// steps.
func Present(props map[string]any) bool {
	p, _, _ := definition.Unwrap(props)
	f := definition.NewFields("", p)
	return f.Has("stepInfo") || f.Has("stepCollectorConfigs")
}

// ParentProps returns the poller object (unwrapped as definition.Unwrap does) without the
// nested-step keys, so that definition.Parse builds the parent definition with neither the
// "nested steps are not supported" entry nor unknown-key warnings. props is not modified.
func ParentProps(props map[string]any) map[string]any {
	p, _, _ := definition.Unwrap(props)
	out := make(map[string]any, len(p))
	for k, v := range p {
		if !isNestedKey(k) {
			out[k] = v
		}
	}
	return out
}

func isNestedKey(k string) bool {
	for _, n := range nestedKeys {
		if strings.EqualFold(strings.TrimSpace(k), n) {
			return true
		}
	}
	return false
}

// Validate checks a nested definition without building authenticators or touching the
// network: step references, limits, cycles, KQL syntax and columns, join names, and that
// every child step parses and would be accepted by the engine.
func Validate(props map[string]any) error {
	_, err := build(props, nil, Options{}, true)
	return err
}

// Runner expands the events of a parent page through the nested steps.
type Runner struct {
	opts     Options
	log      *zap.Logger
	root     []*node
	sem      chan struct{}
	warnings []string
}

// step is one entry of stepCollectorConfigs.
type step struct {
	id       string         // key as written
	raw      map[string]any // the step object, verbatim
	join     bool
	joinName string
	ownAuth  bool
	auth     auth.Authenticator
	client   *http.Client // shares the step's rateLimitQPS across all its child calls
	sem      chan struct{}
	refs     []string // $name$ placeholders its request mentions, sorted
	path     string
	// origin is the scheme, host and port its apiEndpoint names literally (zero: the host is a
	// placeholder); only requests there carry credentials and configured headers.
	origin    origin.Origin
	warnedOff atomic.Bool // the off-origin warning was logged
}

// node is a step as reached through one chain of nextSteps (the same step reached by two
// chains sees different inherited placeholders).
type node struct {
	step     *step
	kql      *kql.Query
	known    map[string]bool // placeholders available to the step's request
	used     []string        // refs ∩ known: substituted, and required non-empty
	children []*node
}

// New builds a Runner from the parent's resolved properties (any shape definition.Unwrap
// accepts). parentAuth is the parent's Authenticator, inherited by steps without auth; it may
// be nil for open APIs.
func New(props map[string]any, parentAuth auth.Authenticator, opts Options) (*Runner, error) {
	return build(props, parentAuth, opts, false)
}

// Warnings are things the user should know about the nested definition (a step id matched
// case-insensitively, placeholders no KQL column provides, ignored root keys).
func (r *Runner) Warnings() []string { return append([]string(nil), r.warnings...) }

func build(props map[string]any, parentAuth auth.Authenticator, opts Options, validateOnly bool) (*Runner, error) {
	if opts.Path == "" {
		opts.Path = "properties"
	}
	if opts.MaxParallelism <= 0 {
		opts.MaxParallelism = DefaultMaxParallelism
	}
	if opts.MaxChildCalls <= 0 {
		opts.MaxChildCalls = DefaultMaxChildCalls
	}
	if opts.Engine.Logger == nil {
		opts.Engine.Logger = zap.NewNop()
	}
	if opts.Engine.HTTPClient == nil {
		opts.Engine.HTTPClient = &http.Client{}
	}
	p, _, _ := definition.Unwrap(props)
	root := definition.NewFields(opts.Path, p)
	if opts.Engine.Limiter == nil {
		// Child calls count against the connector's rateLimitQPS; the receiver passes the
		// parent engine's Limiter so that parent pages share it too.
		qps := 0.0
		if req := root.Object("request"); req != nil {
			qps, _ = req.Float("rateLimitQPS", "rateLimitQps")
		}
		opts.Engine.Limiter = ratelimit.New(qps)
	}
	r := &Runner{opts: opts, log: opts.Engine.Logger, sem: make(chan struct{}, opts.MaxParallelism)}
	path := opts.Path

	configs := map[string]any{}
	if v, ok := root.Raw("stepCollectorConfigs"); ok {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s.stepCollectorConfigs: must be an object mapping step ids to steps", path)
		}
		configs = m
	}
	if len(configs) > MaxSteps {
		return nil, fmt.Errorf("%s.stepCollectorConfigs: %d steps; at most %d are allowed", path, len(configs), MaxSteps)
	}
	if !root.Has("stepInfo") {
		return nil, fmt.Errorf("%s.stepInfo: missing; stepCollectorConfigs needs a root stepInfo with nextSteps", path)
	}
	for _, k := range []string{"shouldJoinNestedData", "joinedDataStepName"} {
		if root.Has(k) {
			r.warnings = append(r.warnings, fmt.Sprintf("%s.%s: has no effect on the root poller and is ignored (a child step's shouldJoinNestedData decides whether the parent record is emitted)", path, k))
		}
	}

	b := &builder{r: r, configs: configs, steps: map[string]*step{}, parentAuth: parentAuth, validateOnly: validateOnly}
	var err error
	r.root, err = b.nextSteps(root.Object("stepInfo"), path+".stepInfo", nil, nil)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(configs)) {
		if _, ok := b.steps[k]; !ok {
			r.warnings = append(r.warnings, fmt.Sprintf("%s.stepCollectorConfigs.%s: no nextSteps entry refers to this step; it never runs", path, k))
		}
	}
	for _, w := range r.warnings {
		r.log.Warn(w)
	}
	return r, nil
}

type builder struct {
	r            *Runner
	configs      map[string]any
	steps        map[string]*step // by config key
	parentAuth   auth.Authenticator
	validateOnly bool
}

// nextSteps builds the nodes of a stepInfo. inherited are the placeholder names the chain
// provides so far; chain is the step ids on the way here (cycle detection).
func (b *builder) nextSteps(info *definition.Fields, where string, inherited []string, chain []string) ([]*node, error) {
	if info == nil {
		return nil, fmt.Errorf("%s: must be an object with stepType \"Nested\" and nextSteps", where)
	}
	if t := info.String("stepType"); !strings.EqualFold(strings.TrimSpace(t), "Nested") {
		return nil, fmt.Errorf("%s.stepType: %q; only \"Nested\" is defined", where, t)
	}
	rawNext, _ := info.Raw("nextSteps")
	list, ok := rawNext.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%s.nextSteps: missing or empty; give 1 to %d steps", where, MaxNextSteps)
	}
	if len(list) > MaxNextSteps {
		return nil, fmt.Errorf("%s.nextSteps: %d entries; at most %d are allowed", where, len(list), MaxNextSteps)
	}
	var out []*node
	for i, e := range list {
		at := fmt.Sprintf("%s.nextSteps[%d]", where, i)
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: must be an object with stepId and stepPlaceholdersParsingKql", at)
		}
		f := definition.NewFields(at, m)
		id := strings.TrimSpace(f.String("stepId"))
		if id == "" {
			return nil, fmt.Errorf("%s.stepId: missing", at)
		}
		key, err := b.resolveID(id, at)
		if err != nil {
			return nil, err
		}
		for _, c := range chain {
			if c == key {
				return nil, fmt.Errorf("%s.stepId: %q forms a cycle (%s -> %s)", at, id, strings.Join(chain, " -> "), key)
			}
		}
		text, ok := f.StringOK("stepPlaceholdersParsingKql")
		if !ok || strings.TrimSpace(text) == "" {
			text = "source"
			b.r.warnings = append(b.r.warnings, fmt.Sprintf("%s.stepPlaceholdersParsingKql: missing; using \"source\" (the inherited placeholders only)", at))
		}
		q, err := kql.Compile(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		cols, err := q.Columns(inherited)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		st, err := b.step(key)
		if err != nil {
			return nil, err
		}
		n := &node{step: st, kql: q, known: map[string]bool{}}
		for _, c := range cols {
			n.known[c] = true
		}
		for _, ref := range st.refs {
			if n.known[ref] {
				n.used = append(n.used, ref)
			} else {
				b.r.warnings = append(b.r.warnings, fmt.Sprintf("%s.request: $%s$ is not a column of %s (columns: %s); it is sent literally", st.path, ref, at, strings.Join(cols, ", ")))
			}
		}
		if len(n.used) == 0 {
			b.r.warnings = append(b.r.warnings, fmt.Sprintf("%s.request: uses none of the placeholders %s provides; every row of the query makes the same request", st.path, at))
		}
		if err := b.checkChild(n); err != nil {
			return nil, err
		}
		if sub := definition.NewFields(st.path, st.raw); sub.Has("stepInfo") {
			if n.children, err = b.nextSteps(sub.Object("stepInfo"), st.path+".stepInfo", cols, append(chain, key)); err != nil {
				return nil, err
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// resolveID finds the stepCollectorConfigs key of a stepId: exactly, else case-insensitively
// (§7), else — with a warning — the one key that is a single edit away case-insensitively.
// The last rule exists for CrowdStrike's Cases poller, whose nextSteps name "case_details"
// while the key is "Cases_details": case folding alone does not repair it, and Sentinel
// evidently runs that connector. Two or more candidates, or none, are a configuration error.
func (b *builder) resolveID(id, at string) (string, error) {
	if _, ok := b.configs[id]; ok {
		return id, nil
	}
	keys := slices.Sorted(maps.Keys(b.configs))
	pick := func(match func(k string) bool) []string {
		var out []string
		for _, k := range keys {
			if match(k) {
				out = append(out, k)
			}
		}
		return out
	}
	fold := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	match := pick(func(k string) bool { return fold(k) == fold(id) })
	how := "only case-insensitively"
	if len(match) == 0 {
		match = pick(func(k string) bool { return oneEdit(fold(k), fold(id)) })
		how = "only approximately (one character differs, case ignored)"
	}
	switch len(match) {
	case 1:
		b.r.warnings = append(b.r.warnings, fmt.Sprintf("%s.stepId: %q matches stepCollectorConfigs key %q %s; using it (fix the stepId)", at, id, match[0], how))
		return match[0], nil
	case 0:
		return "", fmt.Errorf("%s.stepId: %q is not a key of stepCollectorConfigs (keys: %s); fix the stepId or the key", at, id, strings.Join(keys, ", "))
	}
	return "", fmt.Errorf("%s.stepId: %q is not a key of stepCollectorConfigs and matches several keys %s (%s); fix the stepId", at, id, how, strings.Join(match, ", "))
}

// oneEdit reports whether a and b differ by exactly one inserted, deleted or replaced byte.
func oneEdit(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a)-len(b) > 1 || a == b {
		return false
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		return a[i+1:] == b[i+1:]
	}
	return a[i+1:] == b[i:]
}

// step parses a stepCollectorConfigs entry once.
func (b *builder) step(key string) (*step, error) {
	if st, ok := b.steps[key]; ok {
		return st, nil
	}
	path := b.r.opts.Path + ".stepCollectorConfigs." + key
	raw, ok := b.configs[key].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: must be an object (request, response, paging, ...)", path)
	}
	f := definition.NewFields(path, raw)
	st := &step{id: key, raw: raw, path: path}
	st.join = f.Bool("shouldJoinNestedData")
	st.joinName = strings.TrimSpace(f.String("joinedDataStepName"))
	if st.join && st.joinName == "" {
		return nil, fmt.Errorf("%s.joinedDataStepName: missing; shouldJoinNestedData true needs the name of the field that receives the step's result", path)
	}
	if errs := f.Errors(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	st.ownAuth = f.Has("auth")
	req := f.Object("request")
	if req == nil {
		return nil, fmt.Errorf("%s.request: missing; a step needs a request object with apiEndpoint", path)
	}
	par := DefaultStepParallelism
	if n, ok := req.Int("maxParallelism"); ok && n > 0 {
		par = n
	}
	par = min(par, b.r.opts.MaxParallelism)
	st.sem = make(chan struct{}, par)
	qps, _ := req.Float("rateLimitQPS", "rateLimitQps")
	st.client = limitedClient(b.r.opts.Engine.HTTPClient, qps)
	endpoint := req.String("apiEndpoint")
	var static bool
	if st.origin, static = staticOrigin(endpoint); !static {
		b.r.warnings = append(b.r.warnings, fmt.Sprintf("%s.request.apiEndpoint: %q takes its scheme or host from a $placeholder$; "+
			"its calls never carry credentials or configured headers (write the scheme and host literally to send them)", path, endpoint))
	}
	rawReq, _ := f.Raw("request")
	refs := map[string]bool{}
	collectRefs(rawReq, refs, 0)
	for k := range refs {
		st.refs = append(st.refs, k)
	}
	sort.Strings(st.refs)

	if st.ownAuth {
		def, err := definition.Parse(childProps(st, nil, nil), path)
		if err != nil {
			return nil, err
		}
		if b.validateOnly {
			if !auth.Supported(def.Auth.Type) {
				return nil, fmt.Errorf("%s.auth.type: %q is not supported (supported: %s)", path, def.Auth.Type, strings.Join(auth.SupportedTypes(), ", "))
			}
		} else if st.auth, err = auth.New(def.Auth, b.r.opts.AuthSettings); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else {
		st.auth = b.parentAuth
	}
	b.steps[key] = st
	return st, nil
}

// checkChild parses the step with every used placeholder set to a sample value and builds an
// engine for it, so a broken step fails at load time instead of on the first parent record.
func (b *builder) checkChild(n *node) error {
	row := kql.Row{}
	for _, k := range n.used {
		row[k] = "0"
	}
	def, err := definition.Parse(childProps(n.step, row, n.used), n.step.path)
	if err != nil {
		return err
	}
	for _, w := range def.Warnings {
		b.r.warnings = append(b.r.warnings, n.step.path+": "+w)
	}
	switch def.Paging.Type {
	case definition.PagingPersistentToken, definition.PagingPersistentLinkHeader:
		b.r.warnings = append(b.r.warnings, fmt.Sprintf("%s.paging: %s keeps no cursor in a child step; every child call starts from its first page", n.step.path, def.Paging.Type))
	}
	o := b.r.opts.Engine
	o.HTTPClient, o.Auth = n.step.client, nil
	if _, err := poller.New(def, o); err != nil {
		return fmt.Errorf("%s: %w", n.step.path, err)
	}
	return nil
}

// ---------------------------------------------------------------- placeholders

var placeholderRE = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)\$`)

func collectRefs(v any, into map[string]bool, depth int) {
	if depth > 64 {
		return
	}
	switch x := v.(type) {
	case string:
		for _, m := range placeholderRE.FindAllStringSubmatch(x, -1) {
			into[m[1]] = true
		}
	case map[string]any:
		for k, e := range x {
			collectRefs(k, into, depth+1)
			collectRefs(e, into, depth+1)
		}
	case []any:
		for _, e := range x {
			collectRefs(e, into, depth+1)
		}
	}
}

// childProps is the step as definition.Parse takes it: the nested keys and the child's own
// time-window fields removed, auth {"type": "None"} when the step has none (the parent's
// Authenticator is used instead), and the used placeholders substituted in the request.
func childProps(st *step, row kql.Row, used []string) map[string]any {
	out := make(map[string]any, len(st.raw)+1)
	hasAuth := false
	for k, v := range st.raw {
		switch {
		case isNestedKey(k):
		case strings.EqualFold(strings.TrimSpace(k), "request"):
			req, ok := v.(map[string]any)
			if !ok {
				out[k] = v
				continue
			}
			nr := make(map[string]any, len(req))
			for rk, rv := range req {
				if containsFold(childWindowKeys, rk) {
					continue
				}
				nr[rk] = substituteField(rk, rv, row, used)
			}
			out[k] = nr
		default:
			if strings.EqualFold(strings.TrimSpace(k), "auth") {
				hasAuth = v != nil
			}
			out[k] = v
		}
	}
	if !hasAuth {
		out["auth"] = map[string]any{"type": "None"}
	}
	return out
}

func containsFold(list []string, k string) bool {
	for _, n := range list {
		if strings.EqualFold(strings.TrimSpace(k), n) {
			return true
		}
	}
	return false
}

// substituteField replaces $name$ in one request field, escaping each value for where it
// lands: the URL (substituteURL: path-escaped in the path, query-escaped in the query; next to
// the host, a relative URL as Salesforce's $logFileUrl$ keeps its delimiters), header
// values (CR/LF become spaces), the body template (JSON-string escaping inside a quoted
// string) and everything else verbatim (query parameters are encoded by the engine).
func substituteField(key string, v any, row kql.Row, used []string) any {
	if len(used) == 0 {
		return v
	}
	k := strings.ToLower(strings.TrimSpace(key))
	switch k {
	case "apiendpoint":
		if s, ok := v.(string); ok {
			return substituteURL(s, row, used)
		}
	case "queryparameterstemplate":
		if s, ok := v.(string); ok {
			return substituteTemplate(s, row, used)
		}
	case "headers":
		return substituteTree(v, row, used, headerSafe, 0)
	}
	return substituteTree(v, row, used, func(s string) string { return s }, 0)
}

func substituteTree(v any, row kql.Row, used []string, esc func(string) string, depth int) any {
	if depth > 64 {
		return v
	}
	switch x := v.(type) {
	case string:
		return replacePlaceholders(x, row, used, esc)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[replacePlaceholders(k, row, used, esc)] = substituteTree(e, row, used, esc, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substituteTree(e, row, used, esc, depth+1)
		}
		return out
	}
	return v
}

func isUsed(used []string, name string) bool {
	for _, u := range used {
		if u == name {
			return true
		}
	}
	return false
}

func replacePlaceholders(s string, row kql.Row, used []string, esc func(string) string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		if !isUsed(used, name) {
			return m
		}
		return esc(row[name])
	})
}

// urlSafe percent-encodes what cannot stand in a URL (controls, space, non-ASCII, "<>\^`{|}#
// and a '%' that does not start an escape) and keeps the URL delimiters.
func urlSafe(s string) string {
	return percentEncode(s, func(c byte) bool {
		return c > 0x20 && c < 0x7f && strings.IndexByte("\"<>\\^`{|}#%", c) < 0
	})
}

// percentEncode writes every byte keep refuses as %XX; an existing %XX escape is kept as is.
func percentEncode(s string, keep func(c byte) bool) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		case keep(c):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func headerSafe(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// substituteTemplate substitutes in a body template. When the template is (lenient) JSON, a
// placeholder inside a '...' or "..." string gets the value escaped for that string; outside
// strings (a number position) the value is inserted as is.
func substituteTemplate(s string, row kql.Row, used []string) string {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return replacePlaceholders(s, row, used, func(v string) string { return v })
	}
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '$' {
			if loc := placeholderRE.FindStringIndex(s[i:]); loc != nil && loc[0] == 0 {
				name := s[i+1 : i+loc[1]-1]
				if isUsed(used, name) {
					v := row[name]
					if quote != 0 {
						v = jsonStringEscape(v, quote)
					}
					b.WriteString(v)
					i += loc[1] - 1
					continue
				}
			}
		}
		switch {
		case quote != 0 && c == '\\' && i+1 < len(s):
			b.WriteByte(c)
			i++
			c = s[i]
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		}
		b.WriteByte(c)
	}
	return b.String()
}

func jsonStringEscape(v string, quote byte) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' || c == quote:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ---------------------------------------------------------------- rate limit

// limitedClient shares one rateLimitQPS budget among all child calls of a step: each child
// call has its own engine (whose limiter would start afresh), so the spacing is done by the
// transport instead and the child definitions' rateLimitQPS is zeroed.
func limitedClient(c *http.Client, qps float64) *http.Client {
	if qps <= 0 {
		return c
	}
	cc := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc.Transport = &limitedTransport{base: base, lim: ratelimit.New(qps)}
	return &cc
}

type limitedTransport struct {
	base http.RoundTripper
	lim  *ratelimit.Limiter
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.lim.Wait(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// ---------------------------------------------------------------- expansion

// Expand returns the events to emit for one parent page (see doc.go): for each parent
// record, the child steps run with the placeholder rows their KQL produced; joined steps
// attach their result to the record, the others replace it with their own events. The
// order follows the parent records, then the rows, then the child events. Any failed child
// call fails the whole page, so the caller must not advance its checkpoint.
func (r *Runner) Expand(ctx context.Context, w window.Window, parentEvents []string) ([]string, error) {
	if len(parentEvents) == 0 {
		return nil, nil
	}
	x := &expansion{r: r, w: w, budget: int64(r.opts.MaxChildCalls)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([][]string, len(parentEvents))
	errs := make([]error, len(parentEvents))
	var wg sync.WaitGroup
	var next atomic.Int64
	workers := min(len(parentEvents), maxTopWorkers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(parentEvents) || ctx.Err() != nil {
					return
				}
				results[i], errs[i] = x.record(ctx, r.root, parentEvents[i], nil)
				if errs[i] != nil {
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	if s := x.skipped.Load(); s > 0 {
		r.log.Error("nested steps: too many child calls for one parent page; the rest were skipped and their data is not collected",
			zap.Int("max_child_calls", r.opts.MaxChildCalls), zap.Int64("skipped", s), zap.Time("window_start", w.Start))
		poller.ReportSkip(r.opts.Engine.Observer, "nested_child_budget", fmt.Sprintf(
			"%d child calls of nested steps were skipped for one parent page: at most %d run per page "+
				"(nested MaxChildCalls); shorten request.queryWindowInMin or the parent's page size so a page needs fewer", s, r.opts.MaxChildCalls))
	}
	var out []string
	for _, res := range results {
		out = append(out, res...)
	}
	return out, nil
}

// firstError prefers a real failure over the cancellations it caused in siblings.
func firstError(errs []error) error {
	var canceled error
	for _, e := range errs {
		if e == nil {
			continue
		}
		if !errors.Is(e, context.Canceled) {
			return e
		}
		if canceled == nil {
			canceled = e
		}
	}
	return canceled
}

type expansion struct {
	r       *Runner
	w       window.Window
	budget  int64
	used    atomic.Int64
	skipped atomic.Int64
}

func (x *expansion) take() bool {
	if x.used.Add(1) > x.budget {
		x.skipped.Add(1)
		return false
	}
	return true
}

// record expands one record through nodes (the next steps of the step that produced it).
func (x *expansion) record(ctx context.Context, nodes []*node, rec string, inherited kql.Row) ([]string, error) {
	if len(nodes) == 0 {
		return []string{rec}, nil
	}
	type job struct {
		node int
		row  kql.Row
	}
	var jobs []job
	for i, n := range nodes {
		rows, err := n.kql.Run(rec, inherited)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.step.path, err)
		}
		for _, row := range rows {
			if !complete(row, n.used) {
				continue // a referenced placeholder is null or empty (§7 step 2)
			}
			if !x.take() {
				continue
			}
			jobs = append(jobs, job{i, row})
		}
	}
	outs := make([][]string, len(jobs))
	errs := make([]error, len(jobs))
	if len(jobs) == 1 {
		outs[0], errs[0] = x.run(ctx, nodes[jobs[0].node], jobs[0].row)
	} else if len(jobs) > 1 {
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for j, jb := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[j], errs[j] = x.run(ctx, nodes[jb.node], jb.row)
				if errs[j] != nil {
					cancel()
				}
			}()
		}
		wg.Wait()
		cancel()
	}
	if err := firstError(errs); err != nil {
		return nil, err
	}
	perNode := make([][]string, len(nodes))
	for j, jb := range jobs {
		perNode[jb.node] = append(perNode[jb.node], outs[j]...)
	}
	joined, anyJoin := rec, false
	var emitted []string
	for i, n := range nodes {
		if !n.step.join {
			emitted = append(emitted, perNode[i]...)
			continue
		}
		anyJoin = true
		var err error
		if joined, err = attach(joined, n.step.joinName, perNode[i]); err != nil {
			return nil, fmt.Errorf("%s: joining into the parent record: %w", n.step.path, err)
		}
	}
	if anyJoin {
		return append([]string{joined}, emitted...), nil
	}
	return emitted, nil
}

func complete(row kql.Row, used []string) bool {
	for _, k := range used {
		if row[k] == "" {
			return false
		}
	}
	return true
}

// run makes one child call for a row and expands its events through the step's own next
// steps (with the row as their inherited placeholders).
func (x *expansion) run(ctx context.Context, n *node, row kql.Row) ([]string, error) {
	events, err := x.call(ctx, n, row)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ev := range events {
		res, err := x.record(ctx, n.children, ev, row)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// call runs the child request of one row with its own paging and returns its events.
func (x *expansion) call(ctx context.Context, n *node, row kql.Row) ([]string, error) {
	st := n.step
	def, err := definition.Parse(childProps(st, row, n.used), st.path)
	if err != nil {
		return nil, fmt.Errorf("nested step %s (%s): %w", st.id, describeRow(row, n.used), err)
	}
	def.Request.RateLimitQPS = 0 // the step's own rate is kept by its transport; the engine uses the connector's Limiter
	o := x.r.opts.Engine
	o.HTTPClient, o.Auth = st.client, st.auth
	if !x.r.confine(st, def) {
		o.Auth = nil
	}
	eng, err := poller.New(def, o)
	if err != nil {
		return nil, fmt.Errorf("nested step %s (%s): %w", st.id, describeRow(row, n.used), err)
	}
	if err := acquire(ctx, st.sem); err != nil {
		return nil, err
	}
	defer release(st.sem)
	if err := acquire(ctx, x.r.sem); err != nil {
		return nil, err
	}
	defer release(x.r.sem)
	var events []string
	_, err = eng.PollWindow(ctx, x.w, "", "", func(_ context.Context, p poller.Page) error {
		events = append(events, p.Events...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nested step %s (%s): %w", st.id, describeRow(row, n.used), err)
	}
	return events, nil
}

func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func release(sem chan struct{}) { <-sem }

// describeRow names the placeholders of a failed call; values are cut short (they are
// vendor ids and paths, not secrets, but may be long).
func describeRow(row kql.Row, used []string) string {
	parts := make([]string, 0, len(used))
	for _, k := range used {
		v := row[k]
		if len(v) > 80 {
			v = v[:80] + "..."
		}
		parts = append(parts, fmt.Sprintf("$%s$=%q", k, v))
	}
	if len(parts) == 0 {
		return "no placeholders"
	}
	return strings.Join(parts, ", ")
}

// attach sets rec[name] to the step result: absent when the step returned nothing, the
// event itself for one event, an array for several. A record that is not an object is
// wrapped as {"data": record} first.
func attach(rec, name string, events []string) (string, error) {
	if len(events) == 0 {
		return rec, nil
	}
	t := strings.TrimSpace(rec)
	if !strings.HasPrefix(t, "{") {
		t = `{"data":` + t + `}`
	}
	val := events[0]
	if len(events) > 1 {
		val = "[" + strings.Join(events, ",") + "]"
	}
	if !json.Valid([]byte(val)) {
		return "", fmt.Errorf("child result is not valid JSON")
	}
	return sjson.SetRaw(t, sjsonkey.Path(name), val)
}
