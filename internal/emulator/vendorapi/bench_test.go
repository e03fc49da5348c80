package vendorapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"
)

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkServePage serves 1000-event pages (1 KiB events) of a
// 1,000,000-event store straight through ServeHTTP (no network).
func BenchmarkServePage(b *testing.B) {
	for _, gz := range []bool{false, true} {
		b.Run("gzip="+strconv.FormatBool(gz), func(b *testing.B) {
			srv := New(Config{Events: 1_000_000, Span: 24 * time.Hour, End: t0, Now: fixedNow, Seed: 1,
				Paging: PagingOffset, PageSize: 1000, Faults: Faults{Gzip: gz}})
			q := srv.WindowQuery(t0.Add(-24*time.Hour), t0)
			q.Set("limit", "1000")
			reqs := make([]*http.Request, 100)
			for i := range reqs {
				q.Set("offset", strconv.Itoa(i*1000))
				reqs[i] = httptest.NewRequest(http.MethodGet, "/api/v1/events?"+q.Encode(), nil)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				clear(w.h)
				srv.ServeHTTP(w, reqs[i%len(reqs)])
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkHTTPWalk walks NextPageToken pages over loopback HTTP.
func BenchmarkHTTPWalk(b *testing.B) {
	srv := New(Config{Events: 1_000_000, Span: 24 * time.Hour, End: t0, Now: fixedNow,
		Paging: PagingNextPageToken, PageSize: 1000})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	q := srv.WindowQuery(t0.Add(-24*time.Hour), t0)
	tok := ""
	b.ReportAllocs()
	for b.Loop() {
		qq := q.Encode()
		if tok != "" {
			qq += "&" + url.Values{"page_token": {tok}}.Encode()
		}
		r, err := http.Get(ts.URL + "/api/v1/events?" + qq)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		tok = gjsonStr(body, "next_page_token")
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
