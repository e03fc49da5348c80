package nested

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/kql"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
)

func build(props map[string]any, parentAuth auth.Authenticator, opts Options, validateOnly bool) (*Runner, error) {
	path := opts.Path
	if path == "" {
		path = "properties"
	}
	p, _, _ := definition.Unwrap(props)
	qps := 0.0
	if req := definition.NewFields(path, p).Object("request"); req != nil {
		qps, _ = req.Float("rateLimitQPS", "rateLimitQps")
	}
	opts = withDefaults(opts, qps)
	return buildSteps(definition.ParseSteps(props, opts.Path), parentAuth, opts, validateOnly)
}

// withDefaults fills the zero values of opts; qps is the connector's rateLimitQPS.
func withDefaults(opts Options, qps float64) Options {
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
	if opts.Engine.Limiter == nil {
		// Child calls count against the connector's rateLimitQPS; the receiver passes the
		// parent engine's Limiter so that parent pages share it too.
		opts.Engine.Limiter = ratelimit.New(qps)
	}
	return opts
}

func buildSteps(steps *definition.Steps, parentAuth auth.Authenticator, opts Options, validateOnly bool) (*Runner, error) {
	if steps.Err != nil {
		return nil, steps.Err
	}
	r := &Runner{opts: opts, log: opts.Engine.Logger, sem: make(chan struct{}, opts.MaxParallelism)}
	for _, k := range steps.RootJoinKeys {
		r.warnings = append(r.warnings, fmt.Sprintf("%s.%s: has no effect on the root poller and is ignored (a child step's shouldJoinNestedData decides whether the parent record is emitted)", opts.Path, k))
	}
	b := &builder{r: r, configs: steps.Configs, steps: map[string]*step{}, parentAuth: parentAuth, validateOnly: validateOnly}
	var err error
	if r.root, err = b.nextSteps(steps.Info, nil, nil); err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(steps.Configs)) {
		if _, ok := b.steps[k]; !ok {
			r.warnings = append(r.warnings, fmt.Sprintf("%s.stepCollectorConfigs.%s: no nextSteps entry refers to this step; it never runs", opts.Path, k))
		}
	}
	for _, w := range r.warnings {
		r.log.Warn(w)
	}
	return r, nil
}

type builder struct {
	r            *Runner
	configs      map[string]*definition.Step
	steps        map[string]*step // by config key
	parentAuth   auth.Authenticator
	validateOnly bool
}

func (b *builder) warn(format string, a ...any) {
	b.r.warnings = append(b.r.warnings, fmt.Sprintf(format, a...))
}

