package connectorfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadUILegacyCorpus(t *testing.T) {
	path := filepath.Join("testdata", "corpus", "Okta_Single_Sign-On__azuredeploy_Okta_native_poller_connector.json")
	pollers, err := Load(path)
	require.NoError(t, err)
	require.Len(t, pollers, 1)
	for _, name := range []string{pollers[0].Name, "", "0", "a-name-only-parameters-resolve"} {
		ui, ok, err := LoadUI(path, name)
		require.NoError(t, err, name)
		require.True(t, ok, name)
		assert.Equal(t, "Okta Single Sign-On (Polling CCP)", ui.Title)
		assert.Equal(t, "Okta", ui.Publisher)
		assert.Equal(t, "OktaSSO_Polling", ui.ID)
		if name != "a-name-only-parameters-resolve" {
			assert.Equal(t, "APIPolling", ui.Kind)
		}
		assert.Contains(t, ui.DescriptionMarkdown, "[Okta Single Sign-On (SSO)](https://www.okta.com/products/single-sign-on/)")
		assert.Equal(t, []string{"OktaNativePoller_CL"}, ui.DataTypes, "{{graphQueriesTableName}} is replaced")
		require.Len(t, ui.SampleQueries, 2)
		assert.Equal(t, "Top 10 Active Applications", ui.SampleQueries[0].Description)
		assert.Contains(t, ui.SampleQueries[0].Query, "OktaNativePoller_CL \n| mv-expand")
		assert.Equal(t, []Prerequisite{{Name: "Workspace", Description: "read and write permissions are required."}}, ui.Prerequisites)
		assert.Equal(t, []Instruction{{Title: "Connect OktaSSO", Description: "Please insert your APIKey"}}, ui.Instructions)
	}
}

func TestLoadUICustomPrerequisites(t *testing.T) {
	path := filepath.Join("testdata", "corpus", "Island__IslandAdminAPIConnector.json")
	ui, ok, err := LoadUI(path, "")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "Island", ui.Publisher)
	assert.Contains(t, ui.Prerequisites, Prerequisite{Name: "Island API Key", Description: "An Island API key is required."})
}

func TestLoadUINoUIConfig(t *testing.T) {
	path := filepath.Join("testdata", "corpus", "1Password__1Password_PollingConfig.json")
	pollers, err := Load(path)
	require.NoError(t, err)
	ui, ok, err := LoadUI(path, pollers[0].Name)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Empty(t, ui.Title)
	assert.Equal(t, "RestApiPoller", ui.Kind, "the kind is known without a UI")

	_, _, err = LoadUI(filepath.Join(t.TempDir(), "missing.json"), "")
	assert.Error(t, err)
}

// A solution template: two definitions beside two pollers; each poller gets the definition its
// connectorDefinitionName names, whatever the order.
func TestLoadUIDefinitionResource(t *testing.T) {
	doc := `{"$schema": "x", "contentVersion": "1.0.0.0", "resources": [
	 {"type": "Microsoft.OperationalInsights/workspaces/providers/dataConnectorDefinitions", "name": "ws/Microsoft.SecurityInsights/DefB", "kind": "Customizable",
	  "properties": {"connectorUiConfig": {"id": "DefB", "title": "B title", "publisher": "B pub",
	   "descriptionMarkdown": "B", "dataTypes": [{"name": "B_CL"}], "instructionSteps": [{"title": "Outer", "description": "o", "innerSteps": [{"title": "Inner", "description": "i"}]}]}}},
	 {"type": "Microsoft.OperationalInsights/workspaces/providers/dataConnectorDefinitions", "name": "ws/Microsoft.SecurityInsights/DefA", "kind": "Customizable",
	  "properties": {"connectorUiConfig": {"id": "DefA", "title": "A title", "publisher": "A pub"}}},
	 {"type": "Microsoft.OperationalInsights/workspaces/providers/dataConnectors", "name": "ws/Microsoft.SecurityInsights/pollA", "kind": "RestApiPoller",
	  "properties": {"connectorDefinitionName": "DefA", "auth": {"type": "None"}, "request": {"apiEndpoint": "https://a"}, "response": {"eventsJsonPaths": ["$"]}}},
	 {"type": "Microsoft.OperationalInsights/workspaces/providers/dataConnectors", "name": "ws/Microsoft.SecurityInsights/pollB", "kind": "RestApiPoller",
	  "properties": {"connectorDefinitionName": "defb", "auth": {"type": "None"}, "request": {"apiEndpoint": "https://b"}, "response": {"eventsJsonPaths": ["$"]}}}
	]}`
	path := filepath.Join(t.TempDir(), "solution.json")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	ui, ok, err := LoadUI(path, "pollA")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "A title", ui.Title)
	assert.Equal(t, "RestApiPoller", ui.Kind)
	ui, ok, err = LoadUI(path, "pollB")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "B pub", ui.Publisher)
	assert.Equal(t, []string{"B_CL"}, ui.DataTypes)
	assert.Equal(t, []Instruction{{Title: "Outer", Description: "o"}, {Title: "Inner", Description: "i", Depth: 1}}, ui.Instructions)
	_, _, err = LoadUI(path, "nope")
	assert.ErrorContains(t, err, `no poller "nope"`, "two definitions: an unknown poller is not guessed")
}
