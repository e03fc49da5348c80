package poller

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

// hostileEngine builds an engine for a definition whose endpoint is url; props may use {{base}}.
func hostileEngine(t testing.TB, url, props string, o Options) *Engine {
	t.Helper()
	props = strings.ReplaceAll(props, "{{base}}", url)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(props), &raw))
	d, err := definition.Parse(raw, "hostile")
	require.NoError(t, err)
	if o.BaseBackoff == 0 {
		o.BaseBackoff, o.MaxBackoff, o.MaxRetryAfter = time.Millisecond, 5*time.Millisecond, 20*time.Millisecond
	}
	e, err := New(d, o)
	require.NoError(t, err)
	return e
}

func pollAll(e *Engine) (int, error) {
	n := 0
	_, err := e.PollWindow(context.Background(), window.Window{Start: t0.Add(-time.Hour), End: t0}, "", "", func(_ context.Context, p Page) error {
		n += len(p.Events)
		return nil
	})
	return n, err
}

const plain = `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e", "retryCount": 1, "timeoutInSeconds": 5}, "response": {"eventsJsonPaths": ["$.data"]}}`

func TestHostileBodies(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	_, _ = zw.Write([]byte(`{"data": ["`))
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	for i := 0; i < 64; i++ { // 64 MiB of text, ~64 KiB on the wire
		_, _ = zw.Write(chunk)
	}
	_, _ = zw.Write([]byte(`"]}`))
	_ = zw.Close()

	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"gzip bomb", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb.Bytes())
		}, "exceeds the limit"},
		{"1 GB body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1073741824")
			buf := bytes.Repeat([]byte(" "), 1<<20)
			for i := 0; i < 1024 && r.Context().Err() == nil; i++ {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		}, "exceeds the limit"},
		{"never-ending chunked body", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"data": [`))
			buf := []byte(`{"x": 1},`)
			for i := 0; i < 10_000_000 && r.Context().Err() == nil; i++ { // bounded: ~90 MB at most
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		}, "exceeds the limit"},
		{"malformed JSON", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"data": [1, 2,, }`))
		}, "reading response"},
		{"deeply nested JSON", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"data": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`))
		}, "reading response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(tc.handler)
			defer ts.Close()
			e := hostileEngine(t, ts.URL, plain, Options{MaxBodySize: 4 << 20})
			_, err := pollAll(e)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRepeatingTokenStops(t *testing.T) {
	var calls atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte(`{"data": [{"id": 1}], "next": "same-token-forever"}`))
	}))
	defer ts.Close()
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e"},
	  "paging": {"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next", "nextPageParaName": "t"},
	  "response": {"eventsJsonPaths": ["$.data"]}}`, Options{})
	n, err := pollAll(e)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the repeated token ends the window after the second page")
	assert.EqualValues(t, 2, calls.Load())
}

func TestPageCapStopsEndlessPaging(t *testing.T) {
	var calls atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := calls.Add(1)
		_, _ = w.Write([]byte(`{"data": [{"id": 1}], "next": "t` + string(rune('a'+n%26)) + strings.Repeat("x", int(n)) + `"}`))
	}))
	defer ts.Close()
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e"},
	  "paging": {"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next", "nextPageParaName": "t"},
	  "response": {"eventsJsonPaths": ["$.data"]}}`, Options{MaxPages: 25})
	n, err := pollAll(e)
	require.NoError(t, err)
	assert.Equal(t, 25, n)
	assert.EqualValues(t, 25, calls.Load())
}

func TestThrottledForeverIsBoundedAndReported(t *testing.T) {
	var calls atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer ts.Close()
	e := hostileEngine(t, ts.URL, strings.Replace(plain, `"retryCount": 1`, `"retryCount": 4`, 1), Options{})
	start := time.Now()
	_, err := pollAll(e)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusTooManyRequests, re.Status)
	assert.EqualValues(t, 5, calls.Load(), "retryCount+1 attempts, then the window fails")
	// Each wait honoured Retry-After up to MaxRetryAfter (20 ms here): no tight loop, no hour-long hang.
	assert.GreaterOrEqual(t, time.Since(start), 4*20*time.Millisecond)
}

func TestNextPageURLToAnotherHostGetsNoCredentials(t *testing.T) {
	var leaked atomic.Value
	leaked.Store("")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") + r.Header.Get("X-Vendor-Secret"))
		_, _ = w.Write([]byte(`{"data": [{"id": 2}]}`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Basic dTpw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"data": [{"id": 1}], "next": "` + other.URL + `/collect"}`))
	}))
	defer api.Close()
	e := hostileEngine(t, api.URL, `{"auth": {"type": "Basic", "UserName": "u", "Password": "p"},
	  "request": {"apiEndpoint": "{{base}}/e", "headers": {"X-Vendor-Secret": "v"}},
	  "paging": {"pagingType": "NextPageUrl", "nextPageTokenJsonPath": "$.next"},
	  "response": {"eventsJsonPaths": ["$.data"]}}`, Options{})
	e.o.Auth = basicForTest{}
	n, err := pollAll(e)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, "", leaked.Load(), "no credentials or configured headers to another host")
}

type basicForTest struct{}

