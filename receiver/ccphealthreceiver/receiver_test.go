package ccphealthreceiver

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccphealthreceiver/internal/metadata"
)

type started struct {
	*healthReceiver
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
}

func start(t *testing.T, cfg *Config, next consumer.Logs, reg *connstate.Registry) *started {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	r, err := newReceiver(set, cfg, next, reg)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	return &started{healthReceiver: r, tel: tel, logs: logs}
}

func (s *started) counter(t *testing.T, name string) int64 {
	t.Helper()
	m, err := s.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// bodies returns the body maps of every record the sink holds.
func bodies(sink *consumertest.LogsSink) []map[string]any {
	var out []map[string]any
	for _, ld := range sink.AllLogs() {
		rls := ld.ResourceLogs()
		for i := 0; i < rls.Len(); i++ {
			sls := rls.At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					out = append(out, lrs.At(k).Body().Map().AsRaw())
				}
			}
		}
	}
	return out
}

func defaultCfg() *Config { return createDefaultConfig().(*Config) }

// attempt runs one window attempt on c: a success with n records, or a failure with code.
func attempt(c *connstate.Connector, n, code int) {
	now := time.Now()
	c.Begin(now.Add(-5*time.Minute), now)
	c.Request(false)
	if code != 0 {
		c.Failed("HTTP 401: key refused", code)
		return
	}
	c.Page()
	c.Received(n, now)
	c.Succeeded()
}

func TestOneRecordPerAttemptAndPerChange(t *testing.T) {
	reg := connstate.NewRegistry()
	sink := new(consumertest.LogsSink)
	r := start(t, defaultCfg(), sink, reg)
	c := reg.Register(ident)
	attempt(c, 10, 0)
	attempt(c, 0, 401)
	attempt(c, 7, 0)
	// success, failure, Connected→Degraded, success, Degraded→Connected
	waitFor(t, "5 records", func() bool { return sink.LogRecordCount() == 5 })
	require.NoError(t, r.Shutdown(context.Background()))

	var got [][3]any
	for _, b := range bodies(sink) {
		got = append(got, [3]any{b["OperationName"], b["Status"], b["Reason"]})
	}
	assert.Equal(t, [][3]any{
		{OperationFetchSummary, StatusSuccess, ""},
		{OperationFailureSummary, StatusFailure, "Unauthorized"},
		{OperationStatusChange, StatusWarning, "Degraded"},
		{OperationFetchSummary, StatusSuccess, ""},
		{OperationStatusChange, StatusSuccess, ""},
	}, got)
	b := bodies(sink)
	assert.Equal(t, int64(10), b[0]["ExtendedProperties"].(map[string]any)["TotalRecordCount"])
	// the change to Degraded carries the failure that caused it
	fs := b[2]["ExtendedProperties"].(map[string]any)["FailureSummary"].([]any)
	require.Len(t, fs, 1)
	assert.Equal(t, int64(401), fs[0].(map[string]any)["StatusCode"])
	assert.Equal(t, int64(5), r.counter(t, "otelcol_ccp_health_records"))
	assert.Equal(t, int64(0), r.counter(t, "otelcol_ccp_health_records_dropped"))
}

func TestIncludeSuccessesFalse(t *testing.T) {
	reg := connstate.NewRegistry()
	sink := new(consumertest.LogsSink)
	cfg := defaultCfg()
	cfg.IncludeSuccesses = false
	r := start(t, cfg, sink, reg)
	c := reg.Register(ident)
	attempt(c, 10, 0)
	c.Begin(time.Now(), time.Now())
	c.Skipped("max_pages_per_window")
	c.Succeeded() // a warning: still emitted (and Connected→Degraded)
	attempt(c, 0, 500)
	waitFor(t, "3 records", func() bool { return sink.LogRecordCount() == 3 })
	require.NoError(t, r.Shutdown(context.Background()))
	var statuses []any
	for _, b := range bodies(sink) {
		statuses = append(statuses, b["Status"])
	}
	assert.Equal(t, []any{StatusWarning, StatusWarning, StatusFailure}, statuses)
}

// blocked never returns from ConsumeLogs until released or its context ends.
type blocked struct {
	release chan struct{}
	calls   sync.WaitGroup
	once    sync.Once
}

