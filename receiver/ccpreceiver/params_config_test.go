package ccpreceiver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
)

const (
	testSecret = "hunter2-Secret-Value"
	testZeros  = "000123"
)

// unmarshalParams reads one receiver of testdata/params.yaml through the collector's own
// resolver (file and env providers) and unmarshals it the way otelcol does: into a
// component.Config holding the factory default.
func unmarshalParams(t *testing.T, name string) (*Config, error) {
	t.Helper()
	t.Setenv("CCP_TEST_CONNECTOR", "2")
	t.Setenv("CCP_TEST_SECRET", testSecret)
	t.Setenv("CCP_TEST_ZEROS", testZeros)
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + filepath.Join("testdata", "params.yaml")},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
	})
	require.NoError(t, err)
	conf, err := resolver.Resolve(context.Background())
	require.NoError(t, err)
	sub, err := conf.Sub("ccp/" + name)
	require.NoError(t, err)
	var cfg component.Config = createDefaultConfig()
	if err := sub.Unmarshal(&cfg); err != nil {
		return nil, err
	}
	return cfg.(*Config), nil
}

func loadParams(t *testing.T, name string) *connector.Loaded {
	t.Helper()
	cfg, err := unmarshalParams(t, name)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	loaded, err := cfg.loadDefinition()
	require.NoError(t, err)
	return loaded
}

func header(l *connector.Loaded, name string) string {
	for _, h := range l.Def.Request.Headers {
		if h.Name == name {
			return h.ValueString()
		}
	}
	return ""
}

// The README says connector is a "name or index"; YAML makes `connector: 0` an integer.
func TestConnectorIsANameOrAnIndex(t *testing.T) {
	for name, want := range map[string]string{
		"index0":   "CortexXdrAgent",
		"index1":   "CortexXdrAlerts",
		"quoted":   "CortexXdrIncidents",
		"byname":   "CortexXdrAlerts",
		"from_env": "CortexXdrEndpoints", // ${env:CCP_TEST_CONNECTOR} = 2
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, want, loadParams(t, name).Name)
		})
	}
	for _, name := range []string{"float_connector", "list_connector"} {
		t.Run(name, func(t *testing.T) {
			_, err := unmarshalParams(t, name)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "connector")
			assert.Contains(t, err.Error(), "zero-based index")
			assert.NotContains(t, err.Error(), "s3cret-token")
		})
	}
}

// Real files read parameters('dcrConfig').dataCollectionEndpoint: dcrConfig is an object.
func TestObjectParameterAsYAMLMap(t *testing.T) {
	for _, name := range []string{"index0", "json_text"} { // a JSON string keeps working
		t.Run(name, func(t *testing.T) {
			loaded := loadParams(t, name)
			assert.Equal(t, "https://dce.example.com", loaded.Def.DCR.DataCollectionEndpoint)
			assert.Equal(t, "dcr-00000000000000000000000000000042", loaded.Def.DCR.DataCollectionRuleImmutableID)
			assert.Equal(t, "Custom-CortexXdrStreamAgent", loaded.Def.DCR.StreamName)
			assert.Equal(t, "https://api.example.com/public_api/v1/audits/agents_reports", loaded.Def.Request.APIEndpoint)
			assert.Equal(t, "42", header(loaded, "x-xdr-auth-id"), "a YAML number is a parameter too")
		})
	}
}

func TestArrayAndNestedParametersAsYAML(t *testing.T) {
	loaded := loadParams(t, "lists")
	assert.Equal(t, "https://a.example.com/v1/events", loaded.Def.Request.APIEndpoint)
	assert.Equal(t, "primary", header(loaded, "X-Target"))
	assert.Equal(t, "eu-1", header(loaded, "X-Region"))
	assert.Equal(t, "dcr-1", loaded.Def.DCR.DataCollectionRuleImmutableID)
	assert.Equal(t, testSecret, loaded.Def.Auth.Fields.String("ApiKey"))

	cfg, err := unmarshalParams(t, "lists")
	require.NoError(t, err)
	var routing map[string]any
	require.NoError(t, json.Unmarshal([]byte(cfg.Parameters["routing"]), &routing))
	assert.Equal(t, map[string]any{"region": "eu-1", "targets": []any{"primary", "secondary"}, "weight": 3.0, "enabled": true, "note": nil}, routing,
		"a map keeps its types: numbers, booleans, null, nested lists")
}

