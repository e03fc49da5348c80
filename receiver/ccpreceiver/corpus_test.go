package ccpreceiver

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
)

// TestCorpusThroughConfig loads every real connector file of the corpus through the receiver's
// own configuration path (definition + connector + parameters, then Validate), with a dummy
// value for every input the file asks for. HTTP pollers must be accepted; the rest must be
// refused with a message naming the feature, never a panic.
func TestCorpusThroughConfig(t *testing.T) {
	dir := filepath.Join("..", "..", "internal", "ccp", "connectorfile", "testdata", "corpus")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 41, "the committed corpus copy")

	accepted, refused, skipped := 0, map[string]int{}, 0
	var report []string
	for _, file := range files {
		pollers, err := connectorfile.Load(file)
		require.NoError(t, err, file)
		for _, p := range pollers {
			_, missing, err := connectorfile.FillDummies(p, nil)
			require.NoError(t, err, "%s #%d", file, p.Index)
			params := map[string]configopaque.String{}
			for _, m := range missing {
				v, ok := m.Value.(string)
				if !ok {
					b, err := json.Marshal(m.Value) // objects (dcrConfig) are passed as JSON text
					require.NoError(t, err)
					v = string(b)
				}
				params[m.Name] = configopaque.String(v)
			}
			cfg := createDefaultConfig().(*Config)
			cfg.Definition = file
			cfg.Connector = fmt.Sprint(p.Index)
			cfg.Parameters = params
			cfg.Credentials.APIKey = "dummy-key" // legacy APIPolling files carry no credentials
			cfg.Credentials.Username, cfg.Credentials.Password = "u", "p"
			err = cfg.Validate()
			name := filepath.Base(file) + "#" + fmt.Sprint(p.Index)
			switch {
			case err == nil:
				accepted++
				report = append(report, "OK "+name)
			case strings.Contains(err.Error(), "condition that is false"):
				skipped++
			case strings.Contains(err.Error(), "nested steps"):
				refused["nested steps"]++
			case strings.Contains(err.Error(), "not an HTTP poller"):
				refused["non-HTTP kind"]++
			default:
				t.Errorf("%s: unexpected refusal: %v", name, err)
			}
		}
	}
	sort.Strings(report)
	t.Logf("accepted %d, skipped by condition %d, refused %v", accepted, skipped, refused)
	// 82 pollers: OCI 1 + WebSocket 2 are not HTTP pollers; the conditional alternatives whose
	// dummy condition is false are skipped; everything else, nested steps included, is accepted.
	assert.Equal(t, 3, refused["non-HTTP kind"], "OCI and Proofpoint POD's two WebSocket pollers")
	assert.Zero(t, refused["nested steps"], "nested steps run (internal/nested)")
	assert.Equal(t, 15, skipped, "Meraki 7, Salesforce MC 4, Salesforce SC 1, Vectra 3: conditions false with dummy values")
	assert.Equal(t, 82, accepted+skipped+refused["non-HTTP kind"]+refused["nested steps"])
	assert.Equal(t, 64, accepted, "every other HTTP poller runs as written, nested ones included")
	if os.Getenv("CCP_CORPUS_REPORT") != "" {
		t.Log(strings.Join(report, "\n"))
	}
}
