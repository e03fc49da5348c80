package azuremonitordcrexporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter/internal/metadata"
)

// BenchmarkPush measures plog.Logs of ~1 KB JSON events → finished gzip request bodies (the whole
// pushLogs path except the HTTP round trip). Metrics: events/s, mean fill of the requests that were
// closed because they were full, requests per 1,000 events, raw JSON MB/s (via SetBytes).
func BenchmarkPush(b *testing.B) {
	const events = 20000
	ld := genLogs(events, 1024, "bench")
	for _, lib := range []string{"klauspost", "stdlib"} {
		for _, level := range []int{1, 5, 9} {
			b.Run(fmt.Sprintf("%s/level=%d", lib, level), func(b *testing.B) {
				cfg := createDefaultConfig().(*Config)
				cfg.ClientConfig.Endpoint = "https://127.0.0.1:1"
				cfg.DCRImmutableID = "dcr-0123456789abcdef0123456789abcdef"
				cfg.StreamName = "Custom-Bench_CL"
				cfg.CompressionLevel = level
				e, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
				require.NoError(b, err)
				e.stdlibGzip = lib == "stdlib"
				var sizes []int
				var raw, reqs, fullWire, fullReqs int64
				e.testPost = func(body []byte, rawLen int) postResult {
					sizes = append(sizes, len(body))
					raw += int64(rawLen)
					return postResult{status: 204}
				}
				ctx := context.Background()
				// one warm-up push to learn the raw size for SetBytes
				require.NoError(b, e.pushLogs(ctx, ld))
				b.SetBytes(raw)
				sizes, raw = sizes[:0], 0
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					sizes = sizes[:0]
					if err := e.pushLogs(ctx, ld); err != nil {
						b.Fatal(err)
					}
					reqs += int64(len(sizes))
					for _, s := range sizes[:len(sizes)-1] { // the last request of a push is partial
						fullWire += int64(s)
						fullReqs++
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)*events/b.Elapsed().Seconds(), "events/s")
				if fullReqs > 0 {
					b.ReportMetric(float64(fullWire)/float64(fullReqs)/float64(cfg.MaxRequestBytes), "fill")
				}
				b.ReportMetric(float64(reqs)*1000/(float64(b.N)*events), "req/1k-events")
			})
		}
	}
}

// BenchmarkConcurrentPushes is the real pipeline's shape: many small pushes (one receiver page or
// one OTLP batch each: 1,000 events of ~1 KB), 8 in flight at a time, through the HTTP client to a
// 127.0.0.1 TLS server that reads and discards the body. One iteration is 64 pushes. Metrics:
// events per CPU-second of the whole process (user+system, server included), mean wire fill of the
// requests except the last one of each iteration, and requests per 1,000 events.
func BenchmarkConcurrentPushes(b *testing.B) {
	const pushes, perPush, inFlight = 64, 1000, 8
	var mu sync.Mutex
	var sizes []int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by Close are expected
	srv.StartTLS()
	defer srv.Close()
	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = srv.URL
	cfg.ClientConfig.TLS.InsecureSkipVerify = true
	cfg.DCRImmutableID = "dcr-0123456789abcdef0123456789abcdef"
	cfg.StreamName = "Custom-Bench_CL"
	e, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(b, err)
	e.client, err = cfg.ClientConfig.ToClient(context.Background(), nil, componenttest.NewNopTelemetrySettings())
	require.NoError(b, err)
	batches := make([]plog.Logs, pushes)
	for i := range batches {
		batches[i] = genLogs(perPush, 1024, fmt.Sprintf("c%d", i))
	}
	var fillSum float64
	var fillN, reqs int
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		mu.Lock()
		sizes = sizes[:0]
		mu.Unlock()
		if err := runConcurrently(inFlight, batches, func(ld plog.Logs) error { return e.pushLogs(context.Background(), ld) }); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		reqs += len(sizes)
		for _, s := range sizes[:len(sizes)-1] {
			fillSum += float64(s) / float64(cfg.MaxRequestBytes)
			fillN++
		}
		mu.Unlock()
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	events := float64(b.N) * pushes * perPush
	b.ReportMetric(events/cpu.Seconds(), "events/cpu-s")
	if fillN > 0 {
		b.ReportMetric(fillSum/float64(fillN), "fill")
	}
	b.ReportMetric(float64(reqs)*1000/events, "req/1k-events")
}

// runConcurrently calls push for every batch, at most n at a time, and returns the errors.
func runConcurrently(n int, batches []plog.Logs, push func(plog.Logs) error) error {
	work := make(chan plog.Logs)
	var wg sync.WaitGroup
	errs := make(chan error, len(batches))
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ld := range work {
				if err := push(ld); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, ld := range batches {
		work <- ld
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
