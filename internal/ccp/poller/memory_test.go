package poller

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

// tinyEventsPage is the hostile page: 4 MiB of {"data":[0,0,...]}, 2 M one-byte events.
func tinyEventsPage() []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":[0`)
	for b.Len() < 4<<20-2 {
		b.WriteString(`,0`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func serveBody(t *testing.T, body []byte) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// With the defaults the 2 M-event page is refused with an error naming the cap and the
// setting, and refusing it costs well under 10× the body in allocations.
func TestTooManyEventsIsRefusedCheaply(t *testing.T) {
	body := tinyEventsPage()
	ts := serveBody(t, body)
	e := hostileEngine(t, ts.URL, plain, Options{})
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	n, err := pollAll(e)
	runtime.ReadMemStats(&m1)
	var re *RequestError
	require.True(t, errors.As(err, &re), "%v", err)
	assert.Contains(t, re.Msg, "more than 100000 events")
	assert.Contains(t, re.Msg, "max_events_per_page")
	assert.False(t, re.Retryable, "the same page would come back")
	assert.Zero(t, n, "nothing is delivered: no silent truncation")
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("allocated %d MiB for a %d MiB page", alloc>>20, len(body)>>20)
	assert.Less(t, alloc, uint64(10*len(body)), "allocations stay under 10× the body")
}

// With the cap raised the same page is delivered whole. The events alias one copy of the
// body, so what the page costs is the read buffer, that copy and one exactly sized []string
// (16 bytes an event): nothing grows by doubling, and nothing is copied per event. The heap
// it holds while the receiver has it stays under 10× the body.
func TestTinyEventsHeapGrowth(t *testing.T) {
	body := tinyEventsPage()
	ts := serveBody(t, body)
	e := hostileEngine(t, ts.URL, plain, Options{MaxEventsPerPage: 3_000_000})
	var m0, held, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	events := 0
	_, err := e.PollWindow(context.Background(), window.Window{Start: t0.Add(-time.Hour), End: t0}, "", "", func(_ context.Context, p Page) error {
		runtime.ReadMemStats(&held) // no GC first: TotalAlloc is every byte the page cost so far
		runtime.GC()
		runtime.ReadMemStats(&m1)
		events = len(p.Events)
		runtime.KeepAlive(p.Events)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, (len(body)-len(`{"data":[]}`)+1)/2, events)
	alloc := held.TotalAlloc - m0.TotalAlloc
	// 25 % headroom over the design (read buffer + one copy + 16 B an event) keeps the test
	// about the design, not about a library's buffer sizes; the old code needed 178 MiB.
	budget := uint64(float64(2*len(body)+16*events)*1.25) + 1<<20
	growth := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	t.Logf("allocated %.1f MiB (budget %.1f MiB), heap held %.1f MiB, for a %d MiB page of %d events",
		float64(alloc)/(1<<20), float64(budget)/(1<<20), float64(growth)/(1<<20), len(body)>>20, events)
	assert.Less(t, alloc, budget, "allocations: read buffer + one copy + 16 B an event")
	assert.Less(t, growth, int64(10*len(body)), "heap growth stays under 10× the body")
}

// A JSONPath that multiplies a document into more matches than the cap refuses the page too.
func TestExplosiveEventsPathIsRefused(t *testing.T) {
	ts := serveBody(t, []byte(strings.Repeat(`{"a":`, 200)+"1"+strings.Repeat("}", 200)))
	e := hostileEngine(t, ts.URL, strings.Replace(plain, `"$.data"`, `"$..*..*..*"`, 1), Options{})
	_, err := pollAll(e)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `eventsJsonPaths "$..*..*..*" selects more than 100000 events`)
}

// Exactly at the cap a page is delivered whole; one event more is refused.
func TestEventCapBoundary(t *testing.T) {
	ts := serveBody(t, []byte(`{"data":[1,2,3],"more":[4]}`))
	two := strings.Replace(plain, `["$.data"]`, `["$.data", "$.more"]`, 1)
	n, err := pollAll(hostileEngine(t, ts.URL, two, Options{MaxEventsPerPage: 4}))
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	_, err = pollAll(hostileEngine(t, ts.URL, two, Options{MaxEventsPerPage: 3}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than 3 events")
}
