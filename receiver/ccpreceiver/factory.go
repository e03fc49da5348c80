package ccpreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/metadata"
)

// NewFactory creates the factory of the ccp receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

// defaultMaxInFlight keeps enough pages in the pipeline for the exporter to fill its requests.
const defaultMaxInFlight = 8

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	// Per-request timeouts come from the definition's timeoutInSeconds; this is only a ceiling.
	client.Timeout = 5 * time.Minute
	return &Config{
		MaxBodySize:       64 << 20,
		MaxPagesPerWindow: 10000,
		DefaultTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
		OffsetMode:        "count",
		MaxRetryBackoff:   time.Hour,
		MaxCatchUp:        24 * time.Hour,
		MaxEventsPerPage:  poller.DefaultMaxEventsPerPage,
		MaxInFlight:       defaultMaxInFlight,
		Client:            client,
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(set, cfg.(*Config), next)
}
