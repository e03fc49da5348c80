package poller

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

func parseDef(t *testing.T, endpoint string) *definition.Definition {
	t.Helper()
	d, err := definition.Parse(map[string]any{
		"auth":     map[string]any{"type": "None"},
		"request":  map[string]any{"apiEndpoint": endpoint, "queryWindowInMin": 5},
		"paging":   map[string]any{"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next", "nextPageParaName": "page"},
		"response": map[string]any{"eventsJsonPaths": []any{"$.data"}},
	}, "t")
	require.NoError(t, err)
	return d
}

// A nested step's engine is built once; each call derives one that shares what was compiled
// (JSONPaths, time format, warn-once memory, limiter) and has its own endpoint, origin and paging.
func TestForCallSharesCompiledPartsNotState(t *testing.T) {
	var paths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path+"?"+r.URL.RawQuery)
		if r.URL.Query().Get("page") == "" {
			_, _ = w.Write([]byte(`{"data":[{"id":1}],"next":"p2"}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":[{"id":2}]}`))
	}))
	defer ts.Close()
	step, err := New(parseDef(t, ts.URL+"/users/0"), Options{HTTPClient: ts.Client()})
	require.NoError(t, err)

	a, err := step.ForCall(parseDef(t, ts.URL+"/users/a"), nil)
	require.NoError(t, err)
	b, err := step.ForCall(parseDef(t, "https://other.example.com/users/b"), nil)
	require.NoError(t, err)
	assert.Same(t, step.events[0], a.events[0], "the events path is compiled once per step")
	assert.Same(t, step.warnOnce, b.warnOnce, "a warning is given once per step, not per call")
	assert.Same(t, step.limiter, a.limiter)
	assert.Equal(t, "other.example.com", b.APIHost(), "each call has its own origin")
	assert.NotSame(t, a.client, step.client)

	var n int
	w := window.Window{Start: t0, End: t0.Add(5 * 60e9)}
	for _, e := range []*Engine{a, step} {
		_, err = e.PollWindow(context.Background(), w, "", "", func(_ context.Context, p Page) error {
			n += len(p.Events)
			return nil
		})
		require.NoError(t, err)
	}
	assert.Equal(t, 4, n, "each engine pages on its own: two pages each")
	assert.Contains(t, paths[0], "/users/a")
	assert.Contains(t, paths[2], "/users/0")
}

// keyAuth puts a secret header on every request it is asked to authenticate.
type keyAuth struct{}

func (keyAuth) Apply(_ context.Context, req *http.Request) error {
	req.Header.Set("X-Key", "secret-key")
	return nil
}
func (keyAuth) Invalidate() {}

// A call's engine confines credentials to the call's own origin: a redirect elsewhere is not
// followed with them, even though the step's engine was built for another endpoint.
func TestForCallKeepsCredentialsOnTheCallsOrigin(t *testing.T) {
	var leaked []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = append(leaked, r.Header.Get("X-Key"))
		_, _ = w.Write([]byte(`{"data":[]}`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/stolen", http.StatusFound)
	}))
	defer api.Close()
	step, err := New(parseDef(t, api.URL+"/users/0"), Options{HTTPClient: api.Client(), Auth: keyAuth{}})
	require.NoError(t, err)
	call, err := step.ForCall(parseDef(t, api.URL+"/users/a"), keyAuth{})
	require.NoError(t, err)
	w := window.Window{Start: t0, End: t0.Add(5 * 60e9)}
	_, _ = call.PollWindow(context.Background(), w, "", "", func(context.Context, Page) error { return nil })
	for _, k := range leaked {
		assert.Empty(t, k, "the credential followed a redirect to another origin")
	}
}
