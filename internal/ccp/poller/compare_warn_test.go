package poller

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// A filter comparing a non-numeric string with a number (Json.NET throws and the selection fails)
// keeps the other events and logs one warning per window naming the path and the value.
func TestNonNumericFilterComparisonWarnsOncePerWindow(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("t") == "" {
			_, _ = w.Write([]byte(`{"data": [{"id": 1, "age": "26"}, {"id": 2, "age": "unknown"}], "next": "p2"}`))
			return
		}
		_, _ = w.Write([]byte(`{"data": [{"id": 3, "age": "30"}, {"id": 4, "age": "n/a"}]}`))
	}))
	defer ts.Close()
	core, logs := observer.New(zap.InfoLevel)
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e"},
	  "paging": {"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next", "nextPageParaName": "t"},
	  "response": {"eventsJsonPaths": ["$.data[?(@.age > 3)]"]}}`, Options{Logger: zap.New(core)})
	for window := 1; window <= 2; window++ {
		n, err := pollAll(e)
		require.NoError(t, err)
		assert.Equal(t, 2, n, "events 1 and 3 of two pages")
		entries := logs.FilterMessageSnippet("non-numeric string").All()
		require.Len(t, entries, window, "one warning per window, not per page")
		last := entries[window-1]
		assert.Equal(t, zapcore.WarnLevel, last.Level)
		assert.Equal(t, "$.data[?(@.age > 3)]", last.ContextMap()["path"])
		assert.Equal(t, "unknown", last.ContextMap()["value"])
	}
}
