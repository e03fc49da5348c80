package ccphealthreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccphealthreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestLoadConfig(t *testing.T) {
	def := loadConfig(t, "")
	assert.Equal(t, &Config{IncludeSuccesses: true, StatusInterval: time.Hour, QueueSize: 1000}, def)
	require.NoError(t, confmap.Validate(def))

	quiet := loadConfig(t, "quiet")
	assert.Equal(t, &Config{IncludeSuccesses: false, StatusInterval: 0, QueueSize: 50}, quiet)
	require.NoError(t, confmap.Validate(quiet))
}

func TestConfigErrorsNameTheField(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	assert.ErrorContains(t, err, "queue_size: 0 out of range")
	assert.ErrorContains(t, err, "status_interval: 10s must be 0 (off) or at least 1m0s")

	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.QueueSize = maxQueueSize + 1
	cfg.StatusInterval = -time.Second
	err = cfg.Validate()
	assert.ErrorContains(t, err, "queue_size")
	assert.ErrorContains(t, err, "status_interval")
}
