package vendorapi

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStoreMillionEventsIsCheap(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	srv := New(Config{Events: 1_000_000, Span: 24 * time.Hour, End: t0, Seed: 42})
	runtime.GC()
	runtime.ReadMemStats(&after)
	assert.Less(t, after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc), uint64(16<<20), "heap for 1M events")

	n := srv.NumEvents()
	require.Equal(t, 1_000_000, n)
	start := t0.Add(-24 * time.Hour)
	assert.False(t, srv.EventTime(0).Before(start))
	assert.True(t, srv.EventTime(n-1).Before(t0))
	prev := srv.EventTime(0)
	for i := 1; i < n; i += 997 {
		et := srv.EventTime(i)
		assert.False(t, et.Before(prev), "times must not decrease (i=%d)", i)
		prev = et
	}
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 2, 999_999, 500_000, 123_456} {
		id := srv.EventID(i)
		assert.False(t, seen[id])
		seen[id] = true
		j, ok := srv.IndexOf(id)
		assert.True(t, ok)
		assert.Equal(t, i, j)
		var ev map[string]any
		b := srv.EventJSON(i)
		require.NoError(t, json.Unmarshal(b, &ev), "%s", b)
		assert.InDelta(t, 1024, len(b), 8, "event size")
		assert.Equal(t, id, ev["id"])
		for _, k := range []string{"time", "user", "src_ip", "action", "severity", "message"} {
			assert.NotEmpty(t, ev[k], k)
		}
		et, err := time.Parse(time.RFC3339Nano, ev["time"].(string))
		require.NoError(t, err)
		assert.True(t, et.Equal(srv.EventTime(i)))
	}
	for _, bad := range []string{"evt-1", "evt-1000000000", "evt-000000000x", "x-0000000001", "evt--000000001"} {
		_, ok := srv.IndexOf(bad)
		assert.False(t, ok, bad)
	}
	// determinism: same config, same bytes
	other := New(Config{Events: 1_000_000, Span: 24 * time.Hour, End: t0, Seed: 42})
	assert.Equal(t, srv.EventJSON(777), other.EventJSON(777))
	// even spacing without a seed
	even := New(Config{Events: 3600, Span: time.Hour, End: t0})
	assert.Equal(t, t0.Add(-time.Hour).Add(1234*time.Second), even.EventTime(1234))
	lo, hi := even.EventsIn(t0.Add(-30*time.Minute), t0.Add(-20*time.Minute))
	assert.Equal(t, 1800, lo)
	assert.Equal(t, 2400, hi)
	small := New(Config{Events: 3, EventSize: 300})
	assert.InDelta(t, 300, len(small.EventJSON(1)), 4)
}

func TestLateEvents(t *testing.T) {
	var clk clock
	// Window [t0-10m, t0); 10% of events are published 5 minutes late.
	srv := New(Config{Events: 6000, Span: time.Hour, End: t0, Seed: 3, LateFraction: 0.1, LateBy: 5 * time.Minute,
		Now: clk.now, Paging: PagingNextPageToken, PageSize: 100})
	base := startTest(t, srv)
	since, until := t0.Add(-10*time.Minute), t0
	lo, hi := srv.EventsIn(since, until)
	late, lateAtEnd := 0, 0
	for i := lo; i < hi; i++ {
		if srv.IsLate(i) {
			late++
			assert.Equal(t, srv.EventTime(i).Add(5*time.Minute), srv.PublishTime(i))
			if srv.PublishTime(i).After(until) {
				lateAtEnd++
			}
		}
	}
	require.Positive(t, lateAtEnd)
	assert.InDelta(t, 100, late, 40, "about 10%% late")

	// Polled right at the window end: the late ones are missing.
	clk.set(until)
	ids := walkWindow(t, srv, http.DefaultClient, base, since, until, 100)
	assert.Equal(t, hi-lo-lateAtEnd, len(ids))
	assert.Len(t, srv.Unserved(since, until, 0), 0, "Unserved only lists visible events")
	// Polled with a 6-minute delay: nothing missing.
	srv.ResetAccounting()
	clk.set(until.Add(6 * time.Minute))
	ids = walkWindow(t, srv, http.DefaultClient, base, since, until, 100)
	assert.Equal(t, hi-lo, len(ids))
	assert.Equal(t, srv.IDsIn(since, until), ids)

	// Events in the future are never visible.
	clk.set(t0.Add(-30 * time.Minute))
	ids = walkWindow(t, srv, http.DefaultClient, base, t0.Add(-40*time.Minute), t0, 100)
	for _, id := range ids {
		i, _ := srv.IndexOf(id)
		assert.False(t, srv.PublishTime(i).After(clk.now()))
	}
	assert.Less(t, len(ids), 1000)

	// PersistentToken streams stop at the first invisible event and resume later.
	ps := New(Config{Events: 6000, Span: time.Hour, End: t0, Seed: 3, LateFraction: 0.1, LateBy: 5 * time.Minute,
		Now: clk.now, Paging: PagingPersistentToken, PageSize: 1000})
	pbase := startTest(t, ps)
	clk.set(t0)
	u := pbase + "/api/v1/events?since=" + ps.FormatTime(t0.Add(-time.Hour))
	var got []string
	cursor := ""
	for round := 0; round < 3; round++ {
		for n := 0; n < 50; n++ {
			r := get(t, http.DefaultClient, u)
			require.Equal(t, 200, r.status, "%s", r.body)
			page := gjsonIDs(r.body, "data")
			got = append(got, page...)
			cursor = gjsonStr(r.body, "next")
			u = pbase + "/api/v1/events?from=" + cursor
			if len(page) == 0 {
				break
			}
		}
		clk.advance(3 * time.Minute)
	}
	assert.Equal(t, ps.IDsIn(t0.Add(-time.Hour), t0), got, "every event exactly once, in order")
}

