package nested

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
)

// skipRecorder is a poller.Observer that also implements poller.SkipObserver.
type skipRecorder struct {
	mu    sync.Mutex
	skips []string
}

func (*skipRecorder) Request(string)    {}
func (*skipRecorder) Retry()            {}
func (*skipRecorder) Throttle()         {}
func (*skipRecorder) ResponseBytes(int) {}
func (s *skipRecorder) Skipped(reason, detail string) {
	s.mu.Lock()
	s.skips = append(s.skips, reason+": "+detail)
	s.mu.Unlock()
}

// TestChildBudgetReportsSkip: child calls over the budget are skipped data, so besides an
// error-level log the observer hears about it with a detail that says what to change.
func TestChildBudgetReportsSkip(t *testing.T) {
	events := map[string][]string{}
	var orgs []string
	for i := range 6 {
		id := fmt.Sprintf("o%d", i)
		orgs = append(orgs, id)
		events[id] = []string{`{}`}
	}
	srv := newOrgServer(t, orgs, events)
	core, logs := observer.New(zap.WarnLevel)
	obs := &skipRecorder{}
	eo := poller0(zap.New(core))
	eo.Observer = obs
	run, err := New(orgProps(t, srv.URL, orgKQL, ""), apiKeyAuth(t), Options{MaxChildCalls: 2, Engine: eo})
	require.NoError(t, err)
	var parents []string
	for _, o := range orgs {
		parents = append(parents, fmt.Sprintf(`{"id":%q}`, o))
	}
	out, err := run.Expand(context.Background(), testWindow, parents)
	require.NoError(t, err)
	assert.Len(t, out, 2)
	entries := logs.FilterMessageSnippet("too many child calls").All()
	require.Len(t, entries, 1)
	assert.Equal(t, zapcore.ErrorLevel, entries[0].Level)
	require.Len(t, obs.skips, 1)
	assert.True(t, strings.HasPrefix(obs.skips[0], "nested_child_budget: 4 child calls"), obs.skips[0])
	assert.Contains(t, obs.skips[0], "MaxChildCalls")
}

// stampServer answers /parent with n records and every other path with one event, and keeps
// the time of every request.
type stampServer struct {
	*httptest.Server
	mu    sync.Mutex
	times []time.Time
}

func newStampServer(t *testing.T, n int) *stampServer {
	s := &stampServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.times = append(s.times, time.Now())
		s.mu.Unlock()
		if r.URL.Path == "/orgs" {
			var recs []string
			for i := range n {
				recs = append(recs, fmt.Sprintf(`{"id":"o%d"}`, i))
			}
			writeJSON(w, "["+strings.Join(recs, ",")+"]")
			return
		}
		writeJSON(w, `[{}]`)
	}))
	t.Cleanup(s.Close)
	return s
}

// inFirstSecond counts the requests within one second of the first one.
func (s *stampServer) inFirstSecond() (n, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range s.times {
		if ts.Sub(s.times[0]) < time.Second {
			n++
		}
	}
	return n, len(s.times)
}

// TestChildCallsShareTheConnectorRateLimit: with rateLimitQPS 5 on the parent and a page
// whose records need 10 child calls, the connector makes about 5 calls in its first second,
// not 11: the receiver's way (one Limiter in poller.Options for the parent engine and the
// Runner), and the Runner alone (its child calls use the parent's rateLimitQPS).
func TestChildCallsShareTheConnectorRateLimit(t *testing.T) {
	const qps = 5
	props := func(url string) map[string]any {
		return propsFrom(t, fmt.Sprintf(`{
		  "auth": {"type": "None"},
		  "request": {"apiEndpoint": %q, "rateLimitQPS": %d},
		  "response": {"eventsJsonPaths": ["$"]},
		  "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "events", "stepPlaceholdersParsingKql": %q}]},
		  "stepCollectorConfigs": {"events": {"request": {"apiEndpoint": %q}, "response": {"eventsJsonPaths": ["$"]}}}
		}`, url+"/orgs", qps, orgKQL, url+"/orgs/$orgId$/events"))
	}
	t.Run("parent and children share one limiter", func(t *testing.T) {
		srv := newStampServer(t, 10)
		p := props(srv.URL)
		parent, err := definition.Parse(ParentProps(p), "test")
		require.NoError(t, err)
		eo := poller.Options{HTTPClient: srv.Client(), Limiter: ratelimit.New(parent.Request.RateLimitQPS)}
		eng, err := poller.New(parent, eo)
		require.NoError(t, err)
		run, err := New(p, nil, Options{Engine: eo})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out []string
		_, err = eng.PollWindow(ctx, testWindow, "", "", func(ctx context.Context, pg poller.Page) error {
			evs, err := run.Expand(ctx, testWindow, pg.Events)
			out = append(out, evs...)
			return err
		})
		require.NoError(t, err)
		assert.Len(t, out, 10)
		n, total := srv.inFirstSecond()
		assert.Equal(t, 11, total)
		assert.LessOrEqual(t, n, qps+1, "calls in the first second (parent page and child calls)")
	})
	t.Run("children alone use the parent's rate", func(t *testing.T) {
		srv := newStampServer(t, 0)
		run, err := New(props(srv.URL), nil, Options{Engine: poller.Options{HTTPClient: srv.Client()}})
		require.NoError(t, err)
		var parents []string
		for i := range 10 {
			parents = append(parents, fmt.Sprintf(`{"id":"o%d"}`, i))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := run.Expand(ctx, testWindow, parents)
		require.NoError(t, err)
		assert.Len(t, out, 10)
		n, total := srv.inFirstSecond()
		assert.Equal(t, 10, total)
		assert.LessOrEqual(t, n, qps+1, "child calls in the first second")
	})
}