func (*blocked) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (b *blocked) ConsumeLogs(ctx context.Context, _ plog.Logs) error {
	b.once.Do(b.calls.Done)
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestBlockedPipelineNeverBlocksTheConnector: with a pipeline that never returns, a connector
// still reports all its attempts at once; what does not fit in the queue is counted and logged.
func TestBlockedPipelineNeverBlocksTheConnector(t *testing.T) {
	reg := connstate.NewRegistry()
	next := &blocked{release: make(chan struct{})}
	next.calls.Add(1)
	cfg := defaultCfg()
	cfg.QueueSize = 4
	r := start(t, cfg, next, reg)
	c := reg.Register(ident)
	attempt(c, 1, 0)
	next.calls.Wait() // the loop holds the first event inside ConsumeLogs
	done := make(chan struct{})
	go func() {
		for range 50 {
			attempt(c, 1, 0)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the connector was blocked by the health pipeline")
	}
	assert.Equal(t, int64(50-4), r.counter(t, "otelcol_ccp_health_records_dropped"))
	assert.Equal(t, int64(50-4), r.dropped.Load())
	warn := r.logs.FilterMessage("health records dropped").All()
	require.Len(t, warn, 1, "the first drop is logged, not every one")
	assert.Contains(t, warn[0].ContextMap()["why"], "queue full")

	// Shutdown cancels the blocked push (counted as dropped) and flushes the queue (the
	// pipeline refuses it too: its context is cancelled).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, r.Shutdown(ctx))
	assert.Equal(t, int64(51), r.dropped.Load())
}

func TestShutdownFlushesAndUnsubscribes(t *testing.T) {
	reg := connstate.NewRegistry()
	sink := new(consumertest.LogsSink)
	r := start(t, defaultCfg(), sink, reg)
	c := reg.Register(ident)
	r.cancel() // stop the loop: events stay queued until Shutdown flushes them
	r.wg.Wait()
	attempt(c, 3, 0)
	attempt(c, 4, 0)
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Equal(t, 2, sink.LogRecordCount())
	attempt(c, 5, 0)
	assert.Equal(t, 2, sink.LogRecordCount(), "no event after Shutdown")
	assert.Empty(t, r.queue)
}

func TestPeriodicStatusOfEveryConnector(t *testing.T) {
	reg := connstate.NewRegistry()
	sink := new(consumertest.LogsSink)
	cfg := defaultCfg()
	cfg.StatusInterval = 20 * time.Millisecond // below the Validate floor, for the test only
	reg.Register(ident)
	other := ident
	other.ID, other.Name = "ccp/other", "Other"
	reg.Register(other).SetDisabled("the definition sets isActive: false")
	r := start(t, cfg, sink, reg)
	waitFor(t, "two rounds", func() bool { return sink.LogRecordCount() >= 4 })
	require.NoError(t, r.Shutdown(context.Background()))
	b := bodies(sink)
	assert.Equal(t, "ccp/okta", b[0]["SentinelResourceId"])
	assert.Equal(t, "Status unchanged: Connected", b[0]["Description"])
	assert.Equal(t, "ccp/other", b[1]["SentinelResourceId"])
	assert.Equal(t, StatusInformational, b[1]["Status"])
	assert.Equal(t, "Status unchanged: Disabled: the definition sets isActive: false", b[1]["Description"])
}

func TestRefusedBatchIsCountedAsDropped(t *testing.T) {
	reg := connstate.NewRegistry()
	r := start(t, defaultCfg(), consumertest.NewErr(errors.New("exporter full")), reg)
	c := reg.Register(ident)
	attempt(c, 1, 0)
	waitFor(t, "the drop", func() bool { return r.dropped.Load() == 1 })
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Len(t, r.logs.FilterMessage("the pipeline refused health records").All(), 1)
}

// TestStallIsAFailureRecord: the watchdog's verdict (SetStalled) becomes a Failure status
// change, and a completed window clears it with a Success one.
func TestStallIsAFailureRecord(t *testing.T) {
	reg := connstate.NewRegistry()
	sink := new(consumertest.LogsSink)
	r := start(t, defaultCfg(), sink, reg)
	c := reg.Register(ident)
	c.SetStalled(true, "stalled: no window completed for 15m0s (stall_after 15m0s)")
	c.SetStalled(false, "a window completed")
	waitFor(t, "2 records", func() bool { return sink.LogRecordCount() == 2 })
	require.NoError(t, r.Shutdown(context.Background()))
	b := bodies(sink)
	assert.Equal(t, StatusFailure, b[0]["Status"])
	assert.Equal(t, "Stalled", b[0]["Reason"])
	assert.Equal(t, "Status changed from Connected to Stalled: stalled: no window completed for 15m0s (stall_after 15m0s)", b[0]["Description"])
	assert.Equal(t, StatusSuccess, b[1]["Status"])
	assert.Equal(t, "Status changed from Stalled to Connected: a window completed", b[1]["Description"])
}
