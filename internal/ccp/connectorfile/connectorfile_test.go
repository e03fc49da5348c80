package connectorfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corpusDir prefers the committed copy; the shared directory is the
// fallback. Only an absent corpus skips.
func corpusDir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"testdata/corpus", "../../../../shared/ccp-corpus"} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	// The corpus is committed: its absence is a broken checkout, not a reason to skip.
	t.Fatal("CCP corpus directory absent: internal/ccp/connectorfile/testdata/corpus is part of the repository")
	return ""
}

type want struct {
	n         int
	kind      string
	legacy    bool
	condition int // pollers carrying a resource condition
}

// Expected pollers per corpus file, from INDEX.md's n/Kind columns and the
// files themselves (condition counts: Meraki 7, Salesforce MC 4,
// Salesforce SC 1, Vectra 3).
var corpusWant = map[string]want{
	"1Password__1Password_PollingConfig.json":                                                    {3, "RestApiPoller", false, 0},
	"Alibaba_Cloud_ActionTrail__AliCloudActionTrail_PollingConfig.json":                          {1, "RestApiPoller", false, 0},
	"Anvilogic__Anvilogic_PollingConfig.json":                                                    {1, "RestApiPoller", false, 0},
	"AtlassianConfluenceAudit__AtlassianConfluenceAudit_PollingConfig.json":                      {1, "RestApiPoller", false, 0},
	"AtlassianConfluenceAudit__ConfluenceAudit_PollingConfig.json":                               {1, "RestApiPoller", false, 0},
	"AtlassianJiraAudit__JiraAudit_PollingConfig.json":                                           {1, "RestApiPoller", false, 0},
	"AtlassianJiraAudit__azuredeploy_Jira_native_poller_connector.json":                          {1, "APIPolling", true, 0},
	"Auth0__PollingConfig.json":                                                                  {1, "RestApiPoller", false, 0},
	"AzureDevOpsAuditing__AzureDevOpsAuditLogs_PollingConfig.json":                               {1, "RestApiPoller", false, 0},
	"BigID__BigIDDSPMLogs_PollerConfig.json":                                                     {1, "RestApiPoller", false, 0},
	"Box__BoxEvents_DataConnectorPoller.json":                                                    {1, "RestApiPoller", false, 0},
	"Checkpoint_Email_Security__CheckPointEmailSecurity_PollerConfig.json":                       {4, "RestApiPoller", false, 0},
	"CiscoDuoSecurity__CiscoDuoAuth_PollingConfig.json":                                          {1, "RestApiPoller", false, 0},
	"Cisco_Meraki_Events_via_REST_API__CiscoMeraki_PollerConfig.json":                            {7, "RestApiPoller", false, 7},
	"CrowdStrike_Falcon_Endpoint_Protection__CrowdStrikeAPI_multiconfig_PollingConfig.json":      {5, "RestApiPoller", false, 0},
	"CrowdStrike_Falcon_Endpoint_Protection__CrowdStrikeRTRAudit_multiconfig_PollingConfig.json": {1, "RestApiPoller", false, 0},
	"Dragos__dataPoller.json":                                                                    {1, "RestApiPoller", false, 0},
	"GitHub__GitHubAuditLogs_CCP_GitHubAuditLogs_PollerConfig.json":                              {1, "RestApiPoller", false, 0},
	"GitHub__GitHubAuditLogs_PollerConfig.json":                                                  {1, "RestApiPoller", false, 0},
	"GitHub__azuredeploy_GitHub_native_poller_connector.json":                                    {1, "APIPolling", true, 0},
	"GoogleWorkspaceReports__GoogleWorkspaceReports_PollingConfig.excerpt.json":                  {1, "RestApiPoller", false, 0},
	"Island__IslandAdminAPIConnector.json":                                                       {1, "APIPolling", true, 0},
	"Island__IslandV2_PollerConfig.json":                                                         {1, "RestApiPoller", false, 0},
	"LastPass__LastPassAPIConnector.json":                                                        {1, "APIPolling", true, 0},
	"Okta_Single_Sign-On__OktaSSOv2_PollingConfig.json":                                          {1, "RestApiPoller", false, 0},
	"Okta_Single_Sign-On__azuredeploy_Okta_native_poller_connector.json":                         {1, "APIPolling", true, 0},
	"Oracle_Cloud_Infrastructure__OCI_DataConnector_PollingConfig.json":                          {1, "OCI", false, 0},
	"PaloAltoPrismaCloud__PaloAltoPrismaCloudCSPMLog_PollingConfig.json":                         {2, "RestApiPoller", false, 0},
	"Palo_Alto_Cortex_XDR_CCP__PollingConfig.json":                                               {5, "RestApiPoller", false, 0},
	"ProofPointTap__ProofpointTAP_pollingconfig.json":                                            {4, "RestApiPoller", false, 0},
	"ProofPointTap__azuredeploy_ProofpointTAP_native_poller_connector.json":                      {1, "APIPolling", true, 0},
	"Proofpoint_On_demand(POD)_Email_Security__ProofpointPOD_PollingConfig.json":                 {2, "WebSocket", false, 0},
	"Salesforce_Service_Cloud__SalesforceMarketingCloud_PollerConfig.json":                       {4, "RestApiPoller", false, 4},
	"Salesforce_Service_Cloud__SalesforceServiceCloud_PollingConfig.json":                        {1, "RestApiPoller", false, 1},
	"SentinelOne__SentinelOneV2_PollerConfig.json":                                               {7, "RestApiPoller", false, 0},
	"SentinelOne__SentinelOne_ccp_PollerConfig.json":                                             {7, "RestApiPoller", false, 0},
	"SlackAudit__SlackAuditLog_PollingConfig.json":                                               {1, "RestApiPoller", false, 0},
	"SlackAudit__azuredeploy_Slack_native_poller_connector.json":                                 {1, "APIPolling", true, 0},
	"Snowflake__SnowflakeLogs_PollingConfig.excerpt.json":                                        {1, "RestApiPoller", false, 0},
	"Vectra_XDR__VectraRUX_PollingConfig.json":                                                   {3, "RestApiPoller", false, 3},
	"Workday__Workday_PollingConfig.json":                                                        {1, "RestApiPoller", false, 0},
}

