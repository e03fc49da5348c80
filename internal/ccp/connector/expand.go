package connector

import (
	"context"
	"fmt"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/nested"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

// expanding runs each parent page's events through the nested steps before delivering them.
type expanding struct {
	base  poller.WindowPoller
	steps *nested.Runner
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
