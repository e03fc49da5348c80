package azuremonitordcrexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	id := component.NewID(metadata.Type)
	if name != "" {
		id = component.NewIDWithName(metadata.Type, name)
	}
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg, confmap.Validate(cfg)
}

func TestLoadConfigDefault(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	want := createDefaultConfig().(*Config)
	want.ClientConfig.Endpoint = "https://my-dce-abcd.eastus-1.ingest.monitor.azure.com"
	want.DCRImmutableID = "dcr-0123456789abcdef0123456789abcdef"
	want.StreamName = "Custom-MyTable_CL"
	want.Auth = AuthConfig{Type: AuthClientSecret, TenantID: "00000000-0000-0000-0000-000000000001",
		ClientID: "00000000-0000-0000-0000-000000000002", ClientSecret: "s3cr3t", Cloud: CloudPublic}
	assert.Equal(t, want, cfg)
	assert.Equal(t, configopaque.String("s3cr3t"), cfg.Auth.ClientSecret)
	assert.Equal(t, "[REDACTED]", cfg.Auth.ClientSecret.String())
	assert.Equal(t, 1<<20, cfg.MaxRequestBytes)
	assert.Equal(t, 50<<20, cfg.MaxUncompressedBytes)
	assert.True(t, cfg.StartupCheck)
	assert.Equal(t, "RawData", cfg.Columns.StringBody)
	assert.Equal(t, "2023-01-01", cfg.APIVersion)
	assert.Nil(t, cfg.ClientConfig.Auth.Get())
}

// TestDefaultsAreAtLeastOnce: the minimal configuration waits for the service's answer and
// retries without a deadline, so an upstream receiver never checkpoints records that are only in
// memory, and an Azure incident of any length ends in delivery, not a drop.
func TestDefaultsAreAtLeastOnce(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	q := cfg.QueueConfig.Get()
	require.NotNil(t, q, "the queue is on by default")
	assert.True(t, q.WaitForResult, "a push returns only once the service accepted it")
	assert.True(t, q.BlockOnOverflow, "a full queue applies back-pressure instead of refusing data")
	assert.Nil(t, q.StorageID)
	assert.True(t, cfg.BackOffConfig.Enabled)
	assert.Zero(t, cfg.BackOffConfig.MaxElapsedTime, "retries never give up")

	// A persistent queue covers the records on disk: it need not (and cannot) also wait.
	cfg, err = loadConfig(t, "persistent_queue")
	require.NoError(t, err)
	q = cfg.QueueConfig.Get()
	require.NotNil(t, q.StorageID)
	assert.False(t, q.WaitForResult)
}

func TestLoadConfigAllSettings(t *testing.T) {
	cfg, err := loadConfig(t, "all_settings")
	require.NoError(t, err)
	assert.Equal(t, "2021-11-01-preview", cfg.APIVersion)
	assert.Equal(t, 10*time.Second, cfg.ClientConfig.Timeout)
	assert.Equal(t, "/etc/ssl/emulator-ca.pem", cfg.ClientConfig.TLS.CAFile)
	assert.Equal(t, AuthConfig{Type: AuthClientCertificate, TenantID: "tenant-1", ClientID: "client-1",
		CertificatePath: "/etc/ssl/client.pem", CertificatePassword: "pw", Cloud: CloudUSGovernment,
		AuthorityHost: "https://127.0.0.1:8443/", Scope: "https://monitor.azure.us//.default"}, cfg.Auth)
	q := cfg.QueueConfig.Get()
	require.NotNil(t, q)
	assert.Equal(t, 4, q.NumConsumers)
	assert.Equal(t, int64(100), q.QueueSize)
	assert.Equal(t, 10*time.Second, cfg.BackOffConfig.MaxInterval)
	assert.Equal(t, TimeGeneratedConfig{Column: "TimeGenerated", Source: TimeSourceObserved, Overwrite: true}, cfg.TimeGenerated)
	assert.Equal(t, ColumnsConfig{StringBody: "Message", Attributes: map[string]string{"severity": "Severity"},
		ResourceAttributes: map[string]string{"host.name": "Computer"}}, cfg.Columns)
	assert.Equal(t, 1000000, cfg.MaxRequestBytes)
	assert.Equal(t, 10485760, cfg.MaxUncompressedBytes)
	assert.Equal(t, 6, cfg.CompressionLevel)
	assert.True(t, cfg.AuxiliaryTableMode)
	assert.False(t, cfg.StartupCheck)
}

