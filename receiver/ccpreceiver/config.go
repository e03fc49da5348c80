package ccpreceiver

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/dedup"
)

// Config is the ccp receiver's configuration. A poller comes either inline (polling_config,
// pasted verbatim from a Sentinel file) or from a file (definition + connector).
type Config struct {
	// PollingConfig is a RestApiPoller's properties object or a legacy pollingConfig, as written
	// in Sentinel files (keys matched case-insensitively, both naming generations).
	PollingConfig map[string]any `mapstructure:"polling_config"`
	// Definition is the path of a Sentinel connector file (poller array, ARM template, ...).
	Definition string `mapstructure:"definition"`
	// Connector picks one poller of Definition by name or zero-based index (YAML may give
	// the index as an integer: see Unmarshal).
	Connector string `mapstructure:"connector"`
	// Parameters fill {{name}} placeholders and ARM parameters('name'); values may be secrets.
	// In YAML a value may be a string, number, boolean, map or list; Unmarshal keeps a
	// scalar as its text and turns a map or list (an ARM object or array parameter) into
	// the JSON text the resolver decodes, so every value stays opaque.
	Parameters map[string]configopaque.String `mapstructure:"parameters"`
	// Credentials are the connect-time secrets legacy APIPolling files do not carry.
	Credentials Credentials `mapstructure:"credentials"`
	// Name labels the connector in records and logs; default: the poller's name or the receiver ID.
	Name string `mapstructure:"name"`

	// Storage is the storage extension holding checkpoints; without it state lives in memory.
	Storage *component.ID `mapstructure:"storage"`
	// Coordinator is a ccp_coordinator extension: replicas with the same configuration elect
	// one leader per connector, only the leader polls, and all state (checkpoint, cursor,
	// rotated refresh tokens, dedup keys) lives in the coordinator with fenced writes.
	Coordinator *component.ID `mapstructure:"coordinator"`
	// InitialLookback is how far back the first window starts on a first start (default: one window).
	InitialLookback time.Duration `mapstructure:"initial_lookback"`
	// MaxBodySize caps a response body before and after decompression.
	MaxBodySize int64 `mapstructure:"max_body_size"`
	// MaxPagesPerWindow stops a runaway paging loop; hitting it is logged.
	MaxPagesPerWindow int `mapstructure:"max_pages_per_window"`
	// DefaultTimeFormat renders window times when the definition has no queryTimeFormat.
	DefaultTimeFormat string `mapstructure:"default_time_format"`
	// OffsetMode chooses how Offset paging counts: count (0-based record index, default),
	// count_plus_one (the documentation's "ingested + 1") or page (1, 2, 3...).
	OffsetMode string `mapstructure:"offset_mode"`
	// OffsetSendZero sends offset=0 on a window's first request (Sentinel sends none).
	OffsetSendZero bool `mapstructure:"offset_send_zero"`
	// ConsumeBatchSize hands a page to the pipeline in parts of at most this many records,
	// each checkpointed, so a crash re-sends parts rather than pages; 0 = the whole page.
	ConsumeBatchSize int `mapstructure:"consume_batch_size"`
	// MaxInFlight is how many parts may be in the pipeline, not yet accepted, at once: the
	// exporter packs several pages into one request while the next is fetched. Positions are
	// saved in order, so a crash re-sends at most this many parts. 1 hands parts over one at a
	// time (and is what dedup uses).
	MaxInFlight int `mapstructure:"max_in_flight"`
	// MaxRetryBackoff caps the wait between retries of a failed window.
	MaxRetryBackoff time.Duration `mapstructure:"max_retry_backoff"`
	// MaxCatchUp bounds how far behind real time polling may be: a checkpoint (or a window that
	// keeps failing) older than now − MaxCatchUp resumes at now − MaxCatchUp, because vendors
	// keep events only for so long. The gap is an error log and a skip metric. 0 = no bound.
	// Never shorter than the initial lookback.
	MaxCatchUp time.Duration `mapstructure:"max_catch_up"`
	// MaxEventsPerPage refuses (never truncates) a page with more events, naming this key.
	MaxEventsPerPage int `mapstructure:"max_events_per_page"`
	// StallAfter is how long without a completed window makes the watchdog call the connector
	// stalled; 0 = three windows, at least 15 minutes.
	StallAfter time.Duration `mapstructure:"stall_after"`
	// Dedup drops events whose key was delivered within a retention (opt-in).
	Dedup *DedupConfig `mapstructure:"dedup"`

	// Client holds the standard HTTP client settings (tls, proxy, timeout, headers).
	Client confighttp.ClientConfig `mapstructure:"client"`

	_ struct{}
}

// DedupConfig turns on de-duplication for APIs whose windows overlap or replay.
type DedupConfig struct {
	// Key is a JSONPath into the event (e.g. $.uuid) or `hash` (a fingerprint of the whole event).
	Key string `mapstructure:"key"`
	// Retention is how long a delivered key is remembered; default 24h.
	Retention time.Duration `mapstructure:"retention"`
	// MaxKeys bounds memory (8 bytes a key); past it the oldest keys are forgotten early.
	MaxKeys int `mapstructure:"max_keys"`
}

