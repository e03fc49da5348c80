package nested

import (
	"context"
	"fmt"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

// Wrap decorates base, the parent's poller, with the nested steps of def (parsed by
// ParseDefinition or definition.ParseNested): every page base delivers is expanded through
// the steps (Runner.Expand, for the window PollWindow polls) before the caller's deliver
// sees it, so a checkpoint moves only after every child call of the page succeeded. Without
// steps it returns base. parentAuth and opts are as for New; a nil opts.Engine.Limiter
// becomes one from the parent's rateLimitQPS. Warnings returns what the steps warn about.
func Wrap(base poller.WindowPoller, def *definition.Definition, parentAuth auth.Authenticator, opts Options) (poller.WindowPoller, error) {
	if def.Steps == nil {
		return base, nil
	}
	r, err := buildSteps(def.Steps, parentAuth, withDefaults(opts, def.Request.RateLimitQPS), false)
	if err != nil {
		return nil, err
	}
	return &expanding{base: base, steps: r}, nil
}

// Warnings are the warnings of the nested steps a Wrap result runs (nil for any other poller).
func Warnings(p poller.WindowPoller) []string {
	if x, ok := p.(*expanding); ok {
		return x.steps.Warnings()
	}
	return nil
}

// expanding runs each parent page's events through the nested steps before delivering them.
type expanding struct {
	base  poller.WindowPoller
	steps *Runner
}

func (x *expanding) PollWindow(ctx context.Context, w window.Window, cursor, resume string, deliver func(context.Context, poller.Page) error) (string, error) {
	return x.base.PollWindow(ctx, w, cursor, resume, func(ctx context.Context, page poller.Page) error {
		if len(page.Events) > 0 {
			events, err := x.steps.Expand(ctx, w, page.Events)
			if err != nil {
				return fmt.Errorf("nested steps of page %d: %w", page.Number, err)
			}
			page.Events = events
		}
		return deliver(ctx, page)
	})
}