func (basicForTest) Apply(_ context.Context, r *http.Request) error {
	r.SetBasicAuth("u", "p")
	return nil
}
func (basicForTest) Invalidate() {}

func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"data": [{"id": 1}]}`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.RedirectHandler(other.URL+"/x", http.StatusFound))
	defer api.Close()
	e := hostileEngine(t, api.URL, plain, Options{})
	e.o.Auth = basicForTest{}
	_, err := pollAll(e)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redirect to another origin refused")
}

// FuzzBuildRequest drives definition parsing, builtin substitution, template normalisation and
// paging placement with arbitrary templates, parameters and paging names: never a panic.
func FuzzBuildRequest(f *testing.F) {
	f.Add(`{'cid': 1234567, '{_APIKeyName}': '{_APIKey}', 'from': {_QueryWindowStartTime}}`, "$.request_data.search_from", "POST", "yyyy-MM-ddTHH:mm:ss.fffZ")
	f.Add(`{"limit": 1000, "start_time": "{_QueryWindowStartTime}"}`, "cursor", "Post", "UnixTimestamp")
	f.Add(`updated_at:>'{_QueryWindowStartTime}'+updated_at:<='{_QueryWindowEndTime}'`, "after", "GET", "")
	f.Fuzz(func(t *testing.T, template, pageParam, method, timeFormat string) {
		props := map[string]any{
			"auth": map[string]any{"type": "None"},
			"request": map[string]any{"apiEndpoint": "https://api.example.com/x?a=1", "httpMethod": method,
				"queryParametersTemplate": template, "queryTimeFormat": timeFormat,
				"queryParameters": map[string]any{"q": template, "n": 5}, "startTimeAttributeName": "since"},
			"paging":   map[string]any{"pagingType": "Offset", "offsetParaName": pageParam, "pageSize": 10, "pageSizeParaName": pageParam},
			"response": map[string]any{"eventsJsonPaths": []any{"$"}},
		}
		d, err := definition.Parse(props, "fuzz")
		if err != nil {
			return
		}
		e, err := New(d, Options{})
		if err != nil {
			return
		}
		r := buildFirst(d, builtins{start: e.tf.Format(t0), end: e.tf.Format(t0), apiKeyName: "k", key: "v", hasKey: true})
		r = e.pager.start(r, "")
		r.place(pageParam, "7", true, placement{requestBody: true})
		_ = r.URL()
		_, _ = r.Body()
	})
}

// TestWholeBodyRecordPagesByItsList: eventsJsonPaths [""] with Offset paging (CrowdStrike's
// nested pollers) keeps paging while the body's list is full and stops on a short one.
func TestWholeBodyRecordPagesByItsList(t *testing.T) {
	var calls atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch r.URL.Query().Get("offset") {
		case "":
			_, _ = w.Write([]byte(`{"meta": {"pagination": {"total": 5}}, "resources": ["a", "b"]}`))
		case "2":
			_, _ = w.Write([]byte(`{"meta": {}, "resources": ["c", "d"]}`))
		case "4":
			_, _ = w.Write([]byte(`{"meta": {}, "resources": ["e"]}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer ts.Close()
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/ids"},
	  "paging": {"pagingType": "Offset", "offsetParaName": "offset", "pageSizeParaName": "limit", "pageSize": 2},
	  "response": {"eventsJsonPaths": [""]}}`, Options{})
	n, err := pollAll(e)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "three whole-body records")
	assert.EqualValues(t, 3, calls.Load())
}

// TestTokenTransformAndTruthyFlag: SAP BTP's "paging: handle=XYZ" header split on "=", and
// OneLogin's hasNextFlagJsonPath pointing at a next-link URL (empty on the last page).
func TestTokenTransformAndTruthyFlag(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("handle") {
		case "":
			w.Header().Set("paging", "handle=H2")
			_, _ = w.Write([]byte(`{"data": [{"id": 1}], "pagination": {"next_link": "https://x/next"}}`))
		case "H2":
			_, _ = w.Write([]byte(`{"data": [{"id": 2}], "pagination": {"next_link": null}}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer ts.Close()
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e"},
	  "paging": {"pagingType": "NextPageToken", "nextPageTokenResponseHeader": "paging", "nextPageParaName": "handle",
	    "hasNextFlagJsonPath": "$.pagination.next_link",
	    "tokenTransform": {"TransformType": "SplitOnDelimiter", "SliceDelimiter": "=", "StringIndex": 1}},
	  "response": {"eventsJsonPaths": ["$.data"]}}`, Options{})
	n, err := pollAll(e)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestLogResponseContentAtDebug(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"data": [{"id": "visible"}]}`))
	}))
	defer ts.Close()
	core, logs := observer.New(zap.DebugLevel)
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e?key=secret-in-query", "logResponseContent": true},
	  "response": {"eventsJsonPaths": ["$.data"]}}`, Options{Logger: zap.New(core)})
	_, err := pollAll(e)
	require.NoError(t, err)
	entries := logs.FilterMessageSnippet("response content").All()
	require.Len(t, entries, 1)
	assert.Contains(t, entries[0].ContextMap()["body"], "visible")
	assert.NotContains(t, entries[0].ContextMap()["endpoint"], "secret-in-query")
}
