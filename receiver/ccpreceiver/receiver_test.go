package ccpreceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/metadata"
)

// sink collects event ids; it can be told to refuse the next n batches.
type sink struct {
	mu     sync.Mutex
	ids    map[string]int
	total  int
	refuse int
	attrs  map[string]any
}

func (s *sink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *sink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse > 0 {
		s.refuse--
		return errors.New("downstream full")
	}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				id, _ := lr.Body().Map().Get("id")
				s.ids[id.Str()]++
				s.total++
				s.attrs = lr.Attributes().AsRaw()
			}
		}
	}
	return nil
}

func (s *sink) count() (unique, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids), s.total
}

func testConfig(url string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.InitialLookback = 3 * time.Hour
	cfg.Parameters = nil
	cfg.PollingConfig = map[string]any{
		"dcrConfig": map[string]any{"streamName": "Custom-Test_CL", "dataCollectionRuleImmutableId": "dcr-1"},
		"auth":      map[string]any{"type": "APIKey", "ApiKey": "k", "ApiKeyName": "X-Api-Key"},
		"request": map[string]any{"apiEndpoint": url + "/api/v1/events", "queryWindowInMin": 30,
			"startTimeAttributeName": "since", "endTimeAttributeName": "until"},
		"paging": map[string]any{"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token",
			"nextPageParaName": "page_token", "pageSizeParaName": "limit", "pageSize": 100},
		"response":        map[string]any{"eventsJsonPaths": []any{"$.data"}},
		"addOnAttributes": map[string]any{"Tenant": "acme", "Skipped": nil},
	}
	return cfg
}

func startReceiver(t *testing.T, cfg *Config, next consumer.Logs, host component.Host) *ccpReceiver {
	t.Helper()
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zaptest.NewLogger(t)
	set.ID = component.NewIDWithName(metadata.Type, "test") // stable: checkpoints are keyed by the receiver ID
	r, err := newReceiver(set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), host))
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReceiverDeliversEveryEventOnceAcrossRestart(t *testing.T) {
	for _, size := range []int{0, 30} {
		t.Run(fmt.Sprintf("consume_batch_size=%d", size), func(t *testing.T) { testRestart(t, size) })
	}
}

func testRestart(t *testing.T, batch int) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	srv := vendorapi.New(vendorapi.Config{Events: 2000, Span: 2 * time.Hour, End: end,
		Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "X-Api-Key", Paging: vendorapi.PagingNextPageToken, PageSize: 100})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	host := storagetest.NewStorageHost().WithFileBackedStorageExtension("file_storage", t.TempDir())
	cfg := testConfig(ts.URL)
	cfg.ConsumeBatchSize = batch
	id := storagetest.NewStorageID("file_storage")
	cfg.Storage = &id

	s := &sink{ids: map[string]int{}}
	r := startReceiver(t, cfg, s, host)
	waitFor(t, "first half", func() bool { u, _ := s.count(); return u >= 1000 })
	require.NoError(t, r.Shutdown(context.Background()))

	// A request the shutdown aborted may still be finishing in the emulator: let it end so
	// the concurrency check below sees only the new receiver's requests.
	waitFor(t, "aborted requests to end", func() bool { return srv.Stats().InFlight == 0 })
	srv.ResetAccounting()

	// Restart on the same storage: the rest arrives and nothing already delivered is re-sent.
	r = startReceiver(t, cfg, s, host)
	waitFor(t, "all events", func() bool { u, _ := s.count(); return u == 2000 })
	require.NoError(t, r.Shutdown(context.Background()))
	unique, total := s.count()
	assert.Equal(t, 2000, unique)
	assert.Equal(t, 2000, total, "no event delivered twice")
	assert.Equal(t, "dcr-1", s.attrs[ccpattr.DCRImmutableID])
	assert.Equal(t, "Custom-Test_CL", s.attrs[ccpattr.DCRStreamName])
	assert.LessOrEqual(t, srv.MaxConcurrent(), int64(1), "never two polls at once")
}

func TestRefusedPageIsRetriedAndCheckpointHeld(t *testing.T) {
	// One part at a time: a refused part is the only thing sent again.
	s := refusedThenAll(t, 1)
	for id, n := range s.ids {
		require.Equal(t, 1, n, "%s: a refused page is not counted as delivered, the rest exactly once per attempt", id)
	}
}

// With parts in flight together (the default), the parts handed over after a refused one may
// have been accepted already; the retry starts at the refused part, so they are sent again:
// at most max_in_flight parts, never a gap.
func TestRefusedPartWithPartsInFlight(t *testing.T) {
	s := refusedThenAll(t, defaultMaxInFlight)
	unique, total := s.count()
	assert.Equal(t, 300, unique)
	assert.LessOrEqual(t, total-unique, defaultMaxInFlight*40, "duplicates beyond the parts in flight")
}

// refusedThenAll polls 300 events in parts of 40 into a sink that refuses its first three
// pushes, and waits for all of them.
func refusedThenAll(t *testing.T, inFlight int) *sink {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	srv := vendorapi.New(vendorapi.Config{Events: 300, Span: time.Hour, End: end,
		Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "X-Api-Key", Paging: vendorapi.PagingNextPageToken, PageSize: 100})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	cfg := testConfig(ts.URL)
	cfg.MaxRetryBackoff = 10 * time.Millisecond
	cfg.ConsumeBatchSize = 40 // a refused part mid-page resumes at that part
	cfg.MaxInFlight = inFlight
	s := &sink{ids: map[string]int{}, refuse: 3}
	r := startReceiver(t, cfg, s, componenttest.NewNopHost())
	waitFor(t, "all events after the refusal", func() bool { u, _ := s.count(); return u == 300 })
	require.NoError(t, r.Shutdown(context.Background()))
	return s
}

func TestAddOnAttributesOnEveryEvent(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	loaded, err := cfg.loadDefinition()
	require.NoError(t, err)
	r := &ccpReceiver{loaded: loaded}
	r.attrs = plog.NewLogRecord().Attributes()
	logs := r.toLogs([]string{`{"id":"a"}`, `"scalar event"`})
	lrs := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	require.Equal(t, 2, lrs.Len())
	assert.Equal(t, map[string]any{"id": "a", "Tenant": "acme"}, lrs.At(0).Body().Map().AsRaw())
	assert.Equal(t, "scalar event", lrs.At(1).Body().Str())
	assert.NotZero(t, lrs.At(0).ObservedTimestamp())
}
