package poller

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

type skipRecorder struct {
	nopObserver
	mu      sync.Mutex
	reasons []string
	details []string
}

func (s *skipRecorder) Skipped(reason, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reasons = append(s.reasons, reason)
	s.details = append(s.details, detail)
}

// Reaching max_pages_per_window skips the rest of the window: that is an error-level log and a
// skip report naming the setting, not a warning.
func TestMaxPagesIsReportedAsSkip(t *testing.T) {
	var calls atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := calls.Add(1)
		_, _ = w.Write([]byte(`{"data": [{"id": 1}], "next": "t` + strings.Repeat("x", int(n)) + `"}`))
	}))
	defer ts.Close()
	core, logs := observer.New(zap.InfoLevel)
	rec := &skipRecorder{}
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e"},
	  "paging": {"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next", "nextPageParaName": "t"},
	  "response": {"eventsJsonPaths": ["$.data"]}}`, Options{MaxPages: 3, Logger: zap.New(core), Observer: rec})
	n, err := pollAll(e)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.EqualValues(t, 3, calls.Load())
	require.Equal(t, []string{"max_pages_per_window"}, rec.reasons)
	assert.Contains(t, rec.details[0], "raise max_pages_per_window")
	entries := logs.FilterMessageSnippet("max_pages_per_window").All()
	require.Len(t, entries, 1)
	assert.Equal(t, zapcore.ErrorLevel, entries[0].Level)
}

// A Definition built without definition.Parse (in code) cannot slip Offset paging without
// offsetParaName past New either.
func TestNewRefusesOffsetWithoutParaName(t *testing.T) {
	d := &definition.Definition{
		Request:  definition.Request{APIEndpoint: "https://api.example.com/e", HTTPMethod: "GET", TimeoutInSeconds: 5},
		Response: definition.Response{EventsJSONPaths: []string{"$.data"}, Format: "json"},
		Paging:   definition.Paging{Type: definition.PagingOffset, PageSize: 100},
	}
	_, err := New(d, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "paging.offsetParaName")
}
