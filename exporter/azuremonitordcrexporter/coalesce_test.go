package azuremonitordcrexporter

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
)

// TestConcurrentPushesFillRequests is issue 13's pipeline shape through the factory with the
// default queue: 64 pushes of 1,000 ~1 KB events (one receiver page or OTLP batch each, ~350 KB
// of gzip), 8 in flight at a time. Requests are shared by pushes: mean wire fill ≥ 0.95 except
// the last request, none over 1 MiB on the wire, every event stored exactly once.
func TestConcurrentPushesFillRequests(t *testing.T) {
	const pushes, perPush = 64, 1000
	emu := startEmulator(t, nil)
	cfg := emulatorConfig(emu)
	cfg.StartupCheck = false
	exp, tel := startFull(t, cfg, nil)
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()
	batches := make([]plog.Logs, pushes)
	for i := range batches {
		batches[i] = genLogs(perPush, 1024, fmt.Sprintf("p%d", i))
	}
	require.NoError(t, runConcurrently(8, batches, func(ld plog.Logs) error {
		return exp.ConsumeLogs(context.Background(), ld)
	}))
	reqs := emu.Requests()
	require.GreaterOrEqual(t, len(reqs), 2)
	var fill float64
	for k, r := range reqs {
		require.Equal(t, 204, r.Status)
		require.LessOrEqual(t, r.WireBytes, int64(logsingestion.DefaultMaxWireBytes))
		if k < len(reqs)-1 {
			fill += float64(r.WireBytes) / float64(logsingestion.DefaultMaxWireBytes)
		}
	}
	fill /= float64(len(reqs) - 1)
	t.Logf("%d requests for %d pushes; mean wire fill except the last %.4f; sent because %v", len(reqs), pushes, fill, flushReasons(t, tel))
	assert.GreaterOrEqual(t, fill, 0.95)
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, pushes*perPush)
	for id, n := range got {
		require.Equal(t, 1, n, id)
	}
	assertCounter(t, tel, "otelcol_azure_monitor_dcr_records_sent", pushes*perPush)
}

// TestSharedRequestsReportOnlyStoredRecords: pushes whose rows share requests return only once
// the service stored all their rows, and a failed shared request goes back to the retry of
// every push with rows in it.
func TestSharedRequestsReportOnlyStoredRecords(t *testing.T) {
	emu := startEmulator(t, func(o *logsingestion.Options) {
		o.Faults.Latency = 30 * time.Millisecond // answers slow enough for pushes to meet
	})
	cfg := emulatorConfig(emu)
	cfg.StartupCheck = false
	e := mustStartRaw(t, cfg)
	batches := make([]plog.Logs, 16)
	for i := range batches {
		batches[i] = genLogs(200, 600, fmt.Sprintf("s%d", i))
	}
	var mu sync.Mutex
	var early []string
	require.NoError(t, runConcurrently(8, batches, func(ld plog.Logs) error {
		if err := e.pushLogs(context.Background(), ld); err != nil {
			return err
		}
		stored := ids(emu.Rows(testDCR, testStream))
		lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for i := 0; i < lrs.Len(); i++ {
			id, _ := lrs.At(i).Body().Map().Get("id")
			if stored[id.Str()] != 1 {
				mu.Lock()
				early = append(early, id.Str())
				mu.Unlock()
			}
		}
		return nil
	}))
	assert.Empty(t, early, "a push returned before the service stored its records")
	assert.Less(t, len(emu.Requests()), len(batches), "pushes share requests")

	// Every request fails now: each push gets all its records back for the retry.
	emu.SetFaults(logsingestion.Faults{Fail503Rate: 1})
	before := emu.RowCount()
	var returned int
	require.NoError(t, runConcurrently(8, batches, func(ld plog.Logs) error {
		err := e.pushLogs(context.Background(), ld)
		var le consumererror.Logs
		if !assert.ErrorAs(t, err, &le) {
			return nil
		}
		mu.Lock()
		returned += le.Data().LogRecordCount()
		mu.Unlock()
		return nil
	}))
	assert.Equal(t, 16*200, returned)
	assert.Equal(t, before, emu.RowCount())
}