func TestLoadConfigAuthenticator(t *testing.T) {
	cfg, err := loadConfig(t, "authenticator")
	require.NoError(t, err)
	a := cfg.ClientConfig.Auth.Get()
	require.NotNil(t, a)
	assert.Equal(t, configauth.Config{AuthenticatorID: component.MustNewID("oauth2client")}, *a)

	_, err = loadConfig(t, "both_auth")
	require.ErrorContains(t, err, "'auth::type' \"client_secret\" and 'auth::authenticator' are mutually exclusive")

	cfg, err = loadConfig(t, "managed_identity")
	require.NoError(t, err)
	assert.Equal(t, AuthManagedIdentity, cfg.Auth.Type)
}

func TestLoadConfigInvalid(t *testing.T) {
	_, err := loadConfig(t, "bad")
	require.Error(t, err)
	for _, want := range []string{
		"'endpoint' \"ftp://nowhere\" is not an absolute http(s) URL",
		"'dcr_immutable_id' \"0123\" is not a DCR immutable id",
		"'stream_name' \"My Table_CL\" cannot contain",
		"'auth::tenant_id' is required for auth type \"client_secret\"",
		"'auth::client_secret' is required",
		"'auth::certificate_path' is only used with auth type client_certificate",
		"'auth::authority_host' \"http://127.0.0.1/\" must be an https URL",
		"'auth::scope' \"https://monitor.azure.com\" must end with '/.default'",
		"'max_request_bytes' 2000000 out of range",
		"'compression_level' 12 out of range",
		"'compression' must be left unset",
		"'time_generated::source' \"sometimes\" is invalid",
		"'columns::string_body' \"1bad\" is not a valid column name",
		"column \"Col\" is the target of both",
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestValidateMissing(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	err := confmap.Validate(cfg)
	require.Error(t, err)
	assert.ErrorContains(t, err, "'endpoint' is required")
	assert.ErrorContains(t, err, "'dcr_immutable_id' is required")
	assert.ErrorContains(t, err, "'stream_name' is required")
	assert.ErrorContains(t, err, "'auth::type' is required")

	cfg.ClientConfig.Endpoint = "http://example.com"
	cfg.DCRImmutableID = "dcr-0123456789abcdef0123456789abcdef"
	cfg.StreamName = "Custom-X_CL"
	cfg.Auth.Type = AuthWorkloadIdentity
	assert.ErrorContains(t, confmap.Validate(cfg), "bearer tokens are only sent over https")
	cfg.ClientConfig.Endpoint = "https://example.com"
	require.NoError(t, confmap.Validate(cfg))
	cfg.Auth.Type = "kerberos"
	assert.ErrorContains(t, confmap.Validate(cfg), "'auth::type' \"kerberos\" is unknown")
}

func TestUnmarshalRejectsUnknownAuthKey(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	err := confmap.NewFromStringMap(map[string]any{"auth": map[string]any{"type": "client_secret", "secret": "x"}}).Unmarshal(cfg)
	require.Error(t, err)
	assert.ErrorContains(t, err, "secret")
}

// TestFlushTimeout: how long a partly filled request may wait for rows of further pushes.
func TestFlushTimeout(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	assert.Equal(t, time.Second, cfg.FlushTimeout, "default")
	cfg, err = loadConfig(t, "all_settings")
	require.NoError(t, err)
	assert.Equal(t, 250*time.Millisecond, cfg.FlushTimeout)
	for _, d := range []time.Duration{0, -time.Second, 2 * time.Minute} {
		cfg.FlushTimeout = d
		err := confmap.Validate(cfg)
		assert.ErrorContains(t, err, "'flush_timeout' "+d.String()+" out of range: use 1ms..1m0s")
	}
}