// options turns the configuration into the filter's options (defaults applied).
func (d *DedupConfig) options() dedup.Options {
	o := dedup.Options{Key: d.Key, Retention: d.Retention, MaxKeys: d.MaxKeys}
	if o.Retention == 0 {
		o.Retention = 24 * time.Hour
	}
	return o
}

// Credentials are configopaque so they never reach logs or print-config output.
type Credentials struct {
	Username          configopaque.String `mapstructure:"username"`
	Password          configopaque.String `mapstructure:"password"`
	APIKey            configopaque.String `mapstructure:"api_key"`
	ClientID          configopaque.String `mapstructure:"client_id"`
	ClientSecret      configopaque.String `mapstructure:"client_secret"`
	RefreshToken      configopaque.String `mapstructure:"refresh_token"`
	AuthorizationCode configopaque.String `mapstructure:"authorization_code"`
	UserToken         configopaque.String `mapstructure:"user_token"`
}

var (
	_ component.Config    = (*Config)(nil)
	_ confmap.Unmarshaler = (*Config)(nil)
)

// Unmarshal reads connector and parameters as users write them (connector: 0, ARM object
// parameters as YAML maps) and everything else the standard way.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	var given struct {
		Connector  connectorRef         `mapstructure:"connector"`
		Parameters map[string]paramNode `mapstructure:"parameters"`
	}
	if err := conf.Unmarshal(&given, confmap.WithIgnoreUnused()); err != nil {
		return err
	}
	hasConnector, hasParameters := conf.IsSet("connector"), conf.IsSet("parameters")
	conf.Delete("connector")
	conf.Delete("parameters")
	if err := conf.Unmarshal(c); err != nil {
		return err
	}
	if hasConnector {
		c.Connector = string(given.Connector)
	}
	if hasParameters && given.Parameters != nil {
		if c.Parameters == nil {
			c.Parameters = make(map[string]configopaque.String, len(given.Parameters))
		}
		for k, v := range given.Parameters {
			c.Parameters[k] = configopaque.String(v.text())
		}
	}
	return nil
}

// Validate checks the configuration without network I/O. The definition itself is parsed
// here too, so a broken definition fails at config load with the field named.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case len(c.PollingConfig) == 0 && c.Definition == "":
		errs = append(errs, errors.New("polling_config: missing; paste a CCP poller definition under polling_config or point definition at a Sentinel connector file"))
	case len(c.PollingConfig) > 0 && c.Definition != "":
		errs = append(errs, errors.New("polling_config and definition are mutually exclusive; keep one"))
	}
	if c.Connector != "" && c.Definition == "" {
		errs = append(errs, errors.New("connector: only meaningful with definition (it picks one poller of the file)"))
	}
	if c.InitialLookback < 0 {
		errs = append(errs, fmt.Errorf("initial_lookback: %s must not be negative", c.InitialLookback))
	}
	if c.MaxBodySize <= 0 {
		errs = append(errs, fmt.Errorf("max_body_size: %d must be positive (default 67108864)", c.MaxBodySize))
	}
	if c.MaxPagesPerWindow <= 0 {
		errs = append(errs, fmt.Errorf("max_pages_per_window: %d must be positive (default 10000)", c.MaxPagesPerWindow))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("max_in_flight: %d must be at least 1 (default %d)", c.MaxInFlight, defaultMaxInFlight))
	}
	if c.Coordinator != nil && c.Storage != nil {
		errs = append(errs, errors.New("storage: not used with coordinator (the coordinator keeps all of the connector's state, fenced); remove storage"))
	}
	if c.ConsumeBatchSize < 0 {
		errs = append(errs, fmt.Errorf("consume_batch_size: %d must not be negative (0 = whole pages)", c.ConsumeBatchSize))
	}
	if c.Dedup != nil {
		if c.Dedup.Retention < 0 || c.Dedup.MaxKeys < 0 {
			errs = append(errs, errors.New("dedup: retention and max_keys must not be negative (defaults 24h and 10000000)"))
		} else if _, err := dedup.New(c.Dedup.options()); err != nil {
			errs = append(errs, err)
		}
	}
	if c.StallAfter < 0 {
		errs = append(errs, fmt.Errorf("stall_after: %s must not be negative (0 = three windows, at least 15m)", c.StallAfter))
	}
	if c.MaxCatchUp < 0 {
		errs = append(errs, fmt.Errorf("max_catch_up: %s must not be negative (default 24h; 0 = no bound)", c.MaxCatchUp))
	}
	if c.MaxEventsPerPage <= 0 {
		errs = append(errs, fmt.Errorf("max_events_per_page: %d must be positive (default %d)", c.MaxEventsPerPage, poller.DefaultMaxEventsPerPage))
	}
	if c.MaxRetryBackoff <= 0 {
		errs = append(errs, fmt.Errorf("max_retry_backoff: %s must be positive (default 1h)", c.MaxRetryBackoff))
	}
	switch strings.ToLower(c.OffsetMode) {
	case "count", "count_plus_one", "page":
	default:
		errs = append(errs, fmt.Errorf("offset_mode: %q must be count, count_plus_one or page", c.OffsetMode))
	}
	if c.Client.Endpoint != "" {
		errs = append(errs, errors.New("client.endpoint: not used; the URL comes from the definition's request.apiEndpoint"))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if _, err := c.loadDefinition(); err != nil {
		return err
	}
	return nil
}
