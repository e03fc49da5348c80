package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Limits of the Logs Ingestion API.
const (
	// MaxRequestBytesLimit is the service's limit on the bytes on the wire of one call.
	MaxRequestBytesLimit = 1 << 20
	// MaxUncompressedBytesLimit is the service's (undocumented) limit on the decompressed body.
	MaxUncompressedBytesLimit = 50 << 20
	// minRequestBytes keeps max_request_bytes meaningful (gzip framing alone takes ~20 bytes).
	minRequestBytes = 1024
	// maxFlushTimeout bounds flush_timeout: a push waits for its rows' request at most this long.
	maxFlushTimeout = time.Minute
)

// Auth types.
const (
	AuthClientSecret      = "client_secret"
	AuthClientCertificate = "client_certificate"
	AuthManagedIdentity   = "managed_identity"
	AuthWorkloadIdentity  = "workload_identity"
	AuthAzureCLI          = "azure_cli"
	AuthDefault           = "default"
)

// Clouds.
const (
	CloudPublic       = "AzurePublic"
	CloudUSGovernment = "AzureUSGovernment"
	CloudChina        = "AzureChina"
)

// Time sources for TimeGenerated.
const (
	TimeSourceAuto     = "auto"
	TimeSourceRecord   = "record"
	TimeSourceObserved = "observed"
	TimeSourceNow      = "now"
	TimeSourceNone     = "none"
)

// Config is the configuration of the azure_monitor_dcr exporter.
type Config struct {
	// ClientConfig holds the standard HTTP client settings (endpoint, tls, timeout, proxy_url, headers, ...).
	// Its `auth` key is shared with the Entra ID settings below: `auth::authenticator` selects a
	// collector auth extension instead of the built-in Entra ID credentials.
	ClientConfig confighttp.ClientConfig `mapstructure:",squash"`

	// DCRImmutableID is the default data collection rule immutable id (dcr-<32 hex>).
	DCRImmutableID string `mapstructure:"dcr_immutable_id"`
	// StreamName is the default stream declared in the DCR (Custom-<Table>_CL or Microsoft-<Table>).
	StreamName string `mapstructure:"stream_name"`
	// APIVersion of the Logs Ingestion API.
	APIVersion string `mapstructure:"api_version"`

	// Auth selects the Entra ID credential. Decoded by Unmarshal from the `auth` key.
	Auth AuthConfig `mapstructure:"-"`

	QueueConfig   configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	BackOffConfig configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	// TimeGenerated controls the TimeGenerated column.
	TimeGenerated TimeGeneratedConfig `mapstructure:"time_generated"`
	// Columns controls which parts of a record become columns besides a map body's keys.
	Columns ColumnsConfig `mapstructure:"columns"`

	// MaxRequestBytes is the limit of one request body on the wire, after gzip.
	MaxRequestBytes int `mapstructure:"max_request_bytes"`
	// MaxUncompressedBytes is the limit of one request body before gzip.
	MaxUncompressedBytes int `mapstructure:"max_uncompressed_bytes"`
	// CompressionLevel is the gzip level (1 = best speed … 9 = best compression).
	CompressionLevel int `mapstructure:"compression_level"`
	// AuxiliaryTableMode keeps the TimeGenerated span of one request under 30 minutes.
	AuxiliaryTableMode bool `mapstructure:"auxiliary_table_mode"`
	// StartupCheck posts an empty array at start to verify endpoint, credentials, role, DCR and stream.
	StartupCheck bool `mapstructure:"startup_check"`
	// FlushTimeout bounds how long a partly filled request waits for rows of further pushes.
	FlushTimeout time.Duration `mapstructure:"flush_timeout"`

	_ struct{}
}

