package ccphealthreceiver

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Limits of the configuration.
const (
	maxQueueSize      = 1_000_000
	minStatusInterval = time.Minute
)

// Config is the configuration of the ccp_health receiver.
type Config struct {
	// IncludeSuccesses emits a record for every successful window attempt too ("Data fetch
	// summary", Success or Warning). false keeps only failed attempts, status changes and the
	// periodic status records, close to SentinelHealth's own volume.
	IncludeSuccesses bool `mapstructure:"include_successes"`
	// StatusInterval repeats every connector's current status as a "Data fetch status change"
	// record while it does not change, as SentinelHealth does hourly, so "latest status"
	// queries see every connector. 0 turns it off.
	StatusInterval time.Duration `mapstructure:"status_interval"`
	// QueueSize bounds the events waiting for the pipeline; when full, new events are dropped,
	// counted (otelcol_ccp_health_records_dropped) and logged, so a slow pipeline never slows a
	// connector down.
	QueueSize int `mapstructure:"queue_size"`

	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.QueueSize < 1 || c.QueueSize > maxQueueSize {
		errs = append(errs, fmt.Errorf("queue_size: %d out of range: use 1..%d (default 1000)", c.QueueSize, maxQueueSize))
	}
	if c.StatusInterval < 0 || (c.StatusInterval > 0 && c.StatusInterval < minStatusInterval) {
		errs = append(errs, fmt.Errorf("status_interval: %s must be 0 (off) or at least %s (default 1h)", c.StatusInterval, minStatusInterval))
	}
	return errors.Join(errs...)
}
