package ccpreceiver

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	zapobserver "go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/checkpoint"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/metadata"
)

// observed starts a receiver whose logs and metrics the test reads.
type observed struct {
	*ccpReceiver
	logs *zapobserver.ObservedLogs
	tel  *componenttest.Telemetry
}

func startObserved(t *testing.T, cfg *Config, next consumer.Logs, host component.Host) *observed {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	core, logs := zapobserver.New(zap.DebugLevel)
	set.Logger = zap.New(core)
	set.ID = component.NewIDWithName(metadata.Type, "test")
	r, err := newReceiver(set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return &observed{ccpReceiver: r, logs: logs, tel: tel}
}

// counter sums a counter's points whose attributes include want (nil: all points); -1 when the
// metric was never recorded.
func counter(t *testing.T, tel *componenttest.Telemetry, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		return -1
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is %T", name, m.Data)
	var got int64
	for _, dp := range sum.DataPoints {
		match := true
		for _, kv := range want {
			if v, ok := dp.Attributes.Value(kv.Key); !ok || v != kv.Value {
				match = false
			}
		}
		if match {
			got += dp.Value
		}
	}
	return got
}

func vendor(t *testing.T, cfg vendorapi.Config) (*vendorapi.Server, string) {
	t.Helper()
	cfg.Auth, cfg.APIKey, cfg.APIKeyHeader = vendorapi.AuthAPIKey, "k", "X-Api-Key"
	cfg.Paging = vendorapi.PagingNextPageToken
	srv := vendorapi.New(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

// refuseForever refuses every push permanently (a processor that cannot handle the data). Like
// every consumer it is called concurrently (the receiver keeps parts in flight).
type refuseForever struct{ calls atomic.Int64 }

func (*refuseForever) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (r *refuseForever) ConsumeLogs(context.Context, plog.Logs) error {
	r.calls.Add(1)
	return consumererror.NewPermanent(errors.New("cannot map this record"))
}

// TestPermanentRefusalIsCountedAsDropped: records a consumer refuses for good are counted as
// dropped, never as delivered events, and logged at error level with their window.
func TestPermanentRefusalIsCountedAsDropped(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	_, url := vendor(t, vendorapi.Config{Events: 300, Span: time.Hour, End: end, PageSize: 100})
	cfg := testConfig(url)
	cfg.InitialLookback = 2 * time.Hour
	r := startObserved(t, cfg, &refuseForever{}, componenttest.NewNopHost())
	waitFor(t, "every record dropped", func() bool { return counter(t, r.tel, "otelcol_ccp_records_dropped") == 300 })
	assert.LessOrEqual(t, counter(t, r.tel, "otelcol_ccp_events"), int64(0), "dropped records are not delivered events")
	drops := r.logs.FilterLevelExact(zap.ErrorLevel).FilterMessageSnippet("permanently refused").All()
	require.NotEmpty(t, drops)
	fields := drops[0].ContextMap()
	assert.Contains(t, fields, "window_start")
	assert.Contains(t, fields, "window_end")
}

// TestMaxCatchUpSkipsLoudly: a checkpoint three days old resumes at now − max_catch_up; the gap
// is an error log with its bounds and a max_catch_up skip metric, and exactly the events after
// the gap are delivered.
func TestMaxCatchUpSkipsLoudly(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	srv, url := vendor(t, vendorapi.Config{Events: 720, Span: 72 * time.Hour, End: end, PageSize: 100})
	host := storagetest.NewStorageHost().WithFileBackedStorageExtension("file_storage", t.TempDir())
	cfg := testConfig(url)
	id := storagetest.NewStorageID("file_storage")
	cfg.Storage = &id
	cfg.MaxCatchUp = 24 * time.Hour
	saveCheckpoint(t, host, cfg, end.Add(-72*time.Hour))

	s := &sink{ids: map[string]int{}}
	r := startObserved(t, cfg, s, host)
	gaps := func() *zapobserver.ObservedLogs { // Filter takes a snapshot
		return r.logs.FilterLevelExact(zap.ErrorLevel).FilterMessageSnippet("max_catch_up")
	}
	waitFor(t, "the gap log", func() bool { return gaps().Len() > 0 })
	gapEnd, ok := gaps().All()[0].ContextMap()["gap_end"].(time.Time)
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(-24*time.Hour), gapEnd, 2*time.Minute)
	lo, hi := srv.EventsIn(gapEnd, end)
	waitFor(t, "the events after the gap", func() bool { u, _ := s.count(); return u >= hi-lo })
	require.NoError(t, r.Shutdown(context.Background()))
	for i := lo; i < hi; i++ {
		assert.Equal(t, 1, s.ids[srv.EventID(i)], srv.EventID(i))
	}
	assert.Len(t, s.ids, hi-lo, "nothing from the skipped gap")
	assert.Equal(t, int64(1), counter(t, r.tel, "otelcol_ccp_data_skipped", attribute.String("reason", "max_catch_up")))
}

func saveCheckpoint(t *testing.T, host component.Host, cfg *Config, windowEnd time.Time) {
	t.Helper()
	ctx := context.Background()
	client, err := storageClient(ctx, host, cfg.Storage, component.NewIDWithName(metadata.Type, "test"))
	require.NoError(t, err)
	loaded, err := cfg.loadDefinition()
	require.NoError(t, err)
	st := checkpoint.State{Fingerprint: loaded.Fingerprint, WindowEnd: windowEnd}
	require.NoError(t, checkpoint.New(client).Save(ctx, st))
	require.NoError(t, client.Close(ctx))
}

// TestPageCapSkipIsReported: the engine's max_pages_per_window skip reaches the receiver, which
// logs it at error level with the window and counts it by reason.
func TestPageCapSkipIsReported(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	_, url := vendor(t, vendorapi.Config{Events: 300, Span: 30 * time.Minute, End: end, PageSize: 100})
	cfg := testConfig(url)
	cfg.InitialLookback = 2 * time.Hour
	cfg.MaxPagesPerWindow = 1
	r := startObserved(t, cfg, &sink{ids: map[string]int{}}, componenttest.NewNopHost())
	waitFor(t, "the skip metric", func() bool {
		return counter(t, r.tel, "otelcol_ccp_data_skipped", attribute.String("reason", "max_pages_per_window")) >= 1
	})
	skips := r.logs.FilterLevelExact(zap.ErrorLevel).FilterMessageSnippet("data skipped").All()
	require.NotEmpty(t, skips)
	fields := skips[0].ContextMap()
	assert.Equal(t, "max_pages_per_window", fields["reason"])
	assert.Contains(t, fields, "window_start")
	assert.Contains(t, skips[0].Message, "max_pages_per_window")
}

// TestMetricsNameTheConnector: every metric carries connector=<name>, so two ccp receivers in
// one collector are told apart (counters would add up, gauges collide).
func TestMetricsNameTheConnector(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	_, url := vendor(t, vendorapi.Config{Events: 100, Span: time.Hour, End: end, PageSize: 100})
	cfg := testConfig(url)
	cfg.Name = "alpha"
	r := startObserved(t, cfg, &sink{ids: map[string]int{}}, componenttest.NewNopHost())
	alpha := attribute.String("connector", "alpha")
	waitFor(t, "events", func() bool { return counter(t, r.tel, "otelcol_ccp_events", alpha) == 100 })
	for _, name := range []string{"otelcol_ccp_pages", "otelcol_ccp_requests", "otelcol_ccp_response_bytes", "otelcol_ccp_windows"} {
		assert.Positive(t, counter(t, r.tel, name, alpha), name)
	}
	assert.Equal(t, int64(0), counter(t, r.tel, "otelcol_ccp_events", attribute.String("connector", "other")))
}
