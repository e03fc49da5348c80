package vendorapi

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// at builds a request of replica from ms to ms+dur milliseconds after base.
func at(replica string, ms, dur int) ReplicaRequest {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	start := base.Add(time.Duration(ms) * time.Millisecond)
	return ReplicaRequest{Replica: replica, Start: start, End: start.Add(time.Duration(dur) * time.Millisecond), Status: 200}
}

func TestFindOverlaps(t *testing.T) {
	gap := time.Second
	t.Run("clean handover", func(t *testing.T) {
		// a polls, dies; b takes over 4 s later: no overlap, whatever the gap.
		reqs := []ReplicaRequest{at("a", 0, 100), at("a", 500, 100), at("a", 1000, 100), at("b", 5100, 100), at("b", 5600, 100)}
		assert.Empty(t, FindOverlaps("c", reqs, gap))
		assert.Empty(t, FindOverlaps("c", reqs, 10*time.Second), "requests of one replica never overlap it")
	})
	t.Run("paused leader wakes up", func(t *testing.T) {
		// a is paused 8 s; b leads from 4 s; a's late requests at 8.0 and 8.6 s run
		// while b polls: one overlap of a's stretch [8.0, 8.7) with b's.
		reqs := []ReplicaRequest{at("a", 0, 100), at("b", 4000, 100), at("b", 4500, 100), at("b", 5000, 100),
			at("b", 7900, 100), at("a", 8000, 300), at("b", 8400, 100), at("a", 8600, 100), at("b", 8900, 100)}
		ov := FindOverlaps("c", reqs, gap)
		require.Len(t, ov, 1, "%+v", ov)
		assert.Equal(t, [2]string{"b", "a"}, ov[0].Replicas)
		assert.Equal(t, 700*time.Millisecond, ov[0].Length())
		assert.Equal(t, "c", ov[0].Connector)
		assert.Equal(t, 3, ov[0].Requests, "a's two requests and b's one at 8.4 s meet [8.0, 8.7)")
	})
	t.Run("gap splits stretches", func(t *testing.T) {
		// With a gap shorter than b's pause, a's request at 3 s falls in no stretch of b.
		reqs := []ReplicaRequest{at("b", 0, 100), at("a", 3000, 100), at("b", 6000, 100)}
		assert.Empty(t, FindOverlaps("c", reqs, gap))
		ov := FindOverlaps("c", reqs, 10*time.Second)
		require.Len(t, ov, 1, "with a 10 s gap b polled throughout [0, 6.1 s)")
		assert.Equal(t, 100*time.Millisecond, ov[0].Length())
	})
	t.Run("three replicas, unsorted input", func(t *testing.T) {
		reqs := []ReplicaRequest{at("c", 250, 500), at("a", 0, 1000), at("b", 200, 100)}
		ov := FindOverlaps("x", reqs, gap)
		require.Len(t, ov, 3, "%+v", ov)
		assert.Equal(t, [2]string{"a", "b"}, ov[0].Replicas)
		assert.Equal(t, 100*time.Millisecond, ov[0].Length())
		assert.Equal(t, [2]string{"a", "c"}, ov[1].Replicas)
		assert.Equal(t, 500*time.Millisecond, ov[1].Length())
		assert.Equal(t, [2]string{"b", "c"}, ov[2].Replicas)
		assert.Equal(t, 50*time.Millisecond, ov[2].Length())
	})
	assert.Empty(t, FindOverlaps("c", nil, gap))
}

// The server records each request's replica marker, and two replicas in flight at once
// are an overlap at least as long as the slow request that the other one landed inside.
func TestServerRecordsReplicas(t *testing.T) {
	srv := New(Config{Events: 100, End: t0, Now: fixedNow, ReplicaHeader: "X-Replica", Connector: "okta"})
	base := startTest(t, srv)
	u := base + "/api/v1/events?" + srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()
	send := func(replica string) int {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		if replica != "" {
			req.Header.Set("X-Replica", replica)
		}
		return do(t, http.DefaultClient, req).status
	}
	require.Equal(t, 200, send("r1"))
	require.Equal(t, 200, send("r1"))
	require.Empty(t, srv.Overlaps(time.Second), "one replica alone never overlaps")

	srv.SetFaults(Faults{SlowRate: 1, SlowDelay: 400 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); assert.Equal(t, 200, send("r2")) }()
	time.Sleep(100 * time.Millisecond) // r2's slow request is in flight
	srv.SetFaults(Faults{})
	require.Equal(t, 200, send("r3"))
	wg.Wait()
	require.Equal(t, 200, send(""))

	assert.Equal(t, map[string]int{"r1": 2, "r2": 1, "r3": 1, "": 1}, srv.RequestsByReplica())
	recs := srv.ReplicaRequests()
	require.Len(t, recs, 5)
	for _, r := range recs {
		assert.False(t, r.End.Before(r.Start), "%+v", r)
		assert.Equal(t, 200, r.Status)
	}
	var r2r3 []Overlap
	for _, o := range srv.Overlaps(0) {
		assert.Equal(t, "okta", o.Connector)
		if o.Replicas == [2]string{"r2", "r3"} {
			r2r3 = append(r2r3, o)
		}
	}
	require.Len(t, r2r3, 1, "r3 polled while r2's request was in flight: %+v", srv.Overlaps(0))
	assert.Positive(t, r2r3[0].Length())
	for _, r := range recs {
		if r.Replica == "r3" {
			assert.LessOrEqual(t, r2r3[0].Length(), r.End.Sub(r.Start), "no longer than r3's request")
		}
	}
	var marked []string
	for _, e := range srv.Requests() {
		marked = append(marked, e.Header["X-Replica"])
	}
	assert.ElementsMatch(t, []string{"r1", "r1", "r2", "r3", ""}, marked, "the request log shows the marker")

	srv.ResetAccounting()
	assert.Empty(t, srv.ReplicaRequests())
}

func TestReplicaRecordIsBounded(t *testing.T) {
	srv := New(Config{Events: 10, End: t0, Now: fixedNow, ReplicaHeader: "X-Replica", ReplicaLogSize: 4})
	base := startTest(t, srv)
	u := base + "/api/v1/events?" + srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()
	for i := range 10 {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		req.Header.Set("X-Replica", string(rune('a'+i)))
		require.Equal(t, 200, do(t, http.DefaultClient, req).status)
	}
	recs := srv.ReplicaRequests()
	assert.LessOrEqual(t, len(recs), 4)
	require.NotEmpty(t, recs)
	assert.Equal(t, "j", recs[len(recs)-1].Replica, "the newest request is kept")
	assert.Empty(t, New(Config{}).ReplicaRequests(), "nothing is recorded without ReplicaHeader")
}
