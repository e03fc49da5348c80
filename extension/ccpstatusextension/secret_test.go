package ccpstatusextension

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver"
)

const secretKey = "sk-live-7f3c9a1e5b2d4c6f8a0b"

// A real ccp receiver, its key given under parameters, whose API refuses the key and echoes it
// in the error body and a header: no page and no JSON answer shows the key (in any escaping),
// while the error itself is shown.
func TestNoConfiguredSecretInAnyAnswer(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo-Key", r.Header.Get("X-Api-Key"))
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid api key ` + r.Header.Get("X-Api-Key") + `", "hint": "` +
			url.QueryEscape(r.Header.Get("X-Api-Key")) + `"}`))
	}))
	defer api.Close()

	f := ccpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*ccpreceiver.Config)
	cfg.Parameters = map[string]configopaque.String{"apiKey": secretKey}
	cfg.PollingConfig = map[string]any{
		"auth":     map[string]any{"type": "APIKey", "ApiKey": "{{apiKey}}", "ApiKeyName": "X-Api-Key"},
		"request":  map[string]any{"apiEndpoint": api.URL + "/api/v1/events", "queryWindowInMin": 1},
		"response": map[string]any{"eventsJsonPaths": []any{"$.data"}},
	}
	require.NoError(t, cfg.Validate())
	set := receivertest.NewNopSettings(f.Type())
	set.ID = component.MustNewIDWithName("ccp", "leaky")
	rcv, err := f.CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)

	// The extension as the collector builds it: from its factory, over the process registry.
	ecfg := createDefaultConfig().(*Config)
	ecfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	ext, err := NewFactory().Create(context.Background(), extSettings(), ecfg)
	require.NoError(t, err)
	host := componenttest.NewNopHost()
	require.NoError(t, ext.Start(context.Background(), host))
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	require.NoError(t, rcv.Start(context.Background(), host))
	defer func() { require.NoError(t, rcv.Shutdown(context.Background())) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		if c := connstate.Default().Get("ccp/leaky"); c != nil && c.Snapshot(time.Now()).LastError != "" && len(c.Snapshot(time.Now()).Traces) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no failed window within 20s")
		time.Sleep(50 * time.Millisecond)
	}

	base := "http://" + ext.(*statusExtension).ln.Addr().String()
	secrets := []string{secretKey, url.QueryEscape(secretKey), secretKey[3:15], secretKey[12:]}
	for _, p := range []string{"/", "/connectors/ccp%2Fleaky", "/connectors/ccp/leaky", "/api/v1/connectors",
		"/api/v1/connectors/ccp%2Fleaky", "/api/v1/connectors/ccp/leaky", "/static/style.css", "/static/copy.js"} {
		a := get(t, base+p)
		require.Equal(t, http.StatusOK, a.status, p)
		for _, s := range secrets {
			assert.NotContains(t, a.body, s, "%s shows a configured secret", p)
			for k, v := range a.header {
				assert.NotContains(t, strings.Join(v, " "), s, "%s header %s", p, k)
			}
		}
	}
	page := get(t, base+"/connectors/ccp%2Fleaky").body
	assert.Contains(t, page, "401", "the refusal is shown")
	assert.Contains(t, page, "invalid api key [REDACTED]", "the echo reached the page, redacted")
	assert.Contains(t, page, api.URL+"/api/v1/events", "the request trace is shown")
	list := get(t, base+"/").body
	assert.Regexp(t, `data-id="ccp/leaky" data-status="(Degraded|Failed)"`, list)
	assert.Contains(t, list, `<div class="error">`, "the redacted error is shown")
}
