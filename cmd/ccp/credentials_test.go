package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// credFile is a RestApiPoller whose credentials sit in parameters with harmless-looking
// names: {{orgValue}} as a Basic password, ARM parameters('tenantRef') as a token-endpoint
// header, base64(parameters('pin')) in a request header, and {{stepValue}} in a nested step's
// own auth. region and tokenHost only build addresses.
const credFile = `[{
  "name": "Cred", "kind": "RestApiPoller",
  "properties": {
    "dcrConfig": {"dataCollectionEndpoint": "https://dce.example.com", "dataCollectionRuleImmutableId": "dcr-1", "streamName": "Custom-X_CL"},
    "auth": {"type": "OAuth2", "ClientId": "{{login}}", "ClientSecret": "{{orgValue}}", "GrantType": "client_credentials",
      "TokenEndpoint": "https://{{tokenHost}}/oauth/token",
      "TokenEndpointHeaders": {"X-Tenant": "[[parameters('tenantRef')]", "User-Agent": "x/{{version}}"}},
    "request": {"apiEndpoint": "https://api.{{region}}.example.com/v1/items", "queryWindowInMin": 5,
      "headers": {"X-Pin": "[[base64(parameters('pin'))]"}},
    "response": {"eventsJsonPaths": ["$.items"]},
    "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "s", "stepPlaceholdersParsingKql": "source | project id = tostring(parse_json(data).id)"}]},
    "stepCollectorConfigs": {"s": {"auth": {"type": "APIKey", "ApiKeyName": "X-Key", "ApiKey": "{{stepValue}}"},
      "request": {"apiEndpoint": "https://api.{{region}}.example.com/v1/items/$id$"}, "response": {"eventsJsonPaths": ["$"]}}}
  }
}]`

// TestConvertAuthParametersAreEnv: every parameter whose value reaches a credential field is
// written as ${env:...}, whatever its name; the values given on the command line never appear.
func TestConvertAuthParametersAreEnv(t *testing.T) {
	f := writeFile(t, credFile)
	given := map[string]string{"login": "the-login-1", "orgValue": "the-org-value-2", "tenantRef": "the-tenant-ref-3",
		"pin": "the-pin-4", "stepValue": "the-step-value-5", "region": "eu", "tokenHost": "login.example.com", "version": "1.2"}
	args := []string{"convert", f, "--parameters"}
	for k, v := range given {
		args = append(args, k+"="+v)
	}
	code, out, errs := runCCP(t, args...)
	require.Equal(t, exitOK, code, errs)
	var doc struct {
		Receivers map[string]struct {
			Parameters map[string]string `yaml:"parameters"`
		} `yaml:"receivers"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &doc), out)
	params := doc.Receivers["ccp/Cred"].Parameters
	require.NotNil(t, params, out)
	for name, env := range map[string]string{"login": "LOGIN", "orgValue": "ORG_VALUE", "tenantRef": "TENANT_REF", "pin": "PIN", "stepValue": "STEP_VALUE"} {
		assert.Equal(t, "${env:"+env+"}", params[name], name)
		assert.NotContains(t, out, given[name])
	}
	assert.Equal(t, "eu", params["region"], "an address part is not a secret")
	assert.Equal(t, "login.example.com", params["tokenHost"], "the token endpoint's host is not a secret")
	assert.Equal(t, "1.2", params["version"], "a User-Agent header carries no secret")
	assert.Contains(t, out, "# Environment variables used: LOGIN ORG_VALUE PIN STEP_VALUE TENANT_REF ")
}

// TestConvertExporterHasOnlyTheDefaults: the exporter block is endpoint, DCR, stream and auth
// (the exporter's own defaults are the safe ones); the receiver keeps checkpoints in
// file_storage, which the service starts.
func TestConvertExporterHasOnlyTheDefaults(t *testing.T) {
	f := corpusFile(t, "Okta_Single_Sign-On__OktaSSOv2_PollingConfig.json")
	code, out, errs := runCCP(t, "convert", f, "--parameters", "domainname=acme.okta.com", "dataCollectionEndpoint="+testDCE, "dataCollectionRuleImmutableId="+testDCR)
	require.Equal(t, exitOK, code, errs)
	var doc struct {
		Extensions map[string]map[string]any `yaml:"extensions"`
		Receivers  map[string]map[string]any `yaml:"receivers"`
		Exporters  map[string]map[string]any `yaml:"exporters"`
		Service    struct {
			Extensions []string `yaml:"extensions"`
		} `yaml:"service"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &doc), out)
	require.Len(t, doc.Exporters, 1)
	for id, exp := range doc.Exporters {
		keys := make([]string, 0, len(exp))
		for k := range exp {
			keys = append(keys, k)
		}
		assert.ElementsMatch(t, []string{"endpoint", "dcr_immutable_id", "stream_name", "auth"}, keys, id)
	}
	for _, k := range []string{"sending_queue", "retry_on_failure", "timeout"} {
		assert.NotContains(t, out, k)
	}
	require.Len(t, doc.Receivers, 1)
	for _, r := range doc.Receivers {
		assert.Equal(t, "file_storage", r["storage"])
	}
	assert.Contains(t, doc.Extensions, "file_storage")
	assert.Equal(t, []string{"file_storage"}, doc.Service.Extensions)
}