func corpusFiles(t *testing.T) []string {
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 41)
	return files
}

func TestCorpusLoad(t *testing.T) {
	total := 0
	kinds := map[string]int{}
	for _, f := range corpusFiles(t) {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			w, ok := corpusWant[base]
			require.True(t, ok, "no expectation for %s", base)
			ps, err := Load(f)
			require.NoError(t, err)
			require.Len(t, ps, w.n)
			conds := 0
			for i, p := range ps {
				assert.Equal(t, i, p.Index)
				assert.Equal(t, w.kind, p.Kind)
				assert.Equal(t, w.legacy, p.Legacy)
				assert.Equal(t, f, p.Source)
				assert.NotEmpty(t, p.Name)
				assert.NotNil(t, p.Properties)
				if p.ConditionExpr != "" {
					conds++
				}
				if p.Legacy {
					_, hasReq := get(p.Properties, "request")
					assert.True(t, hasReq, "legacy Properties are the pollingConfig")
				}
				kinds[p.Kind]++
			}
			assert.Equal(t, w.condition, conds)
			total += len(ps)
		})
	}
	assert.Equal(t, 82, total)
	assert.Equal(t, map[string]int{"RestApiPoller": 72, "APIPolling": 7, "WebSocket": 2, "OCI": 1}, kinds)
}

// leftovers returns the JSON paths of strings still holding {{ or [[.
func leftovers(v any, path string, out *[]string) {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, "{{") || strings.Contains(t, "[[") {
			*out = append(*out, path+"="+t)
		}
	case []any:
		for i, x := range t {
			leftovers(x, fmt.Sprintf("%s[%d]", path, i), out)
		}
	case map[string]any:
		for k, x := range t {
			leftovers(x, path+"."+k, out)
		}
	}
}