func TestFaults(t *testing.T) {
	srv := New(Config{Events: 100, End: t0, Now: fixedNow, Seed: 9, StatusField: "status"})
	base := startTest(t, srv)
	u := base + "/api/v1/events?" + srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()

	srv.Throttle(2)
	srv.SetFaults(Faults{RetryAfter: 1500 * time.Millisecond})
	for i := 0; i < 2; i++ {
		r := get(t, http.DefaultClient, u)
		assert.Equal(t, 429, r.status)
		assert.Equal(t, "2", r.header.Get("Retry-After"))
		assert.Equal(t, "rate_limited", errorBody(t, r.body)["error"])
	}
	assert.Equal(t, 200, get(t, http.DefaultClient, u).status)

	srv.FailNext(1)
	r := get(t, http.DefaultClient, u)
	assert.Equal(t, 500, r.status)
	assert.Equal(t, "internal_error", errorBody(t, r.body)["error"])

	// Rates: deterministic per seed, roughly the requested fractions.
	srv.SetFaults(Faults{ErrorRate: 0.2, ThrottleRate: 0.05, ThrottleBurst: 3})
	counts := map[int]int{}
	for i := 0; i < 400; i++ {
		counts[get(t, http.DefaultClient, u).status]++
	}
	assert.InDelta(t, 0.2*400*0.85, counts[500], 30)
	assert.Greater(t, counts[429], 20)
	assert.Equal(t, 400, counts[200]+counts[429]+counts[500])
	srv2 := New(Config{Events: 100, End: t0, Now: fixedNow, Seed: 9, StatusField: "status",
		Faults: Faults{ErrorRate: 0.2, ThrottleRate: 0.05, ThrottleBurst: 3}})
	base2 := startTest(t, srv2)
	u2 := base2 + "/api/v1/events?" + srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()
	// same seed, same sequence (srv consumed draws for its first requests too, so compare two fresh ones)
	srv3 := New(srv2.Config())
	base3 := startTest(t, srv3)
	u3 := base3 + "/api/v1/events?" + srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()
	for i := 0; i < 50; i++ {
		assert.Equal(t, get(t, http.DefaultClient, u2).status, get(t, http.DefaultClient, u3).status)
	}

	// Slow pages.
	srv.SetFaults(Faults{SlowRate: 1, SlowDelay: 150 * time.Millisecond})
	begin := time.Now()
	assert.Equal(t, 200, get(t, http.DefaultClient, u).status)
	assert.GreaterOrEqual(t, time.Since(begin), 150*time.Millisecond)

	// Gzip even without Accept-Encoding from the client.
	srv.SetFaults(Faults{Gzip: true})
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	r = get(t, &http.Client{Transport: tr, Timeout: 5 * time.Second}, u)
	assert.Equal(t, 200, r.status)
	assert.Equal(t, "gzip", r.header.Get("Content-Encoding"))
	assert.Len(t, gjsonIDs(r.body, "data"), 100)
	assert.Equal(t, "ok", gjsonStr(r.body, "status"))

	// successStatusJsonPath failures.
	srv.ResetAccounting()
	srv.SetFaults(Faults{StatusErrorRate: 1})
	r = get(t, http.DefaultClient, u)
	assert.Equal(t, 200, r.status)
	assert.Equal(t, "error", gjsonStr(r.body, "status"))
	assert.Empty(t, gjsonIDs(r.body, "data"))
	un, _ := srv.Served()
	assert.Zero(t, un, "a status-error page serves nothing")
	assert.Equal(t, Faults{StatusErrorRate: 1}, srv.Faults())
}

