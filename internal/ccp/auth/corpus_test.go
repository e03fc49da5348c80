package auth

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

// corpusDir is the committed copy of the shared corpus (41 files), so the test runs on a
// clean clone; a missing corpus is a failure, never a skip.
const corpusDir = "../connectorfile/testdata/corpus"

// corpusFiles and corpusAuthBlocks pin the corpus size: a glob that silently matches
// fewer files would otherwise pass with less coverage.
const (
	corpusFiles      = 41
	corpusAuthBlocks = 82
)

// dummy replaces placeholders ({{x}}) and ARM expressions ([[...] / [...]) with plausible values
// chosen by key name, as a user's parameters would.
func dummy(key string, v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = dummy(k, x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = dummy(key, x)
		}
		return t
	case string:
		if !strings.Contains(t, "{{") && !(strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]")) {
			return t
		}
		k := strings.ToLower(key)
		switch {
		case k == "granttype":
			return "client_credentials"
		case strings.Contains(k, "endpoint") || strings.Contains(k, "url") || strings.Contains(k, "uri"):
			return "https://dummy.example.com/path"
		case k == "pemfile":
			return "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"
		}
		return "dummy-" + k
	}
	return v
}

// pollers finds connector resources (objects with kind and properties) in a corpus file.
func pollers(v any, out *[]map[string]any) {
	switch t := v.(type) {
	case map[string]any:
		f := definition.NewFields("", t)
		if f.Has("kind") && f.Has("properties") {
			*out = append(*out, t)
			return
		}
		for _, x := range t {
			pollers(x, out)
		}
	case []any:
		for _, x := range t {
			pollers(x, out)
		}
	}
}

func TestCorpusAuthBlocks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, corpusFiles, "committed corpus at %s", corpusDir)
	// Legacy APIPolling files carry no credentials: they come from the receiver config.
	creds := Credentials{Username: "cfg-user", Password: "cfg-pass", APIKey: "cfg-api-key"}
	accepted := map[string]int{}
	refusedTypes := map[string]int{}
	total := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		var doc any
		require.NoError(t, json.Unmarshal(b, &doc), file)
		var ps []map[string]any
		pollers(doc, &ps)
		for i, p := range ps {
			p = dummy("", p).(map[string]any)
			name := fmt.Sprintf("%s#%d", filepath.Base(file), i)
			d, _ := definition.Parse(p, name) // request-level problems are not the auth layer's business
			require.NotNil(t, d, name)
			if d.Auth.Fields == nil {
				continue // no auth object
			}
			total++
			a, err := New(d.Auth, Settings{Credentials: creds})
			if d.Auth.Type == "Oracle" {
				require.Error(t, err, name)
				require.Contains(t, err.Error(), "OCI", name)
				refusedTypes[d.Auth.Type]++
				continue
			}
			require.NoError(t, err, "%s: auth type %s", name, d.Auth.Type)
			require.NotNil(t, a)
			require.Empty(t, d.Auth.Fields.Unused(), "%s: auth keys nobody reads", name)
			accepted[d.Auth.Type]++
		}
	}
	var summary []string
	for k, n := range accepted {
		summary = append(summary, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(summary)
	t.Logf("auth blocks: %d; accepted by type: %v; refused: %v", total, summary, refusedTypes)
	require.Equal(t, corpusAuthBlocks, total, "auth blocks in the corpus")
	for _, typ := range []string{"Basic", "APIKey", "OAuth2", "JwtToken", "CiscoDuo", "AliCloudSlsV1"} {
		require.Positive(t, accepted[typ], typ)
	}
	require.Equal(t, 1, refusedTypes["Oracle"])
}
