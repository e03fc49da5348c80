package nested

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
)

var corpusNested = map[string]int{ // file -> nested pollers expected in it
	"BigID__BigIDDSPMLogs_PollerConfig.json":                                                1,
	"Cisco_Meraki_Events_via_REST_API__CiscoMeraki_PollerConfig.json":                       2,
	"CrowdStrike_Falcon_Endpoint_Protection__CrowdStrikeAPI_multiconfig_PollingConfig.json": 2,
	"Salesforce_Service_Cloud__SalesforceServiceCloud_PollingConfig.json":                   1,
}

// TestCorpusNested loads every nested poller of the corpus the way the receiver will:
// Load, FillDummies, Validate, the parent definition from ParentProps, then New.
func TestCorpusNested(t *testing.T) {
	for file, want := range corpusNested {
		t.Run(file, func(t *testing.T) {
			ps, err := connectorfile.Load(filepath.Join("..", "connectorfile", "testdata", "corpus", file))
			require.NoError(t, err)
			found := 0
			for _, p := range ps {
				r, _, err := connectorfile.FillDummies(p, nil)
				require.NoError(t, err)
				if !Present(r.Properties) {
					continue
				}
				found++
				require.NoError(t, Validate(r.Properties), p.Name)

				full, err := definition.Parse(r.Properties, file)
				require.NoError(t, err)
				assert.Contains(t, strings.Join(full.Unsupported, ";"), "nested steps", "Parse still refuses the raw object")
				parent, err := definition.Parse(ParentProps(r.Properties), file)
				require.NoError(t, err, p.Name)
				require.NoError(t, parent.Problems(), p.Name)
				for _, w := range parent.Warnings {
					assert.NotContains(t, w, "stepInfo")
					assert.NotContains(t, w, "shouldJoinNestedData")
				}
				_, err = poller.New(parent, poller.Options{})
				require.NoError(t, err, p.Name)

				run, err := New(r.Properties, nil, Options{Path: file})
				require.NoError(t, err, p.Name)
				ws := strings.Join(run.Warnings(), "\n")
				t.Logf("%s warnings:\n%s", p.Name, ws)
				if strings.HasPrefix(file, "CrowdStrike") && strings.Contains(fmtProps(r.Properties), "Cases_details") {
					assert.Contains(t, ws, `"case_details" matches stepCollectorConfigs key "Cases_details" only approximately`)
				}
				if strings.HasPrefix(file, "BigID") {
					assert.Contains(t, ws, "joinedDataStepName: has no effect on the root poller")
				}
			}
			assert.Equal(t, want, found)
		})
	}
}

func fmtProps(m map[string]any) string {
	var b strings.Builder
	for k := range m {
		b.WriteString(k)
	}
	if s, ok := m["stepCollectorConfigs"].(map[string]any); ok {
		for k := range s {
			b.WriteString(" " + k)
		}
	}
	return b.String()
}
