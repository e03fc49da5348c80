package ccphealthreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccphealthreceiver/internal/metadata"
)

// NewFactory creates the factory of the ccp_health receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		IncludeSuccesses: true,
		StatusInterval:   time.Hour,
		QueueSize:        1000,
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(set, cfg.(*Config), next, connstate.Default())
}