// A value from ${env:...} is text wherever it stands: a secret of digits keeps its zeros.
func TestEnvValuesInsideMapsKeepTheirText(t *testing.T) {
	cfg, err := unmarshalParams(t, "secrets")
	require.NoError(t, err)
	assert.Equal(t, testZeros, string(cfg.Parameters["apiKey"]))
	var routing map[string]any
	require.NoError(t, json.Unmarshal([]byte(cfg.Parameters["routing"]), &routing))
	assert.Equal(t, testZeros, routing["zeros"])
	assert.Equal(t, []any{testZeros}, routing["targets"])
	assert.Equal(t, testSecret, routing["region"])
	var hosts []any
	require.NoError(t, json.Unmarshal([]byte(cfg.Parameters["hosts"]), &hosts))
	assert.Equal(t, []any{testSecret, "b.example.com"}, hosts)
}

// Nothing of a parameter value, in a map or a list, reaches print-config output, fmt or a
// logged config; unmarshal and validation errors name fields, not values.
func TestMapAndListParametersStayOpaque(t *testing.T) {
	cfg, err := unmarshalParams(t, "secrets")
	require.NoError(t, err)
	loaded, err := cfg.loadDefinition()
	require.NoError(t, err)
	require.Equal(t, testSecret, loaded.Def.DCR.DataCollectionRuleImmutableID, "the secret did reach the definition")

	out := confmap.New()
	require.NoError(t, out.Marshal(cfg))
	printed := fmt.Sprint(out.ToStringMap())
	assert.Contains(t, printed, "routing", "the parameter names are shown")
	var logged bytes.Buffer
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	zap.New(zapcore.NewCore(enc, zapcore.AddSync(&logged), zapcore.InfoLevel)).
		Info("config", zap.Any("cfg", cfg), zap.Reflect("params", cfg.Parameters))
	require.Contains(t, logged.String(), `"routing":"[REDACTED]"`, "the log line holds the parameters")
	for what, s := range map[string]string{
		"print-config": printed,
		"%v":           fmt.Sprintf("%v", cfg),
		"%+v":          fmt.Sprintf("%+v", *cfg),
		"%#v":          fmt.Sprintf("%#v", cfg.Parameters),
		"log":          logged.String(),
	} {
		for _, secret := range []string{testSecret, testZeros, "eu-1"} {
			assert.NotContains(t, s, secret, "%s shows a parameter value", what)
		}
	}

	// an error elsewhere in the config names the field, not the parameters
	delete(cfg.Parameters, "hosts")
	err = cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hosts")
	assert.NotContains(t, err.Error(), testSecret)
	assert.NotContains(t, err.Error(), testZeros)
}

// A member the file reads and the map lacks is a missing parameter named "object.member";
// dcrConfig's members stay optional (the exporter's own settings apply).
func TestObjectParameterMissingMembers(t *testing.T) {
	loaded := loadParams(t, "partial_dcr")
	assert.Equal(t, "https://dce.example.com", loaded.Def.DCR.DataCollectionEndpoint)
	assert.Empty(t, loaded.Def.DCR.DataCollectionRuleImmutableID)

	cfg, err := unmarshalParams(t, "partial_routing")
	require.NoError(t, err)
	err = cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "routing.region")
	assert.Contains(t, err.Error(), "supply them under parameters")
	assert.NotContains(t, err.Error(), testSecret)
}
