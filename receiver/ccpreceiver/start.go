package ccpreceiver

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/checkpoint"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/nested"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/dedup"
)

// connectorName is the configured name, else the poller's, else the receiver ID.
func (r *ccpReceiver) connectorName() string {
	switch {
	case r.cfg.Name != "":
		return r.cfg.Name
	case r.loaded.name != "":
		return r.loaded.name
	}
	return r.set.ID.String()
}

// openState opens the storage client holding the checkpoint, the OAuth2 refresh token and the
// dedup keys.
func (r *ccpReceiver) openState(ctx context.Context) error {
	var err error
	if r.client, err = storageClient(ctx, r.host, r.cfg.Storage, r.set.ID); err != nil {
		return err
	}
	r.store = checkpoint.New(r.client)
	if d := r.cfg.Dedup; d != nil {
		o := d.options()
		o.Store = r.client // keys survive restarts with the checkpoint
		if r.dedup, err = dedup.New(o); err != nil {
			return err
		}
	}
	return nil
}

// authSettings are what every auth type of this connector is built with.
func (r *ccpReceiver) authSettings(ctx context.Context) (auth.Settings, error) {
	httpClient, err := r.cfg.Client.ToClient(ctx, r.host.GetExtensions(), r.set.TelemetrySettings)
	if err != nil {
		return auth.Settings{}, fmt.Errorf("client: %w", err)
	}
	c := r.cfg.Credentials
	return auth.Settings{
		HTTPClient: httpClient,
		Logger:     r.log,
		State:      r.store,
		Credentials: auth.Credentials{
			Username: string(c.Username), Password: string(c.Password), APIKey: string(c.APIKey),
			ClientID: string(c.ClientID), ClientSecret: string(c.ClientSecret), RefreshToken: string(c.RefreshToken),
			AuthorizationCode: string(c.AuthorizationCode), UserToken: string(c.UserToken),
		},
	}, nil
}

// buildEngine assembles auth, the polling engine and, when the definition has them, the
// nested steps around it.
func (r *ccpReceiver) buildEngine(ctx context.Context) error {
	def, source := r.loaded.def, r.loaded.source
	settings, err := r.authSettings(ctx)
	if err != nil {
		return err
	}
	authn, err := auth.New(def.Auth, settings)
	if err != nil {
		return fmt.Errorf("%s: auth: %w", source, err)
	}
	for _, k := range def.Auth.Fields.Unused() {
		r.log.Warn("unknown key ignored", zap.String("key", k))
	}
	opts := poller.Options{
		HTTPClient: settings.HTTPClient,
		Auth:       authn,
		Logger:     r.log,
		Observer: &observer{tb: r.tb, skipped: r.skipped, conn: r.conn,
			connector: r.name, attrs: r.metricAttrs},
		MaxBodySize:       r.cfg.MaxBodySize,
		MaxPages:          r.cfg.MaxPagesPerWindow,
		MaxEventsPerPage:  r.cfg.MaxEventsPerPage,
		DefaultTimeFormat: r.cfg.DefaultTimeFormat,
		OffsetMode:        r.cfg.OffsetMode,
		OffsetSendZero:    r.cfg.OffsetSendZero,
		// Parent pages and nested child calls share the connector's rateLimitQPS.
		Limiter: ratelimit.New(def.Request.RateLimitQPS),
		Secrets: r.paramSecrets(),
	}
	if r.engine, err = poller.New(def, opts); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if !nested.Present(r.loaded.props) {
		return nil
	}
	// Child steps run per page, before the page is delivered; the checkpoint moves only
	// after every child call of the page succeeded.
	r.steps, err = nested.New(r.loaded.props, authn, nested.Options{Engine: opts, AuthSettings: settings, Path: source})
	if err != nil {
		return fmt.Errorf("%s: nested steps: %w", source, err)
	}
	for _, w := range r.steps.Warnings() {
		r.log.Warn(w)
	}
	return nil
}

// recordAttributes are copied onto every record: the connector and its dcrConfig routing.
func recordAttributes(name string, loaded *loadedDefinition) pcommon.Map {
	attrs := pcommon.NewMap()
	attrs.PutStr(ccpattr.Connector, name)
	d := loaded.def
	for k, v := range map[string]string{
		ccpattr.DataType: d.DataType, ccpattr.DCRImmutableID: d.DCR.DataCollectionRuleImmutableID,
		ccpattr.DCRStreamName: d.DCR.StreamName, ccpattr.DCREndpoint: d.DCR.DataCollectionEndpoint,
	} {
		if v != "" {
			attrs.PutStr(k, v)
		}
	}
	return attrs
}

// restoreCheckpoint loads the saved state; an edited definition keeps its place in time but
// not a server-side cursor that may belong to another endpoint or query.
func (r *ccpReceiver) restoreCheckpoint(ctx context.Context) {
	st, ok, err := r.store.Load(ctx)
	if err != nil {
		r.log.Warn("checkpoint not usable; starting from initial_lookback", zap.Error(err))
	}
	switch {
	case !ok:
		r.fresh = true
	case st.Fingerprint != r.loaded.fingerprint:
		r.log.Warn("the definition changed since the last checkpoint; resuming at the saved window end without the saved cursor",
			zap.Time("window_end", st.WindowEnd))
		st.Cursor = ""
		st.Partial = nil
	}
	st.Fingerprint = r.loaded.fingerprint
	r.state = st
}