// TestValidateWarnsAboutRiskyEndpoints: plain http and link-local / metadata addresses are
// reported (the poller still validates: exit 0), naming the poller, the field and the risk.
func TestValidateWarnsAboutRiskyEndpoints(t *testing.T) {
	mk := func(api, token string) string {
		return fmt.Sprintf(`[{"name": "Risky", "kind": "RestApiPoller", "properties": {
		  "dcrConfig": {"dataCollectionEndpoint": "https://dce.example.com", "dataCollectionRuleImmutableId": "dcr-1", "streamName": "Custom-X_CL"},
		  "auth": {"type": "OAuth2", "ClientId": "c", "ClientSecret": "s", "GrantType": "client_credentials", "TokenEndpoint": %q},
		  "request": {"apiEndpoint": %q, "queryWindowInMin": 5},
		  "response": {"eventsJsonPaths": ["$"]}}}]`, token, api)
	}
	cases := []struct{ name, api, token, want string }{
		{"plain http API", "http://api.example.com/v1?key=abc", "https://login.example.com/token",
			`poller Risky: request.apiEndpoint "http://api.example.com/v1?key=REDACTED" uses plain http`},
		{"plain http token endpoint", "https://api.example.com/v1", "http://login.example.com/token",
			`poller Risky: auth.TokenEndpoint "http://login.example.com/token" uses plain http`},
		{"IMDS", "https://169.254.169.254/metadata/identity", "https://login.example.com/token",
			`poller Risky: request.apiEndpoint "https://169.254.169.254/metadata/identity" is a link-local or cloud metadata address`},
		{"IPv6 link-local", "https://[fe80::1%25eth0]:8443/x", "https://login.example.com/token",
			`is a link-local or cloud metadata address`},
		{"metadata name", "https://api.example.com/v1", "https://metadata.google.internal/computeMetadata/v1/token",
			`poller Risky: auth.TokenEndpoint "https://metadata.google.internal/computeMetadata/v1/token" is a link-local or cloud metadata address`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCCP(t, "validate", writeFile(t, mk(tc.api, tc.token)))
			require.Equal(t, exitOK, code, out+errs)
			require.True(t, strings.HasPrefix(out, "OK Risky\n"), out)
			assert.Contains(t, out, "  warning: poller Risky: ")
			assert.Contains(t, out, tc.want)
			assert.NotContains(t, out, "key=abc")
		})
	}
	code, out, _ := runCCP(t, "validate", writeFile(t, mk("https://api.example.com/v1", "https://login.example.com/token")))
	require.Equal(t, exitOK, code)
	assert.NotContains(t, out, "warning", "https endpoints on ordinary hosts: no warning")
}
