package connector

import (
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/nested"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
)

// Options are what a connector runs with besides its definition.
type Options struct {
	HTTPClient  *http.Client // every request of the connector, token calls included
	Credentials auth.Credentials
	State       auth.StateStore // rotated refresh tokens; nil keeps them in memory
	Logger      *zap.Logger
	// Engine tunes the engine (limits, observer, secrets to scrub). Its HTTPClient, Auth and
	// Logger are set here; a nil Limiter becomes the connector's rateLimitQPS, shared by the
	// parent's pages and every nested child call.
	Engine poller.Options
}

// Connector is a loaded definition ready to poll.
type Connector struct {
	*Loaded
	// Poller polls one window: the engine, wrapped by the nested steps when there are any.
	Poller poller.WindowPoller
	// Engine is the parent engine (its APIHost names the only host credentials go to).
	Engine *poller.Engine
	// Warnings are what the user should fix but need not: unknown auth keys, step notes.
	Warnings []string
}

// Open builds the connector's auth, its engine and its nested steps.
func (l *Loaded) Open(o Options) (*Connector, error) {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	settings := auth.Settings{HTTPClient: o.HTTPClient, Credentials: o.Credentials, State: o.State, Logger: o.Logger}
	authn, err := auth.New(l.Def.Auth, settings)
	if err != nil {
		return nil, fmt.Errorf("%s: auth: %w", l.Source, err)
	}
	c := &Connector{Loaded: l}
	for _, k := range l.Def.Auth.Fields.Unused() {
		c.Warnings = append(c.Warnings, fmt.Sprintf("unknown key %s ignored", k))
	}
	opts := o.Engine
	opts.HTTPClient, opts.Auth, opts.Logger = o.HTTPClient, authn, o.Logger
	if opts.Limiter == nil {
		opts.Limiter = ratelimit.New(l.Def.Request.RateLimitQPS)
	}
	if c.Engine, err = poller.New(l.Def, opts); err != nil {
		return nil, fmt.Errorf("%s: %w", l.Source, err)
	}
	c.Poller = c.Engine
	if err := c.withSteps(authn, opts, settings); err != nil {
		return nil, err
	}
	return c, nil
}

// withSteps wraps the engine in the nested steps when the definition has them. Child steps run
// per page, before the page is delivered, so a checkpoint moves only after every child call
// of the page succeeded.
func (c *Connector) withSteps(authn auth.Authenticator, opts poller.Options, settings auth.Settings) error {
	p, err := nested.Wrap(c.Engine, c.Def, authn, nested.Options{Engine: opts, AuthSettings: settings, Path: c.Source})
	if err != nil {
		return fmt.Errorf("%s: nested steps: %w", c.Source, err)
	}
	c.Warnings = append(c.Warnings, nested.Warnings(p)...)
	c.Poller = p
	return nil
}
