package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

// parseAuth runs an auth object through definition.Parse inside a minimal poller, as the
// receiver does.
func parseAuth(t *testing.T, auth map[string]any) definition.Auth {
	t.Helper()
	raw := map[string]any{
		"auth":     auth,
		"request":  map[string]any{"apiEndpoint": "https://api.example.com/v1/events"},
		"response": map[string]any{"eventsJsonPaths": []any{"$"}},
	}
	d, err := definition.Parse(roundTrip(t, raw), "test")
	require.NoError(t, err)
	return d.Auth
}

// roundTrip makes the map look like decoded JSON (float64 numbers, []any lists).
func roundTrip(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func newAuth(t *testing.T, auth map[string]any, s Settings) Authenticator {
	t.Helper()
	a, err := New(parseAuth(t, auth), s)
	require.NoError(t, err)
	return a
}

// apiRequest builds a request to the API host and applies a.
func apply(t *testing.T, a Authenticator) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "https://api.example.com/v1/events", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, a.Apply(ctx, req))
	return req
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a settable Settings.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// memState is an in-memory StateStore that survives "restarts" (new Authenticators).
type memState struct {
	mu   sync.Mutex
	m    map[string][]byte
	sets int
}

func newMemState() *memState { return &memState{m: map[string][]byte{}} }

func (s *memState) Get(_ context.Context, k string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return nil, nil
	}
	return append([]byte(nil), v...), nil
}

func (s *memState) Set(_ context.Context, k string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = append([]byte(nil), v...)
	s.sets++
	return nil
}

// loopback starts an httptest server on 127.0.0.1 (httptest's default) and returns it.
func loopback(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), srv.URL)
	return srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// assertNoSecret fails if any secret appears in s.
func assertNoSecret(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, x := range secrets {
		require.NotContains(t, s, x, "secret leaked into %q", s)
	}
}

// applyCase builds a table case's authenticator and applies it to a request, or checks that
// New refuses the definition with wantErr and returns nils.
func applyCase(t *testing.T, auth map[string]any, creds Credentials, wantErr string) (Authenticator, *http.Request) {
	t.Helper()
	a, err := New(parseAuth(t, auth), Settings{Credentials: creds})
	if wantErr != "" {
		require.ErrorContains(t, err, wantErr)
		return nil, nil
	}
	require.NoError(t, err)
	return a, apply(t, a)
}
