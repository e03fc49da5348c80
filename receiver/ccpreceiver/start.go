package ccpreceiver

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/checkpoint"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/dedup"
)

// connectorName is the configured name, else the poller's, else the receiver ID.
func (r *ccpReceiver) connectorName() string {
	switch {
	case r.cfg.Name != "":
		return r.cfg.Name
	case r.loaded.Name != "":
		return r.loaded.Name
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

// credentials are the connect-time values of the configuration.
func (c *Config) credentials() auth.Credentials {
	k := c.Credentials
	return auth.Credentials{
		Username: string(k.Username), Password: string(k.Password), APIKey: string(k.APIKey),
		ClientID: string(k.ClientID), ClientSecret: string(k.ClientSecret), RefreshToken: string(k.RefreshToken),
		AuthorizationCode: string(k.AuthorizationCode), UserToken: string(k.UserToken),
	}
}

// openConnector builds the HTTP client from confighttp, then the connector's auth, engine and
// nested steps.
func (r *ccpReceiver) openConnector(ctx context.Context) error {
	httpClient, err := r.cfg.Client.ToClient(ctx, r.host.GetExtensions(), r.set.TelemetrySettings)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	c, err := r.loaded.Open(connector.Options{
		HTTPClient: httpClient, Credentials: r.cfg.credentials(), State: r.store, Logger: r.log,
		Engine: poller.Options{
			Observer: &observer{tb: r.tb, skipped: r.skipped, conn: r.conn,
				connector: r.name, attrs: r.metricAttrs},
			MaxBodySize:       r.cfg.MaxBodySize,
			MaxPages:          r.cfg.MaxPagesPerWindow,
			MaxEventsPerPage:  r.cfg.MaxEventsPerPage,
			DefaultTimeFormat: r.cfg.DefaultTimeFormat,
			OffsetMode:        r.cfg.OffsetMode,
			OffsetSendZero:    r.cfg.OffsetSendZero,
			Secrets:           r.paramSecrets(),
		},
	})
	if err != nil {
		return err
	}
	for _, w := range c.Warnings {
		r.log.Warn(w)
	}
	r.poller = c.Poller
	return nil
}

// recordAttributes are copied onto every record: the connector and its dcrConfig routing.
func recordAttributes(name string, loaded *connector.Loaded) pcommon.Map {
	attrs := pcommon.NewMap()
	attrs.PutStr(ccpattr.Connector, name)
	d := loaded.Def
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
	case st.Fingerprint != r.loaded.Fingerprint:
		r.log.Warn("the definition changed since the last checkpoint; resuming at the saved window end without the saved cursor",
			zap.Time("window_end", st.WindowEnd))
		st.Cursor = ""
		st.Partial = nil
	}
	st.Fingerprint = r.loaded.Fingerprint
	r.state = st
}
