package azuremonitordcrexporter

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"

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
