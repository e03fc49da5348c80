package ccpreceiver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
)

// TestNestedStepsThroughTheReceiver: a parent step lists organisations, a child step fetches
// each organisation's events for the window (shouldJoinNestedData false: only child events
// are emitted), and every event comes out once per window.
func TestNestedStepsThroughTheReceiver(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch {
		case r.URL.Path == "/orgs":
			_, _ = w.Write([]byte(`{"orgs": [{"id": "o1"}, {"id": "o2"}]}`))
		case strings.HasPrefix(r.URL.Path, "/orgs/") && strings.HasSuffix(r.URL.Path, "/events"):
			org := strings.Split(r.URL.Path, "/")[2]
			since := r.URL.Query().Get("since")
			if since == "" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, `{"events": [{"id": "%s-%s-a"}, {"id": "%s-%s-b"}]}`, org, since, org, since)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer ts.Close()

	cfg := testConfig(ts.URL)
	cfg.InitialLookback = time.Hour
	cfg.PollingConfig = map[string]any{
		"auth":     map[string]any{"type": "APIKey", "ApiKey": "k", "ApiKeyName": "X-Api-Key"},
		"request":  map[string]any{"apiEndpoint": ts.URL + "/orgs", "queryWindowInMin": 30},
		"response": map[string]any{"eventsJsonPaths": []any{"$.orgs"}},
		"stepInfo": map[string]any{"stepType": "Nested", "nextSteps": []any{
			map[string]any{"stepId": "events", "stepPlaceholdersParsingKql": "source | project orgId = tostring(parse_json(data).id)"}}},
		"stepCollectorConfigs": map[string]any{"events": map[string]any{
			"shouldJoinNestedData": false,
			"request":              map[string]any{"apiEndpoint": ts.URL + "/orgs/$orgId$/events", "queryParameters": map[string]any{"since": "{_QueryWindowStartTime}"}},
			"response":             map[string]any{"eventsJsonPaths": []any{"$.events"}},
		}},
	}
	require.NoError(t, cfg.Validate())
	s := &sink{ids: map[string]int{}}
	r := startReceiver(t, cfg, s, componenttest.NewNopHost())
	waitFor(t, "two windows of child events", func() bool { u, _ := s.count(); return u >= 8 })
	require.NoError(t, r.Shutdown(context.Background()))
	unique, total := s.count()
	assert.Equal(t, unique, total, "no event twice")
	for id := range s.ids {
		assert.Regexp(t, `^o[12]-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ-[ab]$`, id, "only child events, never the parent records")
	}
}
