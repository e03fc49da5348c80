package ccpstatusextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-ccp/otelcol-ccp/extension/ccpstatusextension/internal/metadata"
	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

// DefaultEndpoint is where the page listens unless endpoint is set.
const DefaultEndpoint = "localhost:13180"

// NewFactory creates the factory of the ccp_status extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = DefaultEndpoint
	return &Config{ServerConfig: server, SaveInterval: 30 * time.Second}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set, connstate.Default()), nil
}