// AuthConfig selects and configures the Entra ID credential (azidentity).
type AuthConfig struct {
	// Type: client_secret, client_certificate, managed_identity, workload_identity, azure_cli or
	// default (azidentity's DefaultAzureCredential chain). Empty when Authenticator is set.
	Type                      string              `mapstructure:"type"`
	TenantID                  string              `mapstructure:"tenant_id"`
	ClientID                  string              `mapstructure:"client_id"`
	ClientSecret              configopaque.String `mapstructure:"client_secret"`
	CertificatePath           string              `mapstructure:"certificate_path"`
	CertificatePassword       configopaque.String `mapstructure:"certificate_password"`
	FederatedTokenFile        string              `mapstructure:"federated_token_file"`
	ManagedIdentityResourceID string              `mapstructure:"managed_identity_resource_id"`
	// Cloud: AzurePublic (default), AzureUSGovernment or AzureChina.
	Cloud string `mapstructure:"cloud"`
	// AuthorityHost overrides the cloud's Entra ID authority host (must be https).
	AuthorityHost string `mapstructure:"authority_host"`
	// Scope overrides the cloud's token scope (https://monitor.azure.com//.default for AzurePublic).
	Scope string `mapstructure:"scope"`
	// Authenticator names a collector auth extension (e.g. oauth2client) used instead of Entra ID credentials.
	Authenticator *component.ID `mapstructure:"authenticator"`

	_ struct{}
}

// TimeGeneratedConfig controls the TimeGenerated column.
type TimeGeneratedConfig struct {
	// Column name; default TimeGenerated.
	Column string `mapstructure:"column"`
	// Source: auto (record timestamp, else observed timestamp, else now), record, observed, now, or none.
	Source string `mapstructure:"source"`
	// Overwrite replaces a TimeGenerated key already present in a map body (default: the body wins).
	Overwrite bool `mapstructure:"overwrite"`

	_ struct{}
}

// ColumnsConfig controls which parts of a record become columns.
type ColumnsConfig struct {
	// StringBody is the column a non-map body is written to; default RawData.
	StringBody string `mapstructure:"string_body"`
	// Attributes maps log record attribute keys to column names.
	Attributes map[string]string `mapstructure:"attributes"`
	// ResourceAttributes maps resource attribute keys to column names.
	ResourceAttributes map[string]string `mapstructure:"resource_attributes"`

	_ struct{}
}

var _ component.Config = (*Config)(nil)

// plainConfig has Config's fields without its methods, so Unmarshal does not recurse.
type plainConfig Config

// Unmarshal splits the `auth` key between the Entra ID settings and confighttp's authenticator.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	raw := conf.ToStringMap()
	authRaw, hasAuth := raw["auth"]
	delete(raw, "auth")
	if err := confmap.NewFromStringMap(raw).Unmarshal((*plainConfig)(cfg)); err != nil {
		return err
	}
	// A persistent queue covers the records once written: unless the user asked otherwise it
	// does not also wait for the result (exporterhelper refuses the combination).
	if q := cfg.QueueConfig.Get(); q != nil && q.StorageID != nil && !conf.IsSet("sending_queue::wait_for_result") {
		q.WaitForResult = false
	}
	if !hasAuth || authRaw == nil {
		return nil
	}
	authMap, ok := authRaw.(map[string]any)
	if !ok {
		return fmt.Errorf("'auth' must be a map, got %T", authRaw)
	}
	if err := confmap.NewFromStringMap(authMap).Unmarshal(&cfg.Auth); err != nil {
		return fmt.Errorf("'auth': %w", err)
	}
	if cfg.Auth.Authenticator != nil {
		cfg.ClientConfig.Auth = configoptional.Some(configauth.Config{AuthenticatorID: *cfg.Auth.Authenticator})
	}
	return nil
}