func TestCorpusFillDummies(t *testing.T) {
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ps, err := Load(f)
			require.NoError(t, err)
			for _, p := range ps {
				orig := fmt.Sprint(p.Properties)
				r, filled, err := FillDummies(p, nil)
				require.NoError(t, err, p.Name)
				var left []string
				leftovers(r.Properties, "properties", &left)
				assert.Empty(t, left, p.Name)
				assert.NotContains(t, r.Name, "[[")
				assert.NotContains(t, r.Name, "{{")
				for _, m := range filled {
					assert.NotEmpty(t, m.Name)
					assert.NotNil(t, m.Value)
				}
				assert.Equal(t, orig, fmt.Sprint(p.Properties), "input poller not modified")

				// strict mode fails naming every input that FillDummies filled
				if len(filled) > 0 {
					_, miss, err := Resolve(p, nil)
					require.Error(t, err)
					assert.Len(t, miss, len(filled))
					for _, m := range filled {
						assert.Contains(t, err.Error(), m.Name)
					}
					// supplying the dummies as parameters resolves strictly
					params := map[string]string{}
					for _, m := range filled {
						if s, ok := m.Value.(string); ok {
							params[m.Name] = s
						}
					}
					if allStrings(filled) {
						r2, miss2, err := Resolve(p, params)
						require.NoError(t, err)
						assert.Empty(t, miss2)
						assert.Equal(t, r.Condition, r2.Condition)
					}
				}
			}
		})
	}
}

func allStrings(ms []Missing) bool {
	for _, m := range ms {
		if _, ok := m.Value.(string); !ok {
			return false
		}
	}
	return true
}

func loadOne(t *testing.T, path string, idx int) Poller {
	t.Helper()
	ps, err := Load(path)
	require.NoError(t, err)
	require.Greater(t, len(ps), idx)
	return ps[idx]
}

func sub(t *testing.T, m map[string]any, keys ...string) any {
	t.Helper()
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		require.True(t, ok, "at %s", k)
		cur, ok = get(mm, k)
		require.True(t, ok, "missing key %s", k)
	}
	return cur
}

func TestMerakiConditions(t *testing.T) {
	dir := corpusDir(t)
	ps, err := Load(filepath.Join(dir, "Cisco_Meraki_Events_via_REST_API__CiscoMeraki_PollerConfig.json"))
	require.NoError(t, err)
	params := map[string]string{
		"workspace": "ws", "organizationId": "123", "apiKey": "k", "apiBaseUrl": "https://api.meraki.com/api/v1",
		"dataCollectionEndpoint": "https://dce", "dataCollectionRuleImmutableId": "dcr-1",
		"selectedDataTypes": `["CiscoMerakiOrganizations","CiscoMerakiNetworkClients"]`,
	}
	enabled := map[string]bool{}
	for _, p := range ps {
		r, _, err := Resolve(p, params)
		require.NoError(t, err)
		enabled[r.Name] = r.Condition
	}
	var on []string
	for n, c := range enabled {
		if c {
			on = append(on, n)
		}
	}
	sort.Strings(on)
	require.Len(t, on, 2)
	assert.True(t, strings.HasPrefix(on[0], "CiscoMerakiNetworkClients"), on[0])
	assert.True(t, strings.HasPrefix(on[1], "CiscoMerakiOrganizations"), on[1])
}

