package connector

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/nested"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

const corpus = "../connectorfile/testdata/corpus"

func inline(url string) map[string]any {
	return map[string]any{
		"auth":     map[string]any{"type": "APIKey", "ApiKeyName": "X-Key", "ApiKey": "{{key}}"},
		"request":  map[string]any{"apiEndpoint": url, "httpMethod": "GET", "queryWindowInMin": 5},
		"response": map[string]any{"eventsJsonPaths": []any{"$.events"}},
	}
}

func TestLoadFileByNameAndIndex(t *testing.T) {
	file := filepath.Join(corpus, "AtlassianJiraAudit__azuredeploy_Jira_native_poller_connector.json")
	_, err := Load(Source{File: file}, nil)
	var missing *MissingError
	require.ErrorAs(t, err, &missing, "the Jira file needs its inputs")
	assert.Contains(t, err.Error(), "parameters missing:")
	_, err = Load(Source{File: file, Connector: "7"}, nil)
	assert.ErrorContains(t, err, "connector: index 7 is out of range")
	_, err = Load(Source{File: file, Connector: "nope"}, nil)
	assert.ErrorContains(t, err, `connector: no poller named "nope"`)
}

func TestLoadInlineAndFingerprint(t *testing.T) {
	a, err := Load(Source{Inline: inline("https://api.example.com/a")}, map[string]string{"key": "k1"})
	require.NoError(t, err)
	assert.Equal(t, InlineSource, a.Source)
	b, err := Load(Source{Inline: inline("https://api.example.com/b")}, map[string]string{"key": "k1"})
	require.NoError(t, err)
	assert.NotEqual(t, a.Fingerprint, b.Fingerprint, "another endpoint is another definition")
	_, err = Load(Source{Inline: inline("https://api.example.com/a")}, nil)
	var missing *MissingError
	require.True(t, errors.As(err, &missing))
	assert.Equal(t, "key", missing.Missing[0].Name)
}

func TestLoadRefusesNonHTTPKinds(t *testing.T) {
	props := inline("https://api.example.com")
	_, err := Load(Source{Inline: map[string]any{"kind": "Push", "properties": props}}, map[string]string{"key": "k"})
	require.Error(t, err)
}

// Open builds the auth and the engine: the key goes to the configured API and polling works.
func TestOpenPollsWithAuth(t *testing.T) {
	var got string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("X-Key")
		_, _ = w.Write([]byte(`{"events":[{"id":1},{"id":2}]}`))
	}))
	defer ts.Close()
	l, err := Load(Source{Inline: inline(ts.URL)}, map[string]string{"key": "k1"})
	require.NoError(t, err)
	c, err := l.Open(Options{HTTPClient: ts.Client()})
	require.NoError(t, err)
	assert.Same(t, c.Engine, c.Poller, "no nested steps: the engine itself")
	n := 0
	now := time.Now()
	_, err = c.Poller.PollWindow(context.Background(), window.Window{Start: now.Add(-time.Minute), End: now}, "", "",
		func(_ context.Context, p poller.Page) error { n += len(p.Events); return nil })
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, "k1", got)
}

// A definition with nested steps gets a decorator around the engine.
func TestOpenWrapsNestedSteps(t *testing.T) {
	file := filepath.Join(corpus, "Cisco_Meraki_Events_via_REST_API__CiscoMeraki_PollerConfig.json")
	pollers, err := connectorfile.Load(file)
	require.NoError(t, err)
	var l *Loaded
	for _, p := range pollers {
		resolved, _, err := connectorfile.FillDummies(p, nil)
		require.NoError(t, err)
		if nested.Present(resolved.Properties) {
			l, err = Parse(resolved, file)
			require.NoError(t, err)
		}
	}
	require.NotNil(t, l, "the Meraki file has a poller with nested steps")
	c, err := l.Open(Options{HTTPClient: http.DefaultClient})
	require.NoError(t, err)
	assert.NotSame(t, c.Engine, c.Poller, "nested steps wrap the engine")
	_, bare := c.Poller.(*poller.Engine)
	assert.False(t, bare)
}
