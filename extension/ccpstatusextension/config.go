package ccpstatusextension

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
)

// Config configures the ccp_status extension.
type Config struct {
	// ServerConfig holds endpoint (default localhost:13180), tls, auth, cors and the other
	// confighttp server settings.
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`

	// Storage names a storage extension (e.g. file_storage) that keeps each connector's window
	// history and hourly event counts across restarts. Without it they live in memory only.
	Storage *component.ID `mapstructure:"storage"`

	// SaveInterval is how often changed history and counts are written to Storage (they are also
	// written on shutdown). Default 30s.
	SaveInterval time.Duration `mapstructure:"save_interval"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.ServerConfig.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: must not be empty (default localhost:13180)"))
	}
	if c.SaveInterval < time.Second {
		errs = append(errs, errors.New("save_interval: must be at least 1s"))
	}
	return errors.Join(errs...)
}