func TestSalesforceAlternatives(t *testing.T) {
	dir := corpusDir(t)
	ps, err := Load(filepath.Join(dir, "Salesforce_Service_Cloud__SalesforceMarketingCloud_PollerConfig.json"))
	require.NoError(t, err)
	params := map[string]string{
		"workspace": "ws", "friendlyName": "f", "clientId": "id", "clientSecret": "sec",
		"authBaseUrl": "https://auth.example", "salesforceBaseUrl": "https://rest.example",
		"queryWindow": "15", "selectedDataTypes": "AuditEvents", "packageType": "legacy",
		"dataCollectionEndpoint": "https://dce", "dataCollectionRuleImmutableId": "dcr-1",
	}
	var active []Poller
	for _, p := range ps {
		r, _, err := Resolve(p, params)
		require.NoError(t, err)
		if r.Condition {
			active = append(active, r)
		}
	}
	require.Len(t, active, 1)
	// queryWindow given as a scalar works where the file indexes [0]
	assert.EqualValues(t, 15, sub(t, active[0].Properties, "request", "queryWindowInMin"))
	assert.Equal(t, "https://rest.example/data/v1/audit/auditEvents", sub(t, active[0].Properties, "request", "apiEndpoint"))
}

func TestDragosQuoteEscapes(t *testing.T) {
	dir := corpusDir(t)
	p := loadOne(t, filepath.Join(dir, "Dragos__dataPoller.json"), 0)
	r, _, err := Resolve(p, map[string]string{
		"minSeverity": "3", "maxSeverity": "9", "username": "u", "password": "p",
		"dragosSitestoreHostname": "dragos.example",
	})
	require.NoError(t, err)
	found := false
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, "type!='Baseline'") {
				found = true
				assert.Contains(t, x, "createdAt=ge='{_QueryWindowStartTime}'")
				assert.Contains(t, x, "severity>=3;severity<=9")
			}
		case map[string]any:
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(r.Properties)
	assert.True(t, found)
}

func TestSentinelOneDcrConfigFromFields(t *testing.T) {
	dir := corpusDir(t)
	p := loadOne(t, filepath.Join(dir, "SentinelOne__SentinelOne_ccp_PollerConfig.json"), 0)
	r, _, err := Resolve(p, map[string]string{
		"apitoken": "t", "managementUrl": "https://s1.example",
		"dataCollectionEndpoint": "https://dce.example", "dataCollectionRuleImmutableId": "dcr-9",
	})
	require.NoError(t, err)
	assert.Equal(t, "https://dce.example", sub(t, r.Properties, "dcrConfig", "dataCollectionEndpoint"))
	assert.Equal(t, "dcr-9", sub(t, r.Properties, "dcrConfig", "dataCollectionRuleImmutableId"))

	// dotted keys build the object too
	r, _, err = Resolve(p, map[string]string{
		"apitoken": "t", "managementUrl": "https://s1.example",
		"dcrConfig.dataCollectionEndpoint": "https://dce2", "dcrConfig.dataCollectionRuleImmutableId": "dcr-2",
	})
	require.NoError(t, err)
	assert.Equal(t, "https://dce2", sub(t, r.Properties, "dcrConfig", "dataCollectionEndpoint"))
}

