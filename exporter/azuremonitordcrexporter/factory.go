package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter/internal/metadata"
)

const (
	defaultAPIVersion       = "2023-01-01"
	defaultCompressionLevel = 1
	defaultTimeout          = 30 * time.Second
	defaultFlushTimeout     = time.Second
)

// NewFactory creates the factory of the azure_monitor_dcr exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = defaultTimeout
	return &Config{
		ClientConfig:  client,
		APIVersion:    defaultAPIVersion,
		Auth:          AuthConfig{Cloud: CloudPublic},
		QueueConfig:   configoptional.Some(defaultQueueConfig()),
		BackOffConfig: defaultBackOffConfig(),
		TimeGenerated: TimeGeneratedConfig{Column: "TimeGenerated", Source: TimeSourceAuto},
		Columns:       ColumnsConfig{StringBody: "RawData"},

		MaxRequestBytes:      MaxRequestBytesLimit,
		MaxUncompressedBytes: MaxUncompressedBytesLimit,
		CompressionLevel:     defaultCompressionLevel,
		StartupCheck:         true,
		FlushTimeout:         defaultFlushTimeout,
	}
}

// defaultQueueConfig makes the defaults at-least-once without a persistent queue: a push
// returns only once the service accepted its records (wait_for_result), so a polling receiver
// checkpoints nothing that is only in memory, and a full queue applies back-pressure instead of
// refusing data. With `storage` set (a persistent queue) wait_for_result defaults to false: the
// queue on disk then covers the records (see Config.Unmarshal).
func defaultQueueConfig() exporterhelper.QueueBatchConfig {
	q := exporterhelper.NewDefaultQueueConfig()
	q.WaitForResult = true
	q.BlockOnOverflow = true
	return q
}

// defaultBackOffConfig retries until the service accepts (max_elapsed_time 0): an Azure-side
// incident of any length is waited out, with back-pressure, rather than ending in a drop.
func defaultBackOffConfig() configretry.BackOffConfig {
	b := configretry.NewDefaultBackOffConfig()
	b.MaxElapsedTime = 0
	return b
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newExporter(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// The HTTP client's timeout bounds each attempt (as in otlphttp).
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(c.BackOffConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
