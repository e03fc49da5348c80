package poller

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const queryToken = "qt-9f8e7d6c5b4a-secret"

// queryKeyAuth puts its key in the query string, as some signing schemes do.
type queryKeyAuth struct{}

func (queryKeyAuth) Apply(_ context.Context, r *http.Request) error {
	q := r.URL.Query()
	q.Set("token", queryToken)
	r.URL.RawQuery = q.Encode()
	return nil
}
func (queryKeyAuth) Invalidate() {}

// traceRecorder is an Observer that also keeps traces.
type traceRecorder struct {
	nopObserver
	mu     sync.Mutex
	traces []Trace
}

func (r *traceRecorder) Traced(t Trace) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.traces = append(r.traces, t)
}

// TestTracesAreSafeToShow: every exchange reaches a TraceObserver with method, status, bytes
// and duration, and a URL whose secret query values are masked while the rest stays readable.
func TestTracesAreSafeToShow(t *testing.T) {
	body := `{"data": [{"id": 1}, {"id": 2}]}`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(body))
	}))
	defer ts.Close()
	rec := &traceRecorder{}
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e", "retryCount": 0,
	  "timeoutInSeconds": 5, "startTimeAttributeName": "since"}, "response": {"eventsJsonPaths": ["$.data"]}}`,
		Options{Observer: rec, Auth: queryKeyAuth{}})
	n, err := pollAll(e)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	require.Len(t, rec.traces, 1)
	tr := rec.traces[0]
	assert.Equal(t, http.MethodGet, tr.Method)
	assert.Equal(t, http.StatusOK, tr.Status)
	assert.Equal(t, len(body), tr.Bytes)
	assert.Positive(t, tr.Duration)
	assert.NotContains(t, tr.URL, queryToken)
	assert.Contains(t, tr.URL, "token=%2A%2A%2A")
	assert.True(t, strings.HasPrefix(tr.URL, ts.URL+"/e?"), tr.URL)
	assert.Contains(t, tr.URL, "since=", "values that are not secrets stay readable")
}
