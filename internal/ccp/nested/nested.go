package nested

import (
	"fmt"
	"net/http"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/kql"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/origin"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
)

// Limits of §7 and of this implementation.
const (
	MaxNextSteps           = definition.MaxNextSteps // nextSteps per step (schema limit)
	MaxSteps               = definition.MaxSteps     // entries of stepCollectorConfigs (schema limit)
	DefaultStepParallelism = 15                      // request.maxParallelism when absent (schema default)
	// DefaultMaxParallelism caps concurrent child calls of a Runner (a step's maxParallelism
	// above it is lowered): the collector shares two cores with other pipelines.
	DefaultMaxParallelism = 4
	// DefaultMaxChildCalls bounds the child requests one Expand call may start.
	DefaultMaxChildCalls = 10000
	// maxTopWorkers bounds the parent records expanded at the same time.
	maxTopWorkers = 16
)

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
// the steps and parses the definition with definition.ParseNested, which keeps the steps in
// Definition.Steps instead of refusing them.
func ParseDefinition(props map[string]any, source string) (*definition.Definition, error) {
	if !Present(props) {
		return definition.Parse(props, source)
	}
	if err := Validate(props); err != nil {
		return nil, fmt.Errorf("%s: nested steps: %w", source, err)
	}
	return definition.ParseNested(props, source)
}

// Present reports whether a poller object (any shape definition.Unwrap accepts) uses nested
// steps.
func Present(props map[string]any) bool {
	p, _, _ := definition.Unwrap(props)
	f := definition.NewFields("", p)
	return f.Has("stepInfo") || f.Has("stepCollectorConfigs")
}

// ParentProps returns the poller object (unwrapped as definition.Unwrap does) without the
// nested-step keys: what definition.Parse would see if the poller had none. props is not
// modified.
func ParentProps(props map[string]any) map[string]any {
	p, _, _ := definition.Unwrap(props)
	out := make(map[string]any, len(p))
	for k, v := range p {
		if !definition.IsStepKey(k) {
			out[k] = v
		}
	}
	return out
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

// step is one entry of stepCollectorConfigs, ready to call.
type step struct {
	*definition.Step
	auth   auth.Authenticator
	client *http.Client // shares the step's rateLimitQPS across all its child calls
	sem    chan struct{}
	refs   []string // $name$ placeholders its request mentions, sorted
	// origin is the scheme, host and port its apiEndpoint names literally (zero: the host is a
	// placeholder); only requests there carry credentials and configured headers.
	origin    origin.Origin
	warnedOff atomic.Bool // the off-origin warning was logged
}

// node is a step as reached through one chain of nextSteps (the same step reached by two
// chains sees different inherited placeholders).
type node struct {
	step  *step
	kql   *kql.Query
	known map[string]bool // placeholders available to the step's request
	used  []string        // refs ∩ known: substituted, and required non-empty
	// tmpl is the step parsed once, its placeholders as written (nil: parse per call).
	tmpl     *definition.Definition
	children []*node
	// engine is the step's engine, built once; response and timeFormat are what it compiled.
	engine     *poller.Engine
	response   definition.Response
	timeFormat string
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
