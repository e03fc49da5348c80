package ccpreceiver

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"

	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg, confmap.Validate(cfg)
}

func TestLoadConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	def := createDefaultConfig().(*Config)
	assert.Equal(t, def.MaxBodySize, cfg.MaxBodySize)
	assert.Equal(t, int64(64<<20), cfg.MaxBodySize)
	assert.Equal(t, 10000, cfg.MaxPagesPerWindow)

	cfg, err = loadConfig(t, "all_settings")
	require.NoError(t, err)
	assert.Equal(t, "example", cfg.Name)
	assert.Equal(t, component.MustNewID("file_storage"), *cfg.Storage)
	assert.Equal(t, 2*time.Hour, cfg.InitialLookback)
	assert.Equal(t, int64(1048576), cfg.MaxBodySize)
	assert.Equal(t, 50, cfg.MaxPagesPerWindow)
	assert.Equal(t, "count_plus_one", cfg.OffsetMode)
	assert.True(t, cfg.OffsetSendZero)
	assert.Equal(t, 10*time.Minute, cfg.MaxRetryBackoff)
	assert.Equal(t, 30*time.Second, cfg.Client.Timeout)
	loaded, err := cfg.loadDefinition()
	require.NoError(t, err)
	assert.Equal(t, "https://api.example.com/api/v1/signinattempts", loaded.Def.Request.APIEndpoint)
	assert.Equal(t, "Bearer", loaded.Def.Auth.Fields.String("ApiKeyIdentifier"))
	assert.Equal(t, "s3cret", loaded.Def.Auth.Fields.String("ApiKey"), "placeholders filled from parameters")
	assert.Equal(t, []string{"$.items"}, loaded.Def.Response.EventsJSONPaths)

	cfg, err = loadConfig(t, "legacy_credentials")
	require.NoError(t, err)
	assert.Equal(t, "p4ss", string(cfg.Credentials.Password))
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for name, want := range map[string][]string{
		"missing_definition": {"polling_config: missing"},
		"both_sources":       {"mutually exclusive"},
		"missing_parameter":  {"baseUrl"},
		"bad_definition":     {"polling_config.request.queryWindowInMin", "expected a number"},
		"nested_steps":       {"nested steps"},
		"bad_settings":       {"max_body_size", "offset_mode"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(t, name)
			require.Error(t, err)
			for _, w := range want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestSecretsAreOpaque(t *testing.T) {
	cfg, err := loadConfig(t, "all_settings")
	require.NoError(t, err)
	out := confmap.New()
	require.NoError(t, out.Marshal(cfg))
	assert.NotContains(t, fmt.Sprint(out.ToStringMap()), "s3cret", "parameters are masked when the config is printed")
}

func TestDCRConfigInputsAreOptional(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Definition = filepath.Join("..", "..", "internal", "ccp", "connectorfile", "testdata", "corpus", "Okta_Single_Sign-On__OktaSSOv2_PollingConfig.json")
	cfg.Parameters = map[string]configopaque.String{"domainname": "example.okta.com", "apikey": "k"}
	require.NoError(t, cfg.Validate(), "dcrConfig placeholders may be left to the exporter")
	loaded, err := cfg.loadDefinition()
	require.NoError(t, err)
	assert.Empty(t, loaded.Def.DCR.DataCollectionRuleImmutableID)
	assert.Equal(t, "Custom-OktaSSO_CL", loaded.Def.DCR.StreamName)
	assert.Equal(t, "https://example.okta.com/api/v1/logs", loaded.Def.Request.APIEndpoint)

	delete(cfg.Parameters, "apikey")
	err = cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apikey", "other inputs stay required")
}

// A number from ${env:...} inside polling_config reaches the receiver wrapped by confmap.
func TestEnvExpandedNumbersInPollingConfig(t *testing.T) {
	t.Setenv("CCP_TEST_WINDOW", "7")
	t.Setenv("CCP_TEST_JSON", "true")
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + filepath.Join("testdata", "env.yaml")},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
	})
	require.NoError(t, err)
	conf, err := resolver.Resolve(context.Background())
	require.NoError(t, err)
	sub, err := conf.Sub("ccp")
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, cfg.Validate())
	loaded, err := cfg.loadDefinition()
	require.NoError(t, err)
	assert.Equal(t, 7, loaded.Def.Request.QueryWindowInMin)
	assert.True(t, loaded.Def.Request.IsPostPayloadJSON)
}