var (
	dcrIDPattern  = regexp.MustCompile(`^dcr-[0-9a-fA-F]{32}$`)
	columnPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,44}$`)
)

// Validate checks the configuration without doing any I/O.
func (cfg *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if cfg.ClientConfig.Endpoint == "" {
		add("'endpoint' is required: set it to the Data Collection Endpoint's logs ingestion URI or the DCR's logsIngestion endpoint, e.g. https://my-dce-abcd.eastus-1.ingest.monitor.azure.com")
	} else if u, err := url.Parse(cfg.ClientConfig.Endpoint); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		add("'endpoint' %q is not an absolute http(s) URL: use the form https://<dce>.<region>-1.ingest.monitor.azure.com", cfg.ClientConfig.Endpoint)
	} else if u.Scheme != "https" && cfg.ClientConfig.Auth.Get() == nil {
		add("'endpoint' %q uses http: bearer tokens are only sent over https; use an https endpoint (tls::ca_file for a private CA)", cfg.ClientConfig.Endpoint)
	}
	if cfg.DCRImmutableID == "" {
		add("'dcr_immutable_id' is required: copy the DCR's immutableId (dcr-<32 hex>) from its JSON view")
	} else if !dcrIDPattern.MatchString(cfg.DCRImmutableID) {
		add("'dcr_immutable_id' %q is not a DCR immutable id: expected 'dcr-' followed by 32 hex characters (the immutableId property, not the resource id)", cfg.DCRImmutableID)
	}
	if cfg.StreamName == "" {
		add("'stream_name' is required: use a stream declared in the DCR, e.g. Custom-MyTable_CL")
	} else if strings.ContainsAny(cfg.StreamName, "/?#% ") {
		// Any declared stream name is valid: Microsoft's own connectors use built-in streams
		// such as SENTINEL_GOOGLEWORKSPACEREPORTS, so no Custom- prefix is enforced.
		add("'stream_name' %q cannot contain '/', '?', '#', '%%' or spaces (it is a URL path segment)", cfg.StreamName)
	}
	if cfg.APIVersion == "" {
		add("'api_version' must not be empty: use 2023-01-01")
	}
	errs = append(errs, cfg.Auth.validate(cfg.ClientConfig.Auth.Get() != nil)...)

	if cfg.MaxRequestBytes < minRequestBytes || cfg.MaxRequestBytes > MaxRequestBytesLimit {
		add("'max_request_bytes' %d out of range: use %d..%d (the service refuses bodies over 1 MiB on the wire)", cfg.MaxRequestBytes, minRequestBytes, MaxRequestBytesLimit)
	}
	if cfg.MaxUncompressedBytes < cfg.MaxRequestBytes || cfg.MaxUncompressedBytes > MaxUncompressedBytesLimit {
		add("'max_uncompressed_bytes' %d out of range: use max_request_bytes..%d (the service refuses bodies over 50 MiB decompressed)", cfg.MaxUncompressedBytes, MaxUncompressedBytesLimit)
	}
	if cfg.CompressionLevel < 1 || cfg.CompressionLevel > 9 {
		add("'compression_level' %d out of range: use 1 (fastest) .. 9 (smallest)", cfg.CompressionLevel)
	}
	if cfg.FlushTimeout < time.Millisecond || cfg.FlushTimeout > maxFlushTimeout {
		add("'flush_timeout' %s out of range: use 1ms..%s (how long a partly filled request waits for rows of further pushes; default 1s)", cfg.FlushTimeout, maxFlushTimeout)
	}
	if c := cfg.ClientConfig.Compression; c != "" && c != "none" {
		add("'compression' must be left unset: the exporter gzips request bodies itself (tune 'compression_level' instead)")
	}

	errs = append(errs, cfg.validateColumns()...)
	if q := cfg.QueueConfig.Get(); q != nil && q.WaitForResult && q.StorageID != nil {
		add("'sending_queue::wait_for_result' cannot be combined with 'sending_queue::storage'")
	}
	return errors.Join(errs...)
}

// validateColumns checks time_generated and columns.
func (cfg *Config) validateColumns() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch cfg.TimeGenerated.Source {
	case TimeSourceAuto, TimeSourceRecord, TimeSourceObserved, TimeSourceNow, TimeSourceNone:
	default:
		add("'time_generated::source' %q is invalid: use auto, record, observed, now or none", cfg.TimeGenerated.Source)
	}
	if cfg.TimeGenerated.Source != TimeSourceNone && !columnPattern.MatchString(cfg.TimeGenerated.Column) {
		add("'time_generated::column' %q is not a valid column name: letters, digits and '_', starting with a letter, at most 45 characters", cfg.TimeGenerated.Column)
	}
	if cfg.AuxiliaryTableMode && cfg.TimeGenerated.Source == TimeSourceNone {
		add("'auxiliary_table_mode' needs TimeGenerated: set 'time_generated::source' to something other than none")
	}
	if !columnPattern.MatchString(cfg.Columns.StringBody) {
		add("'columns::string_body' %q is not a valid column name: letters, digits and '_', starting with a letter, at most 45 characters", cfg.Columns.StringBody)
	}
	seen := map[string]string{}
	check := func(section string, m map[string]string) {
		for k, col := range m {
			if !columnPattern.MatchString(col) {
				add("'columns::%s::%s' maps to %q, which is not a valid column name: letters, digits and '_', starting with a letter, at most 45 characters", section, k, col)
				continue
			}
			if prev, dup := seen[col]; dup {
				add("column %q is the target of both %s and columns::%s::%s: give each a distinct column", col, prev, section, k)
			}
			seen[col] = "columns::" + section + "::" + k
		}
	}
	check("attributes", cfg.Columns.Attributes)
	check("resource_attributes", cfg.Columns.ResourceAttributes)
	return errs
}

func (a *AuthConfig) validate(hasAuthenticator bool) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if hasAuthenticator {
		if a.Type != "" {
			add("'auth::type' %q and 'auth::authenticator' are mutually exclusive: remove one", a.Type)
		}
		return errs
	}
	need := func(field, why string) {
		add("'auth::%s' is required for auth type %q: %s", field, a.Type, why)
	}
	switch a.Type {
	case AuthClientSecret, AuthClientCertificate:
		// Both identify an app registration; they differ in the proof of identity.
		if a.TenantID == "" {
			need("tenant_id", "the Entra ID tenant (directory) id of the app registration")
		}
		if a.ClientID == "" {
			need("client_id", "the application (client) id of the app registration")
		}
		if a.Type == AuthClientSecret && a.ClientSecret == "" {
			need("client_secret", "a client secret value of the app registration, e.g. ${env:AZURE_CLIENT_SECRET}")
		}
		if a.Type == AuthClientCertificate && a.CertificatePath == "" {
			need("certificate_path", "a PEM or PKCS#12 file holding the certificate and its private key")
		}
	case AuthWorkloadIdentity:
		// tenant_id, client_id and federated_token_file default to AZURE_TENANT_ID, AZURE_CLIENT_ID and
		// AZURE_FEDERATED_TOKEN_FILE, which the AKS workload identity webhook sets.
	case AuthManagedIdentity:
		if a.ClientID != "" && a.ManagedIdentityResourceID != "" {
			add("'auth::client_id' and 'auth::managed_identity_resource_id' are mutually exclusive for managed_identity: name the user-assigned identity one way")
		}
	case AuthAzureCLI, AuthDefault:
	case "":
		add("'auth::type' is required: use client_secret, client_certificate, managed_identity, workload_identity, azure_cli or default, or set 'auth::authenticator' to an auth extension")
	default:
		add("'auth::type' %q is unknown: use client_secret, client_certificate, managed_identity, workload_identity, azure_cli or default", a.Type)
	}
	if a.ClientSecret != "" && a.Type != AuthClientSecret {
		add("'auth::client_secret' is only used with auth type client_secret: remove it or change 'auth::type'")
	}
	if a.CertificatePath != "" && a.Type != AuthClientCertificate {
		add("'auth::certificate_path' is only used with auth type client_certificate: remove it or change 'auth::type'")
	}
	switch a.Cloud {
	case "", CloudPublic, CloudUSGovernment, CloudChina:
	default:
		add("'auth::cloud' %q is unknown: use AzurePublic, AzureUSGovernment or AzureChina (or set authority_host and scope)", a.Cloud)
	}
	if a.AuthorityHost != "" {
		if u, err := url.Parse(a.AuthorityHost); err != nil || u.Scheme != "https" || u.Host == "" {
			add("'auth::authority_host' %q must be an https URL, e.g. https://login.microsoftonline.com/ (azidentity refuses other schemes)", a.AuthorityHost)
		}
	}
	if a.Scope != "" && !strings.HasSuffix(a.Scope, "/.default") {
		add("'auth::scope' %q must end with '/.default', e.g. https://monitor.azure.com//.default", a.Scope)
	}
	return errs
}
