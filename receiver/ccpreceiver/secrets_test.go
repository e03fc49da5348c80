package ccpreceiver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
)

const tenantToken = "tt-4f3e2d1c0b-secret"

// TestParameterSecretsAreMasked: a parameter that goes to the API as a query value (not through
// auth) and comes back in a 401 body is masked in the error, the status, the registry (page,
// health records), the request trace and the logs; the API host parameter stays readable.
func TestParameterSecretsAreMasked(t *testing.T) {
	for _, inPath := range []bool{false, true} {
		t.Run(fmt.Sprintf("in path %v", inPath), func(t *testing.T) { testParameterSecrets(t, inPath) })
	}
}

func testParameterSecrets(t *testing.T, inPath bool) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"unknown tenant ` + r.URL.Query().Get("tenant") + `"}`))
	}))
	defer ts.Close()
	endpoint := "{{base}}/events"
	if inPath {
		endpoint = "{{base}}/hooks/{{tenantToken}}/events"
	}
	cfg := createDefaultConfig().(*Config)
	cfg.InitialLookback = time.Hour
	cfg.Parameters = map[string]configopaque.String{"base": configopaque.String(ts.URL), "tenantToken": tenantToken}
	cfg.PollingConfig = map[string]any{
		"auth": map[string]any{"type": "None"},
		"request": map[string]any{"apiEndpoint": endpoint, "queryWindowInMin": 30, "retryCount": 0,
			"queryParameters": map[string]any{"tenant": "{{tenantToken}}"}},
		"response": map[string]any{"eventsJsonPaths": []any{"$.data"}},
	}
	r := startObserved(t, cfg, &sink{ids: map[string]int{}}, componenttest.NewNopHost())
	waitFor(t, "a failed attempt", func() bool { return r.conn.Snapshot(time.Now()).LastError != "" })
	snap := r.conn.Snapshot(time.Now())
	assert.Contains(t, snap.LastError, "unknown tenant [REDACTED]")
	if inPath {
		assert.Contains(t, snap.LastError, "/hooks/[REDACTED]/events")
	}
	var all strings.Builder
	all.WriteString(snap.LastError + snap.Reason)
	for _, tr := range snap.Traces {
		all.WriteString(tr.URL + tr.Error)
	}
	for _, e := range r.logs.All() {
		all.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			all.WriteString(" " + k + "=" + fmt.Sprint(v))
		}
	}
	assert.NotContains(t, all.String(), tenantToken)
	assert.NotEmpty(t, snap.Traces)
	assert.Contains(t, snap.Traces[0].URL, strings.TrimPrefix(ts.URL, "http://"), "the host stays readable")
}