// TestCoalescerDue: when an open request must go, and the linger's adaptation.
func TestCoalescerDue(t *testing.T) {
	r := route{testDCR, testStream}
	st := &pushState{routes: []route{r}}
	now := time.Now()
	setup := func(adding, adders, inflight int, opened, idle time.Time) *coalescer {
		c := newCoalescer(time.Second)
		c.adding = adding
		c.idleSince = idle
		c.lanes[r] = &lane{open: &openReq{rows: []rowRef{{st, 0}}, since: opened}, inflight: inflight,
			adders: adders, idleSince: idle}
		return c
	}
	cases := []struct {
		name                   string
		adding, adders, flight int
		opened, idle           time.Time
		cancelled              bool
		want                   flushReason
	}{
		{"a push is still adding", 1, 0, 0, now.Add(-10 * time.Millisecond), now.Add(-time.Second), false, ""},
		{"a request is in flight", 0, 0, 1, now.Add(-10 * time.Millisecond), now.Add(-time.Second), false, ""},
		{"quiet for less than the linger", 0, 0, 0, now.Add(-10 * time.Millisecond), now, false, ""},
		{"quiet for the linger", 0, 0, 0, now.Add(-10 * time.Millisecond), now.Add(-5 * time.Millisecond), false, flushIdle},
		{"flush_timeout passed while other destinations are written", 3, 0, 2, now.Add(-time.Second), now, false, flushTimeout},
		{"flush_timeout passed while rows are written into it", 1, 1, 0, now.Add(-time.Second), now, false, ""},
		{"the push's context ended", 1, 1, 1, now, now, true, flushCancelled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			co := setup(c.adding, c.adders, c.flight, c.opened, c.idle)
			_, req, why, wait := co.due(st, now, c.cancelled)
			assert.Equal(t, c.want, why)
			if c.want == "" {
				assert.Nil(t, req)
				assert.Positive(t, wait, "never a busy wait")
				assert.LessOrEqual(t, wait, time.Second)
			} else {
				require.NotNil(t, req)
				assert.Nil(t, co.lanes[r].open)
				assert.Equal(t, c.flight+1, co.lanes[r].inflight)
			}
		})
	}

	t.Run("linger learns from a push arriving while the others wait, and decays", func(t *testing.T) {
		co := newCoalescer(time.Second)
		co.inside, co.adding = 2, 0
		co.idleSince = time.Now().Add(-20 * time.Millisecond)
		co.enter()
		assert.GreaterOrEqual(t, co.linger, 40*time.Millisecond)
		assert.LessOrEqual(t, co.linger, lingerCap)
		learned := co.linger
		co.adding = 0
		co.idleSince = time.Now().Add(-time.Second)
		co.lanes[r] = &lane{open: &openReq{rows: []rowRef{{st, 0}}, since: time.Now()}, idleSince: co.idleSince}
		_, _, why, _ := co.due(st, time.Now(), false)
		require.Equal(t, flushIdle, why)
		assert.Equal(t, learned*3/4, co.linger)
	})
	t.Run("a producer alone never teaches the linger", func(t *testing.T) {
		co := newCoalescer(time.Second)
		co.idleSince = time.Now().Add(-50 * time.Millisecond)
		co.enter() // nobody else inside
		assert.Equal(t, lingerMin, co.linger)
	})
}

// flushReasons reads otelcol_azure_monitor_dcr_flushes by reason.
func flushReasons(t *testing.T, tel *componenttest.Telemetry) map[string]int64 {
	m, err := tel.GetMetric("otelcol_azure_monitor_dcr_flushes")
	require.NoError(t, err)
	out := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value("reason")
		out[v.AsString()] += dp.Value
	}
	return out
}
