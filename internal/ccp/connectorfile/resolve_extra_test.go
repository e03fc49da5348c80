package connectorfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlaceholderInsideARMExpression(t *testing.T) {
	assert.Equal(t, "[[equals(parameters('Remediation')[0], 'Yes')]", armPlaceholders("[[equals({{Remediation}}[0], 'Yes')]"))
	assert.Equal(t, "[[concat('https://{{host}}/', parameters('p'))]", armPlaceholders("[[concat('https://{{host}}/', {{p}})]"), "literals keep their placeholders")
	assert.Equal(t, "plain {{x}}", armPlaceholders("plain {{x}}"), "not an expression")

	tree, err := ParseJSON([]byte(`[{"name": "p", "kind": "RestApiPoller", "type": "Microsoft.SecurityInsights/dataConnectors",
	  "condition": "[[equals({{Remediation}}[0], 'Yes')]",
	  "properties": {"auth": {"type": "OAuth2", "ClientSecret": "{{Client Secret}}", "ClientId": "{{Client ID}}"},
	    "request": {"apiEndpoint": "https://api.example.com/x"}, "response": {"eventsJsonPaths": ["$"]}}}]`))
	require.NoError(t, err)
	pollers, err := FromTree(tree, "netskope.json")
	require.NoError(t, err)
	require.Len(t, pollers, 1)
	p, _, err := Resolve(pollers[0], map[string]string{"Remediation": `["Yes"]`, "Client Secret": "s", "Client ID": "c"})
	require.NoError(t, err)
	assert.True(t, p.Condition)
	auth := p.Properties["auth"].(map[string]any)
	assert.Equal(t, "s", auth["ClientSecret"], "placeholder names may contain spaces")
	p, _, err = Resolve(pollers[0], map[string]string{"Remediation": `["No"]`, "Client Secret": "s", "Client ID": "c"})
	require.NoError(t, err)
	assert.False(t, p.Condition)
}

// Sophos' packaged template: single-bracket expressions inside a contentTemplates mainTemplate
// read the outer template's variables; [[...]] ones the inner template's parameters.
func TestContentTemplateScopes(t *testing.T) {
	tree, err := ParseJSON([]byte(`{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
	  "parameters": {"workspace": {"type": "string"}},
	  "variables": {"tokenEndpoint": "https://id.example.com/oauth2/token", "table": "SophosEPAlerts_CL"},
	  "resources": [{"type": "Microsoft.OperationalInsights/workspaces/providers/contentTemplates", "name": "ct",
	    "properties": {"mainTemplate": {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
	      "parameters": {"clientId": {"type": "string"}},
	      "resources": [{"type": "Microsoft.SecurityInsights/dataConnectors", "name": "poller", "kind": "RestApiPoller",
	        "properties": {"dataType": "[variables('table')]",
	          "auth": {"type": "OAuth2", "TokenEndpoint": "[variables('tokenEndpoint')]", "ClientId": "[[parameters('clientId')]", "ClientSecret": "s", "GrantType": "client_credentials"},
	          "request": {"apiEndpoint": "https://api.example.com/x"}, "response": {"eventsJsonPaths": ["$"]}}}]}}}]}`))
	require.NoError(t, err)
	pollers, err := FromTree(tree, "sophos.json")
	require.NoError(t, err)
	require.Len(t, pollers, 1)
	p, _, err := Resolve(pollers[0], map[string]string{"clientId": "cid"})
	require.NoError(t, err)
	auth := p.Properties["auth"].(map[string]any)
	assert.Equal(t, "https://id.example.com/oauth2/token", auth["TokenEndpoint"])
	assert.Equal(t, "cid", auth["ClientId"])
	assert.Equal(t, "SophosEPAlerts_CL", p.Properties["dataType"])
}

// Lookout writes a nested step's placeholder as {{accessToken}}: it is a KQL column, filled
// per record, not a user input.
func TestStepPlaceholderWrittenWithBraces(t *testing.T) {
	tree, err := ParseJSON([]byte(`{"name": "p", "kind": "RestApiPoller", "properties": {
	  "auth": {"type": "None"}, "request": {"apiEndpoint": "https://{{host}}/token"}, "response": {"eventsJsonPaths": [""]},
	  "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "s", "stepPlaceholdersParsingKql": "project token = parse_json(source) | project accessToken = strcat('Bearer ', tostring(token.access_token))"}]},
	  "stepCollectorConfigs": {"s": {"request": {"apiEndpoint": "https://{{host}}/events", "headers": {"Authorization": "{{accessToken}}"}}, "response": {"eventsJsonPaths": ["$.data"]}}}}}`))
	require.NoError(t, err)
	pollers, err := FromTree(tree, "lookout.json")
	require.NoError(t, err)
	p, missing, err := Resolve(pollers[0], map[string]string{"host": "api.example.com"})
	require.NoError(t, err, "accessToken is not asked of the user")
	assert.Empty(t, missing)
	step := p.Properties["stepCollectorConfigs"].(map[string]any)["s"].(map[string]any)
	assert.Equal(t, "$accessToken$", step["request"].(map[string]any)["headers"].(map[string]any)["Authorization"])
	assert.Equal(t, "https://api.example.com/events", step["request"].(map[string]any)["apiEndpoint"])
}

func TestStepColumnNamesDoNotCaptureUserInputsOutsideSteps(t *testing.T) {
	tree, err := ParseJSON([]byte(`{"name": "p", "kind": "RestApiPoller", "properties": {
	  "auth": {"type": "APIKey", "ApiKey": "{{token}}"}, "request": {"apiEndpoint": "https://x.example.com/a"}, "response": {"eventsJsonPaths": ["$"]},
	  "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "s", "stepPlaceholdersParsingKql": "source | project token = tostring(parse_json(data).id)"}]},
	  "stepCollectorConfigs": {"s": {"request": {"apiEndpoint": "https://x.example.com/b/{{token}}"}, "response": {"eventsJsonPaths": ["$"]}}}}}`))
	require.NoError(t, err)
	pollers, err := FromTree(tree, "f.json")
	require.NoError(t, err)
	p, _, err := Resolve(pollers[0], map[string]string{"token": "user-key"})
	require.NoError(t, err)
	assert.Equal(t, "user-key", p.Properties["auth"].(map[string]any)["ApiKey"])
	step := p.Properties["stepCollectorConfigs"].(map[string]any)["s"].(map[string]any)
	assert.Equal(t, "https://x.example.com/b/$token$", step["request"].(map[string]any)["apiEndpoint"])
}
