//go:build unix

package ccpreceiver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// benchReceiver builds a receiver around an engine for url without starting goroutines.
func benchReceiver(b *testing.B, url string, paging map[string]any) (*ccpReceiver, *poller.Engine) {
	b.Helper()
	cfg := testConfig(url)
	cfg.PollingConfig["paging"] = paging
	loaded, err := cfg.loadDefinition()
	require.NoError(b, err)
	r := &ccpReceiver{loaded: loaded, attrs: pcommon.NewMap()}
	r.attrs.PutStr("ccp.connector", "bench")
	c, err := loaded.Open(connector.Options{})
	require.NoError(b, err)
	return r, c.Engine
}

// cpuTime is the process's user and system CPU time, every thread included (the GC, the
// in-process HTTP server). Issue 13's targets are events per CPU-second, and on a shared
// machine CPU time varies much less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRates reports events per wall second and per CPU-second since cpu0.
func reportRates(b *testing.B, events int, cpu0 time.Duration) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkPageToLogs: one page of 1000 ~1 KB events, from the HTTP response to plog.Logs.
func BenchmarkPageToLogs(b *testing.B) {
	srv := vendorapi.New(vendorapi.Config{Events: 1000, Span: time.Hour, PageSize: 1000, MaxPageSize: 1000,
		Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "X-Api-Key"})
	end := vendorapi.DefaultEnd
	// Serve the same recorded page on every request, so the benchmark measures the receiver.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/events?"+srv.WindowQuery(end.Add(-time.Hour), end).Encode(), nil)
	req.Header.Set("X-Api-Key", "k")
	srv.ServeHTTP(rec, req)
	require.Equal(b, 200, rec.Code)
	body := rec.Body.Bytes()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer ts.Close()
	r, e := benchReceiver(b, ts.URL, nil)
	r.next = consumertest.NewNop()
	w := window.Window{Start: end.Add(-time.Hour), End: end}
	events := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		_, err := e.PollWindow(context.Background(), w, "", "", func(_ context.Context, p poller.Page) error {
			events += r.toLogs(p.Events).LogRecordCount()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.Equal(b, 1000*b.N, events)
	reportRates(b, events, cpu0)
}

// BenchmarkBackfill10k: 10,000 events over 10 NextPageToken pages of 1000 from the emulator.
func BenchmarkBackfill10k(b *testing.B) {
	end := vendorapi.DefaultEnd
	srv := vendorapi.New(vendorapi.Config{Events: 10000, Span: time.Hour, End: end, PageSize: 1000, MaxPageSize: 1000,
		Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "X-Api-Key", Paging: vendorapi.PagingNextPageToken})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	r, e := benchReceiver(b, ts.URL, map[string]any{"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token",
		"nextPageParaName": "page_token", "pageSizeParaName": "limit", "pageSize": 1000})
	r.next = consumertest.NewNop()
	events := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		// Six 10-minute windows cover the hour, as a catch-up after downtime would.
		for s := end.Add(-time.Hour); s.Before(end); s = s.Add(10 * time.Minute) {
			_, err := e.PollWindow(context.Background(), window.Window{Start: s, End: s.Add(10 * time.Minute)}, "", "",
				func(ctx context.Context, p poller.Page) error {
					ld := r.toLogs(p.Events)
					events += ld.LogRecordCount()
					return r.next.ConsumeLogs(ctx, ld)
				})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	require.Equal(b, 10000*b.N, events)
	reportRates(b, events, cpu0)
}

// BenchmarkTokenPages: the path issue 13 sets its poll target on, without the emulator's own
// cost: one window of 10 NextPageToken pages of 1000 ~1 KB events, recorded from the emulator
// once and then replayed, from the HTTP body to plog.Logs handed to the next consumer.
func BenchmarkTokenPages(b *testing.B) {
	end := vendorapi.DefaultEnd
	srv := vendorapi.New(vendorapi.Config{Events: 10000, Span: time.Hour, End: end, PageSize: 1000, MaxPageSize: 1000,
		Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "X-Api-Key", Paging: vendorapi.PagingNextPageToken})
	var mu sync.Mutex
	pages := map[string][]byte{} // by the page_token asked for ("" = first page)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tok := req.URL.Query().Get("page_token")
		mu.Lock()
		body, ok := pages[tok]
		mu.Unlock()
		if !ok {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			body = rec.Body.Bytes()
			mu.Lock()
			pages[tok] = body
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer ts.Close()
	r, e := benchReceiver(b, ts.URL, map[string]any{"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token",
		"nextPageParaName": "page_token", "pageSizeParaName": "limit", "pageSize": 1000})
	r.next = consumertest.NewNop()
	w := window.Window{Start: end.Add(-time.Hour), End: end}
	events := 0
	poll := func() {
		_, err := e.PollWindow(context.Background(), w, "", "", func(ctx context.Context, p poller.Page) error {
			ld := r.toLogs(p.Events)
			events += ld.LogRecordCount()
			return r.next.ConsumeLogs(ctx, ld)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	poll() // records the pages
	require.Len(b, pages, 10)
	events = 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		poll()
	}
	b.StopTimer()
	require.Equal(b, 10000*b.N, events)
	reportRates(b, events, cpu0)
}