// TestFaultedWalkLosesNothing walks with a retrying client through 500s, 429s
// and token revocation, and checks every event is served.
func TestFaultedWalkLosesNothing(t *testing.T) {
	srv := New(Config{Events: 5000, End: t0, Now: fixedNow, Seed: 5, Auth: AuthOAuth2, ClientID: "c", ClientSecret: "s",
		Paging: PagingNextPageToken, PageSize: 100,
		Faults: Faults{ErrorRate: 0.1, ThrottleRate: 0.05, ThrottleBurst: 2, Gzip: true}})
	base := startTest(t, srv)
	hc := authClient(t, srv, base)
	since, until := t0.Add(-time.Hour), t0
	q := srv.WindowQuery(since, until)
	var ids []string
	tok := ""
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; n < 2000 && time.Now().Before(deadline); n++ {
		if n == 10 {
			srv.ExpireTokens()
			hc = authClient(t, srv, base) // a receiver re-fetches the token on 401
		}
		qq := q.Encode()
		if tok != "" {
			qq += "&page_token=" + tok
		}
		r := get(t, hc, base+"/api/v1/events?"+qq)
		if r.status == 401 {
			hc = authClient(t, srv, base)
			continue
		}
		if r.status != 200 {
			continue // retry the same page (no sleep in the test: Retry-After is honoured by real clients)
		}
		ids = append(ids, gjsonIDs(r.body, "data")...)
		tok = gjsonStr(r.body, "next_page_token")
		if tok == "" {
			break
		}
	}
	assert.Equal(t, srv.IDsIn(since, until), ids)
	st := srv.Stats()
	assert.Greater(t, st.ByStatus[500], int64(0))
	assert.Greater(t, st.ByStatus[429], int64(0))
	assert.GreaterOrEqual(t, st.TokensIssued, int64(2))
	assert.Equal(t, int64(5000), st.UniqueServed)
}

func TestMaxConcurrent(t *testing.T) {
	srv := New(Config{Events: 100, End: t0, Now: fixedNow, Faults: Faults{SlowRate: 1, SlowDelay: 100 * time.Millisecond}})
	base := startTest(t, srv)
	u := base + "/api/v1/events?" + srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := http.Get(u)
			if err == nil {
				_, _ = io.Copy(io.Discard, r.Body) // the server stops counting a request at its last byte
				r.Body.Close()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(3), srv.MaxConcurrent())
	// The handler goroutine may still be returning after the client saw the last byte.
	for i := 0; i < 200 && srv.Stats().InFlight != 0; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, int64(0), srv.Stats().InFlight)
	srv.ResetAccounting()
	for i := 0; i < 20; i++ {
		get(t, http.DefaultClient, u+"&i="+strconv.Itoa(i))
	}
	assert.Equal(t, int64(1), srv.MaxConcurrent())
}

// TestMillionEventsSoakShape serves a 1,000,000-event, 24 h store the way
// the soak test will (1000 per page): a PersistentToken stream over all of
// it, and NextPageToken over 5-minute windows for a slice of the day, with
// 5% 500s. Skipped with -short.
func TestMillionEventsSoakShape(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	deadline := time.Now().Add(90 * time.Second)
	events := 1_000_000
	if raceEnabled {
		events = 100_000 // the race detector makes the 1M walk take over a minute
	}
	cfg := Config{Events: events, Span: 24 * time.Hour, End: t0, Now: fixedNow, Seed: 11,
		Paging: PagingPersistentToken, PageSize: 1000, Faults: Faults{ErrorRate: 0.05}}
	srv := New(cfg)
	base := startTest(t, srv)
	u := base + "/api/v1/events?limit=1000&since=" + srv.FormatTime(t0.Add(-24*time.Hour))
	for n := 0; n < 3*events/1000 && time.Now().Before(deadline); n++ {
		r := get(t, http.DefaultClient, u)
		if r.status != 200 {
			continue
		}
		if len(gjsonIDs(r.body, "data")) == 0 {
			break
		}
		u = base + "/api/v1/events?limit=1000&from=" + gjsonStr(r.body, "next")
	}
	uq, tot := srv.Served()
	assert.Equal(t, int64(events), uq)
	assert.Equal(t, int64(events), tot)
	assert.Greater(t, srv.StatusCounts()[500], int64(0))

	cfg.Paging = PagingNextPageToken
	srv = New(cfg)
	base = startTest(t, srv)
	var ids []string
	for w := t0.Add(-3 * time.Hour); w.Before(t0) && time.Now().Before(deadline); w = w.Add(5 * time.Minute) {
		got := walkWindowRetry(t, srv, base, w, w.Add(5*time.Minute))
		ids = append(ids, got...)
	}
	assert.Equal(t, srv.IDsIn(t0.Add(-3*time.Hour), t0), ids)
}

// walkWindowRetry walks a NextPageToken window retrying non-200 pages.
func walkWindowRetry(t *testing.T, srv *Server, base string, since, until time.Time) []string {
	q := srv.WindowQuery(since, until)
	q.Set("limit", "1000")
	var ids []string
	tok := ""
	for n := 0; n < 1000; n++ {
		qq := q.Encode()
		if tok != "" {
			qq += "&page_token=" + tok
		}
		r := get(t, http.DefaultClient, base+"/api/v1/events?"+qq)
		if r.status != 200 {
			continue
		}
		ids = append(ids, gjsonIDs(r.body, "data")...)
		if tok = gjsonStr(r.body, "next_page_token"); tok == "" {
			break
		}
	}
	return ids
}
