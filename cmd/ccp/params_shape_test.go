package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/receiver"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver"
)

// cortexXDR reads parameters('dcrConfig').dataCollectionEndpoint and
// parameters('dcrConfig').dataCollectionRuleImmutableId in each of its five pollers; its
// streamName is written in the file.
const cortexXDR = "Palo_Alto_Cortex_XDR_CCP__PollingConfig.json"

type convertedReceivers struct {
	Receivers map[string]map[string]any `yaml:"receivers"`
}

func convertDoc(t *testing.T, args ...string) (string, convertedReceivers) {
	t.Helper()
	code, out, errs := runCCP(t, append([]string{"convert"}, args...)...)
	require.Equal(t, exitOK, code, errs)
	var doc convertedReceivers
	require.NoError(t, yaml.Unmarshal([]byte(out), &doc), out)
	return out, doc
}

func TestConvertWritesObjectParameterAsMap(t *testing.T) {
	f := corpusFile(t, cortexXDR)
	out, doc := convertDoc(t, f, "--parameters", "apiUrl=https://api.example.com",
		"dcrConfig.dataCollectionEndpoint=https://dce.example.com")
	require.Len(t, doc.Receivers, 5)
	for id, r := range doc.Receivers {
		params := r["parameters"].(map[string]any)
		assert.Equal(t, map[string]any{
			"dataCollectionEndpoint":        "https://dce.example.com",
			"dataCollectionRuleImmutableId": "",
		}, params["dcrConfig"], "%s: dcrConfig is a map of the members the file reads", id)
		for _, flat := range []string{"dataCollectionEndpoint", "dataCollectionRuleImmutableId", "streamName"} {
			assert.NotContains(t, params, flat, id)
		}
	}
	assert.Contains(t, out, "# object parameter dcrConfig {dataCollectionEndpoint, dataCollectionRuleImmutableId}")
	assert.Contains(t, out, "# required: no value given (--parameters dcrConfig.dataCollectionRuleImmutableId=...)")
}

// The skeleton, filled in, is a configuration the receiver takes as it is.
func TestConvertedObjectParameterLoadsInTheReceiver(t *testing.T) {
	f := corpusFile(t, cortexXDR)
	_, doc := convertDoc(t, f, "--parameters", "apiUrl=https://api.example.com",
		"dcrConfig.dataCollectionEndpoint=https://dce.example.com", "dcrConfig.dataCollectionRuleImmutableId="+testDCR)
	t.Setenv("APITOKEN", "tok")
	t.Setenv("API_ID", "7")
	fact := ccpreceiver.NewFactory()
	for id, raw := range doc.Receivers {
		cfg := loadReceiverConfig(t, fact, raw)
		require.NoError(t, cfg.Validate(), id)
		assert.Contains(t, string(cfg.Parameters["dcrConfig"]), testDCR, id)
	}
}

// loadReceiverConfig unmarshals one converted receiver as the collector does, ${env:...}
// expanded by hand (the test has no resolver).
func loadReceiverConfig(t *testing.T, fact receiver.Factory, raw map[string]any) *ccpreceiver.Config {
	t.Helper()
	params := raw["parameters"].(map[string]any)
	for k, v := range params {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "${env:") {
			params[k] = os.Getenv(strings.TrimSuffix(strings.TrimPrefix(s, "${env:"), "}"))
		}
	}
	var cfg component.Config = fact.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(raw).Unmarshal(&cfg))
	return cfg.(*ccpreceiver.Config)
}

func TestValidateNamesObjectParameterShape(t *testing.T) {
	code, out, errs := runCCP(t, "validate", corpusFile(t, cortexXDR))
	require.Equal(t, exitOK, code, errs)
	assert.Equal(t, 5, strings.Count(out, "  dummy: object parameter dcrConfig {dataCollectionEndpoint, dataCollectionRuleImmutableId}\n"), out)
}

// arrayFile is an ARM template with an array parameter read by index.
func arrayFile(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "hosts.json")
	require.NoError(t, os.WriteFile(f, []byte(`{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {"hosts": {"type": "array"}, "apiKey": {"type": "securestring"}},
  "resources": [{
    "type": "Microsoft.SecurityInsights/dataConnectors", "name": "Hosts", "kind": "RestApiPoller",
    "properties": {
      "auth": {"type": "APIKey", "ApiKey": "[parameters('apiKey')]", "ApiKeyName": "Authorization"},
      "request": {"apiEndpoint": "[concat('https://', parameters('hosts')[0], '/v1/events')]",
        "httpMethod": "Get", "queryWindowInMin": 5},
      "response": {"eventsJsonPaths": ["$.events"]},
      "dcrConfig": {"streamName": "Custom-Hosts_CL", "dataCollectionEndpoint": "https://dce.example.com",
        "dataCollectionRuleImmutableId": "dcr-1"}
    }
  }]
}`), 0o600))
	return f
}

func TestArrayParameterShape(t *testing.T) {
	f := arrayFile(t)
	code, out, errs := runCCP(t, "validate", f)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "  dummy: array parameter hosts [...]\n")

	out, doc := convertDoc(t, f)
	assert.Contains(t, out, "# array parameter hosts [...]")
	assert.Equal(t, []any{}, doc.Receivers["ccp/Hosts"]["parameters"].(map[string]any)["hosts"], out)

	out, doc = convertDoc(t, f, "--parameters", "hosts=a.example.com,b.example.com")
	assert.Equal(t, []any{"a.example.com", "b.example.com"}, doc.Receivers["ccp/Hosts"]["parameters"].(map[string]any)["hosts"], out)
	_, doc = convertDoc(t, f, "--parameters", `hosts=["a.example.com", "$b"]`)
	assert.Equal(t, []any{"a.example.com", "$$b"}, doc.Receivers["ccp/Hosts"]["parameters"].(map[string]any)["hosts"], "$ is escaped for the collector")
}

// A member given in an object whose name says secret is read from the environment.
func TestConvertObjectSecretMemberFromEnv(t *testing.T) {
	f := corpusFile(t, cortexXDR)
	out, doc := convertDoc(t, f, "--parameters", `dcrConfig={"dataCollectionEndpoint": "https://dce.example.com", "clientSecret": "zz-top-secret"}`)
	assert.NotContains(t, out, "zz-top-secret")
	dcr := doc.Receivers["ccp/CortexXdrAgent"]["parameters"].(map[string]any)["dcrConfig"].(map[string]any)
	assert.Equal(t, "${env:DCR_CONFIG_CLIENT_SECRET}", dcr["clientSecret"])
	assert.Equal(t, "https://dce.example.com", dcr["dataCollectionEndpoint"])
	assert.Equal(t, "", dcr["dataCollectionRuleImmutableId"])
}
