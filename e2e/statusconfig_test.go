package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// acmeDefinition is a solution-style file: a dataConnectorDefinitions resource (the UI) beside
// the RestApiPoller that names it. Its description carries markup the page must neutralise.
func acmeDefinition() map[string]any {
	ui := map[string]any{
		"id": "AcmeDefinition", "title": "Acme Security Events", "publisher": "Acme Corp",
		"descriptionMarkdown": "The **Acme** connector ingests security events. See [Acme docs](https://acme.example/docs).\n\n" +
			"<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>",
		"graphQueriesTableName": "AcmeEvents_CL",
		"dataTypes":             []any{map[string]any{"name": "{{graphQueriesTableName}}"}},
		"sampleQueries":         []any{map[string]any{"description": "Last 10 events", "query": "{{graphQueriesTableName}} | take 10"}},
		"permissions": map[string]any{"customs": []any{map[string]any{"name": "Acme API key",
			"description": "An Acme API key with the audit:read scope."}}},
		"instructionSteps": []any{map[string]any{"title": "Connect Acme", "description": "Enter the API base URL and key."}},
	}
	poller := map[string]any{
		"connectorDefinitionName": "AcmeDefinition", "dataType": "AcmeEvents_CL",
		"dcrConfig": map[string]any{"dataCollectionRuleImmutableId": "dcr-e2e", "streamName": "Custom-AcmeEvents_CL"},
		"auth":      map[string]any{"type": "APIKey", "ApiKeyName": "X-Api-Key", "ApiKey": "{{apiKey}}"},
		"request": map[string]any{"apiEndpoint": "{{apiBase}}/api/v1/events", "httpMethod": "Get", "queryWindowInMin": 5,
			"queryTimeFormat": "yyyy-MM-ddTHH:mm:ssZ", "startTimeAttributeName": "since", "endTimeAttributeName": "until"},
		"paging": map[string]any{"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token",
			"nextPageParaName": "page_token", "pageSize": 100, "pageSizeParaName": "limit"},
		"response": map[string]any{"eventsJsonPaths": []any{"$.data"}, "format": "json"},
	}
	return map[string]any{"resources": []any{
		map[string]any{"type": "Microsoft.SecurityInsights/dataConnectorDefinitions", "kind": "Customizable",
			"name": "AcmeDefinition", "properties": map[string]any{"connectorUiConfig": ui}},
		map[string]any{"type": "Microsoft.SecurityInsights/dataConnectors", "kind": "RestApiPoller",
			"name": "AcmePoller", "properties": poller},
	}}
}

// writeStatusConfig writes the definition and the collector config; it returns the config path.
func writeStatusConfig(t *testing.T, dir, vendorURL, refusingAddr, pageAddr string) string {
	t.Helper()
	raw, err := json.MarshalIndent(acmeDefinition(), "", "  ")
	require.NoError(t, err)
	def := filepath.Join(dir, "acme.json")
	require.NoError(t, os.WriteFile(def, raw, 0o600))
	cfg := fmt.Sprintf(`
extensions:
  file_storage:
    directory: %[1]s
  ccp_status:
    endpoint: %[2]s
    storage: file_storage
receivers:
  ccp/healthy:
    definition: %[3]s
    initial_lookback: 1h
    parameters:
      apiBase: %[4]s
      apiKey: %[5]s
  ccp/refused:
    name: refused
    initial_lookback: 10m
    parameters:
      apiKey: %[6]s
    polling_config:
      dataType: Refused_CL
      auth: {type: APIKey, ApiKeyName: X-Api-Key, ApiKey: "{{apiKey}}"}
      request: {apiEndpoint: "http://%[7]s/api/v1/events", queryWindowInMin: 5, retryCount: 1}
      response: {eventsJsonPaths: ["$.data"]}
exporters:
  debug:
    verbosity: basic
service:
  extensions: [file_storage, ccp_status]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [ccp/healthy, ccp/refused]
      exporters: [debug]
`, filepath.Join(dir, "state"), pageAddr, def, vendorURL, goodKey, badKey, refusingAddr)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "state"), 0o700))
	path := filepath.Join(dir, "collector.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	return path
}
