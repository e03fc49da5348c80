package ccpreceiver

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/checkpoint"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/dedup"
)

// connectorName is the configured name, else the poller's, else the receiver ID.
func (r *ccpReceiver) connectorName(l *connector.Loaded) string {
	switch {
	case r.cfg.Name != "":
		return r.cfg.Name
	case l.Name != "":
		return l.Name
	}
	return r.set.ID.String()
}

// prepare builds what polling needs up front: without a coordinator the storage client, the
// engine and the saved state; with one, the place in the election (state comes per term).
func (r *ccpReceiver) prepare(ctx context.Context) error {
	if r.cfg.Coordinator != nil {
		return r.join(ctx)
	}
	client, err := storageClient(ctx, r.host, r.cfg.Storage, r.set.ID)
	if err != nil {
		return err
	}
	return r.openState(ctx, client)
}

// openState opens the connector on a state client (the storage extension's, or a
// coordinator term's): checkpoint tracker, OAuth2 refresh tokens, dedup keys and the engine.
func (r *ccpReceiver) openState(ctx context.Context, client storage.Client) error {
	r.client = client
	r.store = checkpoint.New(client)
	if d := r.cfg.Dedup; d != nil {
		o := d.options()
		o.Store = client // keys survive restarts with the checkpoint
		var err error
		if r.dedup, err = dedup.New(o); err != nil {
			return err
		}
	}
	if err := r.openConnector(ctx); err != nil {
		return err
	}
	r.tracker = checkpoint.NewTracker(r.store, r.loaded.Fingerprint)
	return nil
}

func storageClient(ctx context.Context, host component.Host, id *component.ID, self component.ID) (storage.Client, error) {
	if id == nil {
		return storage.NewNopClient(), nil
	}
	ext, ok := host.GetExtensions()[*id]
	if !ok {
		return nil, fmt.Errorf("storage: extension %q not found; add it under extensions and service.extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage: extension %q is not a storage extension", id)
	}
	return se.GetClient(ctx, component.KindReceiver, self, "")
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