func TestStrictErrorsNameThings(t *testing.T) {
	dir := corpusDir(t)
	p := loadOne(t, filepath.Join(dir, "1Password__1Password_PollingConfig.json"), 0)
	_, miss, err := Resolve(p, map[string]string{"ApiToken": "x", "dataCollectionEndpoint": "d", "dataCollectionRuleImmutableId": "r"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"BaseUrl"`)
	assert.Contains(t, err.Error(), "1Password__1Password_PollingConfig.json")
	require.Len(t, miss, 1)
	assert.Equal(t, "BaseUrl", miss[0].Name)
	assert.Equal(t, "placeholder", miss[0].Kind)
	assert.Contains(t, miss[0].Path, "properties.request.apiEndpoint")

	// names are case-insensitive
	r, _, err := Resolve(p, map[string]string{"apitoken": "x", "DATACOLLECTIONENDPOINT": "d", "dataCollectionRuleImmutableId": "r", "baseurl": "https://events.1password.com"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(sub(t, r.Properties, "request", "apiEndpoint").(string), "https://events.1password.com/"))

	// an ARM parameter without value names the parameter
	p = loadOne(t, filepath.Join(dir, "Auth0__PollingConfig.json"), 0)
	_, miss, err = Resolve(p, map[string]string{"ClientId": "a", "ClientSecret": "b", "dataCollectionEndpoint": "d", "dataCollectionRuleImmutableId": "r"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `parameter "Domain"`)
	require.Len(t, miss, 1)
	assert.Equal(t, "parameter", miss[0].Kind)
	assert.True(t, strings.HasPrefix(miss[0].Path, "properties."), miss[0].Path)
}

func TestWalkthroughTemplate(t *testing.T) {
	ps, err := Load("testdata/walkthrough_template.json")
	require.NoError(t, err)
	require.Len(t, ps, 1, "the dataConnectorDefinitions resource is UI, not a poller")
	p := ps[0]
	assert.Equal(t, "APIPolling", p.Kind)
	assert.True(t, p.Legacy)
	assert.Equal(t, "SecurityAuditProPoller", p.Name)
	// UI inputs come from the dataConnectorDefinitions resource in the same file
	require.Len(t, p.UIParams, 2)
	assert.Equal(t, UIParam{Name: "clientId", Label: "Client ID", Placeholder: "Enter your OAuth2 Client ID", Kind: "textbox"}, p.UIParams[0])
	assert.Equal(t, UIParam{Name: "clientSecret", Label: "Client Secret", Placeholder: "Enter your OAuth2 Client Secret", Kind: "textbox", Password: true}, p.UIParams[1])

	_, miss, err := Resolve(p, map[string]string{"workspace": "law-sentinel-prod"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Client Secret", "missing inputs are named by label")
	names := []string{}
	for _, m := range miss {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	assert.Equal(t, []string{"clientId", "clientSecret", "dceUri", "dcrImmutableId"}, names)

	r, miss, err := Resolve(p, map[string]string{
		"workspace": "law-sentinel-prod", "dceUri": "https://dce-sentinel-ccp-xxxx.eastus.ingest.monitor.azure.com",
		"dcrImmutableId": "dcr-xxxxxxxxxxxxxxx", "clientId": "my-id", "clientSecret": "my-secret",
	})
	require.NoError(t, err)
	assert.Empty(t, miss)
	assert.True(t, r.Condition)
	assert.Equal(t, "my-id", sub(t, r.Properties, "auth", "clientId"))
	assert.Equal(t, "my-secret", sub(t, r.Properties, "auth", "clientSecret"))
	assert.Equal(t, "OAuth2", sub(t, r.Properties, "auth", "type"))
	assert.Equal(t, "https://dce-sentinel-ccp-xxxx.eastus.ingest.monitor.azure.com", sub(t, r.Properties, "dcrConfig", "dataCollectionEndpoint"))
	assert.Equal(t, "dcr-xxxxxxxxxxxxxxx", sub(t, r.Properties, "dcrConfig", "dataCollectionRuleImmutableId"))
	assert.Equal(t, "{datetime:yyyy-MM-ddTHH:mm:ssZ}", sub(t, r.Properties, "request", "queryParameters", "start_time"))
	var left []string
	leftovers(r.Properties, "properties", &left)
	assert.Empty(t, left)
}

func TestReferenceSamplePollingConfig(t *testing.T) {
	for _, f := range []string{"testdata/reference_apipolling.json", "testdata/reference_pollingconfig.json"} {
		t.Run(f, func(t *testing.T) {
			ps, err := Load(f)
			require.NoError(t, err)
			require.Len(t, ps, 1)
			p := ps[0]
			assert.Equal(t, "APIPolling", p.Kind)
			assert.True(t, p.Legacy)
			assert.Equal(t, "APIPolling-0", p.Name)
			assert.Equal(t, "APIKey", sub(t, p.Properties, "auth", "authType"))

			_, miss, err := Resolve(p, nil)
			require.Error(t, err)
			require.Len(t, miss, 1)
			assert.Equal(t, "placeHolder1", miss[0].Name)

			// the parameter may be given by name, by placeholder or (with a
			// UI) by display text
			keys := []string{"placeHolder1", "{{placeHolder1}}"}
			if strings.Contains(f, "apipolling") {
				keys = append(keys, "Organization Name")
				require.NotEmpty(t, p.UIParams)
				var ph *UIParam
				for i := range p.UIParams {
					if p.UIParams[i].Kind == "placeholder" {
						ph = &p.UIParams[i]
					}
				}
				require.NotNil(t, ph)
				assert.Equal(t, "placeHolder1", ph.Name)
				assert.Equal(t, "Organization Name", ph.Label)
				assert.Equal(t, "apiEndpoint", ph.RequestObjectKey)
				assert.Equal(t, "{{placeHolder1}}", ph.PlaceHolderName)
				assert.Contains(t, err.Error(), "Organization Name")
			}
			for _, k := range keys {
				r, miss, err := Resolve(p, map[string]string{k: "contoso"})
				require.NoError(t, err, k)
				assert.Empty(t, miss)
				assert.Equal(t, "https://api.github.com/../contoso/audit-log", sub(t, r.Properties, "request", "apiEndpoint"))
				assert.Equal(t, "created:{_QueryWindowStartTime}..{_QueryWindowEndTime}", sub(t, r.Properties, "request", "queryParameters", "phrase"))
			}
		})
	}
}

func TestLegacyPlaceholderByKeyPath(t *testing.T) {
	doc := `{"kind":"APIPolling","properties":{
	  "connectorUiConfig":{"instructionSteps":[{"instructions":[{"type":"APIKey","parameters":{
	    "userRequestPlaceHoldersInput":[
	      {"displayText":"Org","requestObjectKey":"apiEndpoint","placeHolderName":"__ORG__"},
	      {"displayText":"Test","pollingKeyPaths":["$.request.queryParameters.test1"],"placeHolderName":"<T>"}]}}]}]},
	  "pollingConfig":{"auth":{"authType":"APIKey"},"request":{"apiEndpoint":"https://x/__ORG__/y",
	    "queryParameters":{"test1":"a-<T>","other":"keep-<T>"},"headers":{"h":"__ORG__"}},
	    "response":{"eventsJsonPaths":["$"]}}}}`
	v, err := ParseJSON([]byte(doc))
	require.NoError(t, err)
	ps, err := FromTree(v, "inline")
	require.NoError(t, err)
	require.Len(t, ps, 1)
	r, _, err := Resolve(ps[0], map[string]string{"__ORG__": "acme", "<T>": "tv"})
	require.NoError(t, err)
	assert.Equal(t, "https://x/acme/y", sub(t, r.Properties, "request", "apiEndpoint"))
	assert.Equal(t, "__ORG__", sub(t, r.Properties, "request", "headers", "h"), "only the addressed string")
	assert.Equal(t, "a-tv", sub(t, r.Properties, "request", "queryParameters", "test1"))
	assert.Equal(t, "keep-<T>", sub(t, r.Properties, "request", "queryParameters", "other"))
	// the loaded poller is unchanged
	assert.Equal(t, "https://x/__ORG__/y", sub(t, ps[0].Properties, "request", "apiEndpoint"))
}

func TestParamsFromConnectBody(t *testing.T) {
	body := []byte(`{"kind":"APIKey","apiKey":"secret-key",
	  "requestConfigUserInputValues":[
	    {"displayText":"Organization Name","placeHolderName":"{{placeHolder1}}","placeHolderValue":"contoso","pollingKeyPaths":["$.request.apiEndpoint"]}]}`)
	params, err := ParamsFromConnectBody(body)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"apiKey": "secret-key", "placeHolder1": "contoso"}, params)

	p := loadOne(t, "testdata/reference_apipolling.json", 0)
	r, _, err := Resolve(p, params)
	require.NoError(t, err)
	assert.Equal(t, "https://api.github.com/../contoso/audit-log", sub(t, r.Properties, "request", "apiEndpoint"))

	wrapped, err := ParamsFromConnectBody([]byte(`{"properties":{"kind":"Basic","userName":"u","password":"p"}}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"userName": "u", "password": "p"}, wrapped)

	_, err = ParamsFromConnectBody([]byte(`[1]`))
	require.Error(t, err)
	_, err = ParamsFromConnectBody([]byte(`{"requestConfigUserInputValues":[{"placeHolderValue":"x"}]}`))
	require.ErrorContains(t, err, "placeHolderName")
}