// nextSteps builds the nodes of a stepInfo. inherited are the placeholder names the chain
// provides so far; chain is the step ids on the way here (cycle detection).
func (b *builder) nextSteps(info *definition.StepInfo, inherited []string, chain []string) ([]*node, error) {
	if info.Err != nil {
		return nil, info.Err
	}
	var out []*node
	for _, ns := range info.Next {
		n, cols, err := b.node(ns, inherited, chain)
		if err != nil {
			return nil, err
		}
		if err := b.checkChild(n); err != nil {
			return nil, err
		}
		if !b.validateOnly {
			n.tmpl = template(n)
		}
		if n.step.Info != nil {
			if n.children, err = b.nextSteps(n.step.Info, cols, append(chain, n.step.ID)); err != nil {
				return nil, err
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// node resolves one nextSteps entry: its step, its compiled query and the placeholders the
// step's request can use. cols are the names the query yields.
func (b *builder) node(ns definition.NextStep, inherited, chain []string) (n *node, cols []string, err error) {
	if ns.Err != nil {
		return nil, nil, ns.Err
	}
	key, err := b.resolveID(ns.StepID, ns.Path)
	if err != nil {
		return nil, nil, err
	}
	if slices.Contains(chain, key) {
		return nil, nil, fmt.Errorf("%s.stepId: %q forms a cycle (%s -> %s)", ns.Path, ns.StepID, strings.Join(chain, " -> "), key)
	}
	text := ns.KQL
	if strings.TrimSpace(text) == "" {
		text = "source"
		b.warn("%s.stepPlaceholdersParsingKql: missing; using \"source\" (the inherited placeholders only)", ns.Path)
	}
	q, err := kql.Compile(text)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", ns.Path, err)
	}
	if cols, err = q.Columns(inherited); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", ns.Path, err)
	}
	st, err := b.step(key)
	if err != nil {
		return nil, nil, err
	}
	n = &node{step: st, kql: q, known: map[string]bool{}}
	for _, c := range cols {
		n.known[c] = true
	}
	b.usePlaceholders(n, ns.Path, cols)
	return n, cols, nil
}

// usePlaceholders keeps the step's placeholders the query provides, warning about the others.
func (b *builder) usePlaceholders(n *node, at string, cols []string) {
	for _, ref := range n.step.refs {
		if n.known[ref] {
			n.used = append(n.used, ref)
		} else {
			b.warn("%s.request: $%s$ is not a column of %s (columns: %s); it is sent literally", n.step.Path, ref, at, strings.Join(cols, ", "))
		}
	}
	if len(n.used) == 0 {
		b.warn("%s.request: uses none of the placeholders %s provides; every row of the query makes the same request", n.step.Path, at)
	}
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

// step prepares a stepCollectorConfigs entry once: its auth, its rate-limited client, its
// concurrency bound, its placeholders and the origin its credentials may go to.
func (b *builder) step(key string) (*step, error) {
	if st, ok := b.steps[key]; ok {
		return st, nil
	}
	ds := b.configs[key]
	if ds.Err != nil {
		return nil, ds.Err
	}
	st := &step{Step: ds}
	par := DefaultStepParallelism
	if ds.MaxParallelism > 0 {
		par = ds.MaxParallelism
	}
	st.sem = make(chan struct{}, min(par, b.r.opts.MaxParallelism))
	st.client = limitedClient(b.r.opts.Engine.HTTPClient, ds.RateLimitQPS)
	var static bool
	if st.origin, static = staticOrigin(ds.APIEndpoint); !static {
		b.warn("%s.request.apiEndpoint: %q takes its scheme or host from a $placeholder$; "+
			"its calls never carry credentials or configured headers (write the scheme and host literally to send them)", ds.Path, ds.APIEndpoint)
	}
	refs := map[string]bool{}
	collectRefs(ds.Request, refs, 0)
	st.refs = slices.Sorted(maps.Keys(refs))
	if err := b.stepAuth(st); err != nil {
		return nil, err
	}
	b.steps[key] = st
	return st, nil
}

// stepAuth gives a step its own Authenticator (checked only, when validating), or the
// parent's when it has no auth object.
func (b *builder) stepAuth(st *step) error {
	if !st.OwnAuth {
		st.auth = b.parentAuth
		return nil
	}
	def, err := definition.Parse(st.Props(nil), st.Path)
	if err != nil {
		return err
	}
	if b.validateOnly {
		if !auth.Supported(def.Auth.Type) {
			return fmt.Errorf("%s.auth.type: %q is not supported (supported: %s)", st.Path, def.Auth.Type, strings.Join(auth.SupportedTypes(), ", "))
		}
	} else if st.auth, err = auth.New(def.Auth, b.r.opts.AuthSettings); err != nil {
		return fmt.Errorf("%s: %w", st.Path, err)
	}
	return nil
}

// checkChild parses the step with every used placeholder set to a sample value and builds an
// engine for it, so a broken step fails at load time instead of on the first parent record.
func (b *builder) checkChild(n *node) error {
	row := kql.Row{}
	for _, k := range n.used {
		row[k] = "0"
	}
	def, err := definition.Parse(n.step.Props(filler(row, n.used)), n.step.Path)
	if err != nil {
		return err
	}
	for _, w := range def.Warnings {
		b.warn("%s: %s", n.step.Path, w)
	}
	switch def.Paging.Type {
	case definition.PagingPersistentToken, definition.PagingPersistentLinkHeader:
		b.warn("%s.paging: %s keeps no cursor in a child step; every child call starts from its first page", n.step.Path, def.Paging.Type)
	}
	o := b.r.opts.Engine
	o.HTTPClient, o.Auth = n.step.client, nil
	eng, err := poller.New(def, o)
	if err != nil {
		return fmt.Errorf("%s: %w", n.step.Path, err)
	}
	// The step's engine, built once: each child call derives its own from it.
	n.engine, n.response, n.timeFormat = eng, def.Response, def.Request.QueryTimeFormat
	return nil
}
