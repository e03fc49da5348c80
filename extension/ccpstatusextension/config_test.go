package ccpstatusextension

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-ccp/otelcol-ccp/extension/ccpstatusextension/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	def := createDefaultConfig().(*Config)
	sub, err := cm.Sub(component.NewID(metadata.Type).String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(def))
	assert.Equal(t, "localhost:13180", def.ServerConfig.NetAddr.Endpoint)
	assert.Nil(t, def.Storage)
	assert.Equal(t, 30*time.Second, def.SaveInterval)

	cfg := createDefaultConfig().(*Config)
	sub, err = cm.Sub(component.NewIDWithName(metadata.Type, "custom").String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "0.0.0.0:9999", cfg.ServerConfig.NetAddr.Endpoint)
	require.True(t, cfg.ServerConfig.TLS.HasValue())
	assert.Equal(t, "/etc/ccp/cert.pem", cfg.ServerConfig.TLS.Get().CertFile)
	require.True(t, cfg.ServerConfig.Auth.HasValue())
	assert.Equal(t, "basicauth/page", cfg.ServerConfig.Auth.Get().Config.AuthenticatorID.String())
	require.NotNil(t, cfg.Storage)
	assert.Equal(t, "file_storage", cfg.Storage.String())
	assert.Equal(t, 5*time.Second, cfg.SaveInterval)
}