func TestShapes(t *testing.T) {
	cases := map[string]struct {
		doc   string
		kinds []string
		names []string
	}{
		"single resource": {`{"name":"a","kind":"RestApiPoller","properties":{"request":{}}}`, []string{"RestApiPoller"}, []string{"a"}},
		"array": {`[{"name":"a","kind":"RestApiPoller","properties":{}},{"KIND":"RestApiPoller","Properties":{}}]`,
			[]string{"RestApiPoller", "RestApiPoller"}, []string{"a", "RestApiPoller-1"}},
		"bare properties":        {`{"auth":{"type":"Basic"},"request":{"apiEndpoint":"x"},"response":{}}`, []string{"RestApiPoller"}, []string{"RestApiPoller-0"}},
		"bare legacy properties": {`{"auth":{"authType":"Basic"},"request":{"apiEndpoint":"x"}}`, []string{"APIPolling"}, []string{"APIPolling-0"}},
		"properties wrapper":     {`{"properties":{"pollingConfig":{"request":{}}}}`, []string{"APIPolling"}, []string{"APIPolling-0"}},
		"nested deployment": {`{"$schema":"x","parameters":{"ws":{"type":"string","defaultValue":"outer"}},"resources":[
			{"type":"Microsoft.Resources/deployments","name":"d","properties":{"mode":"Incremental",
			 "parameters":{"inner":{"value":"[parameters('ws')]"}},
			 "template":{"$schema":"x","parameters":{"inner":{"type":"string"}},"variables":{"v":"[concat(parameters('inner'),'/Microsoft.SecurityInsights/conn')]"},
			  "resources":[{"type":"Microsoft.OperationalInsights/workspaces/providers/dataConnectors","name":"[variables('v')]","kind":"RestApiPoller","properties":{"x":"[parameters('inner')]"}}]}}}]}`,
			[]string{"RestApiPoller"}, []string{"conn"}},
		"solution contentTemplates": {`{"$schema":"x","contentVersion":"1","parameters":{},"resources":[
			{"type":"Microsoft.OperationalInsights/workspaces/providers/contentTemplates","name":"t","properties":{"contentKind":"DataConnector",
			 "mainTemplate":{"$schema":"x","contentVersion":"1","parameters":{"workspace":{"type":"string","defaultValue":"w"}},"variables":{},
			  "resources":[
			   {"type":"Microsoft.OperationalInsights/workspaces/providers/dataConnectorDefinitions","name":"def","kind":"Customizable","properties":{"connectorUiConfig":{"instructionSteps":[{"instructions":[{"type":"Textbox","parameters":{"name":"apiKey","label":"API key","type":"password"}}]}]}}},
			   {"type":"Microsoft.OperationalInsights/workspaces/providers/metadata","name":"m","properties":{"kind":"DataConnector"}},
			   {"type":"Microsoft.OperationalInsights/workspaces/providers/dataConnectors","name":"[[concat(parameters('workspace'),'/Microsoft.SecurityInsights/','p1')]","kind":"RestApiPoller","properties":{"auth":{"apiKey":"[[parameters('apiKey')]"}}}]}}},
			{"type":"Microsoft.OperationalInsights/workspaces/providers/contentPackages","name":"pkg","kind":"Solution","properties":{"version":"1"}}]}`,
			[]string{"RestApiPoller"}, []string{"p1"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			v, err := ParseJSON([]byte(c.doc))
			require.NoError(t, err)
			ps, err := FromTree(v, name)
			require.NoError(t, err)
			var kinds, names []string
			for _, p := range ps {
				kinds = append(kinds, p.Kind)
				names = append(names, p.Name)
			}
			assert.Equal(t, c.kinds, kinds)
			assert.Equal(t, c.names, names)
		})
	}

	// the deployment passes its parameter down; the definition's textbox is
	// the poller's UI
	v, _ := ParseJSON([]byte(cases["nested deployment"].doc))
	ps, _ := FromTree(v, "x")
	r, _, err := Resolve(ps[0], nil)
	require.NoError(t, err)
	assert.Equal(t, "outer", r.Properties["x"])

	v, _ = ParseJSON([]byte(cases["solution contentTemplates"].doc))
	ps, _ = FromTree(v, "x")
	require.Len(t, ps[0].UIParams, 1)
	assert.Equal(t, UIParam{Name: "apiKey", Label: "API key", Kind: "textbox", Password: true}, ps[0].UIParams[0])
	_, _, err = Resolve(ps[0], nil)
	require.ErrorContains(t, err, "API key")
	r, _, err = Resolve(ps[0], map[string]string{"apikey": "k"})
	require.NoError(t, err)
	assert.Equal(t, "k", sub(t, r.Properties, "auth", "apiKey"))

	_, err = FromTree(map[string]any{"foo": "bar"}, "empty.json")
	require.ErrorContains(t, err, "empty.json")
}

