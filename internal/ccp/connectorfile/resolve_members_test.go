package connectorfile

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Palo Alto Cortex XDR (corpus) reads parameters('dcrConfig').dataCollectionEndpoint and
// parameters('dcrConfig').dataCollectionRuleImmutableId. An object given without one of the
// members it reads is a missing input named "dcrConfig.member", not an evaluation error.
func TestObjectParameterMissingMember(t *testing.T) {
	pollers, err := Load(filepath.Join("testdata", "corpus", "Palo_Alto_Cortex_XDR_CCP__PollingConfig.json"))
	require.NoError(t, err)
	params := map[string]string{
		"dcrConfig": `{"dataCollectionEndpoint": "https://dce.example.com"}`,
		"apitoken":  "t", "apiUrl": "https://api.example.com", "apiId": "1",
	}
	_, missing, err := Resolve(pollers[0], params)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `parameter "dcrConfig.dataCollectionRuleImmutableId"`)
	require.Len(t, missing, 1)
	assert.Equal(t, "dcrConfig.dataCollectionRuleImmutableId", missing[0].Name)
	assert.Contains(t, missing[0].Path, "dcrConfig.dataCollectionRuleImmutableId")

	resolved, missing, err := FillDummies(pollers[0], params)
	require.NoError(t, err)
	require.Len(t, missing, 1)
	dcr := resolved.Properties["dcrConfig"].(map[string]any)
	assert.Equal(t, "https://dce.example.com", dcr["dataCollectionEndpoint"])
	assert.Equal(t, missing[0].Value, dcr["dataCollectionRuleImmutableId"])

	params["dcrConfig.dataCollectionRuleImmutableId"] = "dcr-1" // the member on its own key
	resolved, missing, err = Resolve(pollers[0], params)
	require.NoError(t, err)
	assert.Empty(t, missing)
	assert.Equal(t, "dcr-1", resolved.Properties["dcrConfig"].(map[string]any)["dataCollectionRuleImmutableId"])
}

// An object parameter with no value gets a dummy holding the members the file reads.
func TestObjectParameterDummyHasTheMembersRead(t *testing.T) {
	tree, err := ParseJSON([]byte(`{"parameters": {"routing": {"type": "object"}},
	  "resources": [{"type": "Microsoft.SecurityInsights/dataConnectors", "name": "p", "kind": "RestApiPoller",
	    "properties": {"auth": {"type": "None"}, "response": {"eventsJsonPaths": ["$"]},
	      "request": {"apiEndpoint": "[concat('https://api.example.com/', parameters('routing').region, '/', parameters('routing')['tenant'])]"}}}]}`))
	require.NoError(t, err)
	pollers, err := FromTree(tree, "routing.json")
	require.NoError(t, err)
	require.Len(t, pollers, 1)
	resolved, missing, err := FillDummies(pollers[0], nil)
	require.NoError(t, err)
	require.Len(t, missing, 1)
	assert.Equal(t, "routing", missing[0].Name)
	assert.Equal(t, map[string]any{"region": "dummy-region", "tenant": "dummy-tenant"}, missing[0].Value)
	assert.Equal(t, "https://api.example.com/dummy-region/dummy-tenant", resolved.Properties["request"].(map[string]any)["apiEndpoint"])
}

func TestObjectMembersInFileOrder(t *testing.T) {
	pollers, err := Load(filepath.Join("testdata", "corpus", "Palo_Alto_Cortex_XDR_CCP__PollingConfig.json"))
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"dcrconfig": {"dataCollectionEndpoint", "dataCollectionRuleImmutableId"}}, ObjectMembers(pollers[0]))
}