func TestLenientJSON(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "c.json")
	require.NoError(t, os.WriteFile(f, []byte("\xef\xbb\xbf[{\"kind\":\"RestApiPoller\",\"properties\":{\"a\":\"tab\there\",},},]"), 0o600))
	ps, err := Load(f)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, "tab\there", ps[0].Properties["a"])

	require.NoError(t, os.WriteFile(f, []byte("{\n  \"kind\": \"x\",\n  \"properties\": {\n    \"a\": ]\n}"), 0o600))
	_, err = Load(f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), f)
	assert.Contains(t, err.Error(), "line 4")
}

func TestResolveErrorHasFileAndPath(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "c.json")
	require.NoError(t, os.WriteFile(f, []byte(`[{"kind":"RestApiPoller","properties":{"request":{"apiEndpoint":"[[concat(parameters('a'), 1"}}},
	  {"kind":"RestApiPoller","properties":{"request":{"apiEndpoint":"[[unknownFn('a')]"}}}]`), 0o600))
	ps, err := Load(f)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	// not a whole expression: one '[' removed, as ARM does
	r, _, err := Resolve(ps[0], nil)
	require.NoError(t, err)
	assert.Equal(t, "[concat(parameters('a'), 1", sub(t, r.Properties, "request", "apiEndpoint"))

	_, _, err = Resolve(ps[1], nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), f)
	assert.Contains(t, err.Error(), "[1].properties.request.apiEndpoint")
	assert.Contains(t, err.Error(), "unknownFn")
}

func TestHostileDepth(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	v, err := ParseJSON([]byte(deep))
	if err != nil {
		return // the decoder refused it: fine
	}
	_, err = FromTree(v, "deep.json")
	require.Error(t, err)

	deepUI := map[string]any{"kind": "APIPolling", "properties": map[string]any{"connectorUiConfig": nest(3000), "pollingConfig": map[string]any{"x": nest(3000)}}}
	ps, err := FromTree(deepUI, "ui.json")
	require.NoError(t, err)
	_, _, err = FillDummies(ps[0], nil)
	require.Error(t, err)
}

func nest(n int) any {
	var v any = "{{x}}"
	for i := 0; i < n; i++ {
		v = map[string]any{"a": v}
	}
	return v
}
