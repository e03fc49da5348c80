package poller

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// harness runs one definition against one vendor emulator.
type harness struct {
	t      *testing.T
	srv    *vendorapi.Server
	ts     *httptest.Server
	engine *Engine
}

func newHarness(t *testing.T, vc vendorapi.Config, props string) *harness {
	t.Helper()
	if vc.Events == 0 {
		vc.Events = 1000
	}
	if vc.Span == 0 {
		vc.Span = time.Hour
	}
	vc.End = t0
	vc.Now = func() time.Time { return t0.Add(time.Hour) }
	srv := vendorapi.New(vc)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	props = strings.ReplaceAll(props, "{{base}}", ts.URL)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(props), &raw), props)
	d, err := definition.Parse(raw, "test")
	require.NoError(t, err)
	a, err := auth.New(d.Auth, auth.Settings{HTTPClient: ts.Client()})
	require.NoError(t, err)
	e, err := New(d, Options{HTTPClient: ts.Client(), Auth: a, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond})
	require.NoError(t, err)
	return &harness{t: t, srv: srv, ts: ts, engine: e}
}

// poll runs one window and returns the ids delivered, in order, and the cursor.
func (h *harness) poll(w window.Window, cursor string) ([]string, string, int) {
	h.t.Helper()
	var ids []string
	pages := 0
	c, err := h.engine.PollWindow(context.Background(), w, cursor, "", func(_ context.Context, p Page) error {
		pages++
		for _, ev := range p.Events {
			ids = append(ids, gjson.Get(ev, "id").String())
		}
		return nil
	})
	require.NoError(h.t, err)
	return ids, c, pages
}

func (h *harness) assertExactlyOnce(w window.Window, ids []string) {
	h.t.Helper()
	want := h.srv.IDsIn(w.Start, w.End)
	require.NotEmpty(h.t, want)
	got := append([]string(nil), ids...)
	sort.Strings(got)
	sort.Strings(want)
	assert.Equal(h.t, want, got, "every event of the window exactly once")
}

var win = window.Window{Start: t0.Add(-50 * time.Minute), End: t0.Add(-20 * time.Minute)}

const apiKeyAuth = `{"type": "APIKey", "ApiKey": "k", "ApiKeyName": "X-Api-Key"}`

func TestPagingTypesAgainstEmulator(t *testing.T) {
	for _, tc := range []struct {
		name   string
		vc     vendorapi.Config
		paging string
		method string
		body   string
		pages  int
	}{
		{name: "None", vc: vendorapi.Config{Paging: vendorapi.PagingNone}, paging: `null`, pages: 1},
		{name: "NextPageToken body token to query", vc: vendorapi.Config{Paging: vendorapi.PagingNextPageToken, PageSize: 50},
			paging: `{"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token", "nextPageParaName": "page_token", "pageSizeParaName": "limit", "pageSize": 50}`, pages: 10},
		{name: "NextPageToken header token to header", vc: vendorapi.Config{Paging: vendorapi.PagingNextPageToken, NextHeader: "X-Next", PageSize: 100},
			paging: `{"pagingType": "NextPageToken", "nextPageTokenResponseHeader": "X-Next", "nextPageRequestHeader": "X-Page-Token", "pageSizeParameterName": "limit", "pageSize": 100}`, pages: 5},
		{name: "NextPageToken with hasNext flag", vc: vendorapi.Config{Paging: vendorapi.PagingNextPageToken, HasMoreField: "has_more", AlwaysNext: true, PageSize: 100},
			paging: `{"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token", "hasNextFlagJsonPath": "$.has_more", "nextPageParaName": "page_token", "pageSizeParaName": "limit", "pageSize": 100}`, pages: 5},
		{name: "legacy PageToken", vc: vendorapi.Config{Paging: vendorapi.PagingNextPageToken, PageSize: 200},
			paging: `{"pagingType": "PageToken", "nextPageTokenJsonPath": "next_page_token", "nextPageParaName": "page_token", "PageSizeParaName": "limit", "PageSize": "200"}`, pages: 3},
		{name: "POST JSON body token at JSONPath", vc: vendorapi.Config{Paging: vendorapi.PagingNextPageToken, TokenBodyPath: "request_data.next_page_token", PageSize: 100},
			method: "POST", body: `{'since': '{_QueryWindowStartTime}', 'until': '{_QueryWindowEndTime}', 'limit': 100}`,
			paging: `{"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token", "nextPageParaName": "$.request_data.next_page_token"}`, pages: 5},
		{name: "LinkHeader", vc: vendorapi.Config{Paging: vendorapi.PagingLinkHeader, PageSize: 100},
			paging: `{"pagingType": "LinkHeader", "pageSizeParameterName": "limit", "pageSize": 100}`, pages: 5},
		{name: "LinkHeader from body", vc: vendorapi.Config{Paging: vendorapi.PagingLinkHeader, NextField: "nextLink", PageSize: 100},
			paging: `{"pagingType": "LinkHeader", "linkHeaderTokenJsonPath": "$.nextLink", "pageSizeParameterName": "limit", "pageSize": 100}`, pages: 5},
		{name: "LinkHeader named header", vc: vendorapi.Config{Paging: vendorapi.PagingLinkHeader, PageSize: 100},
			paging: `{"pagingType": "LinkHeader", "linkHeaderTokenJsonPath": "Link", "pageSizeParameterName": "limit", "pageSize": 100}`, pages: 5},
		{name: "NextPageUrl absolute", vc: vendorapi.Config{Paging: vendorapi.PagingNextPageURL, PageSize: 100},
			paging: `{"pagingType": "NextPageUrl", "nextPageTokenJsonPath": "$.nextPageUrl", "pageSizeParameterName": "limit", "pageSize": 100}`, pages: 5},
		{name: "NextPageUrl relative", vc: vendorapi.Config{Paging: vendorapi.PagingNextPageURL, RelativeNextURL: true, PageSize: 100},
			paging: `{"pagingType": "NextPageUrl", "nextPageTokenJsonPath": "$.nextPageUrl", "nextPageUrl": "{{base}}", "isNextPageTokenRelativeUrl": true, "pageSizeParameterName": "limit", "pageSize": 100}`, pages: 5},
		{name: "Offset", vc: vendorapi.Config{Paging: vendorapi.PagingOffset, PageSize: 100},
			paging: `{"pagingType": "Offset", "offsetParaName": "offset", "pageSizeParameterName": "limit", "pageSize": 100}`, pages: 6},
		{name: "CountBasedPaging", vc: vendorapi.Config{Paging: vendorapi.PagingCountBased, PageSize: 100},
			paging: `{"pagingType": "CountBasedPaging", "pageNumberParaName": "page", "pageSize": 100, "pageCountJsonPath": "$.page_count", "pageNumberJsonPath": "$.page"}`, pages: 5},
		{name: "CountBasedPaging zero-based short page", vc: vendorapi.Config{Paging: vendorapi.PagingCountBased, ZeroBasedPages: true, PageSize: 50},
			paging: `{"pagingType": "CountBasedPaging", "pageNumberParaName": "page", "zeroBasedIndexing": true, "pageSize": 50}`, pages: 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := pagingHarness(t, tc.vc, tc.method, tc.body, tc.paging)
			ids, _, pages := h.poll(win, "")
			h.assertExactlyOnce(win, ids)
			assert.Equal(t, tc.pages, pages, "pages walked")
			assert.EqualValues(t, 1, h.srv.MaxConcurrent(), "one request at a time")
			if tc.pages < 3 {
				return
			}
			assertResumesAfterPage2(t, h)
		})
	}
}

// pagingHarness is an engine for a definition with the given paging against an emulator
// answering only the definition's method ("" = GET), with body as the POST template.
func pagingHarness(t *testing.T, vc vendorapi.Config, method, body, paging string) *harness {
	t.Helper()
	vc.Auth, vc.APIKey, vc.APIKeyHeader = vendorapi.AuthAPIKey, "k", "X-Api-Key"
	if method == "" {
		method = "GET"
	}
	vc.Method = method // the emulator answers only the method the definition declares
	req := `"apiEndpoint": "{{base}}/api/v1/events", "httpMethod": "` + method + `", "startTimeAttributeName": "since", "endTimeAttributeName": "until"`
	if body != "" {
		b, _ := json.Marshal(body)
		req = `"apiEndpoint": "{{base}}/api/v1/events", "httpMethod": "POST", "queryParametersTemplate": ` + string(b)
	}
	return newHarness(t, vc, `{"auth": `+apiKeyAuth+`, "request": {`+req+`},
			  "paging": `+paging+`, "response": {"eventsJsonPaths": ["$.data"]}}`)
}

// assertResumesAfterPage2 interrupts a poll of win after page 2, then resumes it: every event
// still exactly once.
func assertResumesAfterPage2(t *testing.T, h *harness) {
	t.Helper()
	var got []string
	resume := ""
	_, err := h.engine.PollWindow(context.Background(), win, "", "", func(_ context.Context, p Page) error {
		if p.Number == 3 {
			return assert.AnError
		}
		for _, ev := range p.Events {
			got = append(got, gjson.Get(ev, "id").String())
		}
		resume = p.Resume
		return nil
	})
	require.ErrorIs(t, err, assert.AnError)
	require.NotEmpty(t, resume)
	_, err = h.engine.PollWindow(context.Background(), win, "", resume, func(_ context.Context, p Page) error {
		for _, ev := range p.Events {
			got = append(got, gjson.Get(ev, "id").String())
		}
		return nil
	})
	require.NoError(t, err)
	h.assertExactlyOnce(win, got)
}

func TestPersistentTokenSurvivesWindowsAndEmptyPages(t *testing.T) {
	h := newHarness(t, vendorapi.Config{Paging: vendorapi.PagingPersistentToken, PageSize: 100, Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "X-Api-Key"},
		`{"auth": `+apiKeyAuth+`, "request": {"apiEndpoint": "{{base}}/api/v1/events", "startTimeAttributeName": "since"},
		  "paging": {"pagingType": "PersistentToken", "nextPageTokenJsonPath": "$.next", "nextPageParaName": "from", "pageSizeParaName": "limit", "pageSize": 100},
		  "response": {"eventsJsonPaths": ["$.data"]}}`)
	first := window.Window{Start: t0.Add(-60 * time.Minute), End: t0.Add(-30 * time.Minute)}
	ids1, cursor, _ := h.poll(first, "")
	require.NotEmpty(t, cursor)
	ids2, cursor2, _ := h.poll(window.Window{Start: first.End, End: t0}, cursor)
	all := append(ids1, ids2...)
	seen := map[string]int{}
	for _, id := range all {
		seen[id]++
	}
	for id, n := range seen {
		require.Equal(t, 1, n, "event %s delivered %d times", id, n)
	}
	assert.Len(t, seen, 1000, "the cursor walks the whole stream exactly once")
	// A poll with nothing new keeps the cursor instead of clearing it.
	_, cursor3, _ := h.poll(window.Window{Start: t0, End: t0.Add(time.Minute)}, cursor2)
	assert.Equal(t, cursor2, cursor3)
}

func TestAuthTypesAgainstEmulator(t *testing.T) {
	for _, tc := range []struct {
		name string
		vc   vendorapi.Config
		auth string
	}{
		{"Basic", vendorapi.Config{Auth: vendorapi.AuthBasic, Username: "u", Password: "p"}, `{"type": "Basic", "UserName": "u", "Password": "p"}`},
		{"APIKey with identifier", vendorapi.Config{Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "Authorization", APIKeyPrefix: "SSWS"}, `{"type": "APIKey", "ApiKey": "k", "ApiKeyName": "Authorization", "ApiKeyIdentifier": "SSWS"}`},
		{"OAuth2 client_credentials", vendorapi.Config{Auth: vendorapi.AuthOAuth2, ClientID: "c", ClientSecret: "s", TokenParams: map[string]string{"audience": "api"}},
			`{"type": "OAuth2", "ClientId": "c", "ClientSecret": "s", "GrantType": "client_credentials", "TokenEndpoint": "{{base}}/oauth2/token", "TokenEndpointQueryParameters": {"audience": "api"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.vc.Paging, tc.vc.PageSize = vendorapi.PagingNextPageToken, 100
			h := newHarness(t, tc.vc, `{"auth": `+tc.auth+`, "request": {"apiEndpoint": "{{base}}/api/v1/events", "startTimeAttributeName": "since", "endTimeAttributeName": "until"},
			  "paging": {"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token", "nextPageParaName": "page_token", "pageSizeParaName": "limit", "pageSize": 100},
			  "response": {"eventsJsonPaths": ["$.data"]}}`)
			ids, _, _ := h.poll(win, "")
			h.assertExactlyOnce(win, ids)
			if tc.vc.Auth == vendorapi.AuthOAuth2 {
				assert.EqualValues(t, 1, h.srv.TokensIssued(), "token cached across pages")
				h.srv.ExpireTokens()
				ids, _, _ = h.poll(win, "")
				h.assertExactlyOnce(win, ids)
				assert.EqualValues(t, 2, h.srv.TokensIssued(), "one re-login after the 401")
			}
		})
	}
}

func TestRetriesServerErrorsAndThrottling(t *testing.T) {
	h := newHarness(t, vendorapi.Config{Paging: vendorapi.PagingNextPageToken, PageSize: 100, Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "X-Api-Key"},
		`{"auth": `+apiKeyAuth+`, "request": {"apiEndpoint": "{{base}}/api/v1/events", "startTimeAttributeName": "since", "endTimeAttributeName": "until", "retryCount": 3},
		  "paging": {"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token", "nextPageParaName": "page_token", "pageSizeParaName": "limit", "pageSize": 100},
		  "response": {"eventsJsonPaths": ["$.data"]}}`)
	h.srv.FailNext(2)
	ids, _, _ := h.poll(win, "")
	h.assertExactlyOnce(win, ids)
	h.srv.Throttle(2)
	ids, _, _ = h.poll(win, "")
	h.assertExactlyOnce(win, ids)

	// More failures than retries: the window fails with the status named.
	h.srv.FailNext(10)
	_, err := h.engine.PollWindow(context.Background(), win, "", "", func(context.Context, Page) error { return nil })
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusInternalServerError, re.Status)
}

func TestWrongCredentialsFailWithoutLeakingThem(t *testing.T) {
	h := newHarness(t, vendorapi.Config{Auth: vendorapi.AuthAPIKey, APIKey: "right", APIKeyHeader: "X-Api-Key"},
		`{"auth": {"type": "APIKey", "ApiKey": "wrong-secret-123", "ApiKeyName": "X-Api-Key"},
		  "request": {"apiEndpoint": "{{base}}/api/v1/events?token=query-secret-456", "startTimeAttributeName": "since", "endTimeAttributeName": "until"},
		  "response": {"eventsJsonPaths": ["$.data"]}}`)
	_, err := h.engine.PollWindow(context.Background(), win, "", "", func(context.Context, Page) error { return nil })
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusUnauthorized, re.Status)
	assert.True(t, re.Auth)
	assert.NotContains(t, err.Error(), "wrong-secret-123")
	assert.NotContains(t, err.Error(), "query-secret-456")
}

func TestDeliveryErrorStopsTheWindow(t *testing.T) {
	h := newHarness(t, vendorapi.Config{Paging: vendorapi.PagingNextPageToken, PageSize: 100, Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "X-Api-Key"},
		`{"auth": `+apiKeyAuth+`, "request": {"apiEndpoint": "{{base}}/api/v1/events", "startTimeAttributeName": "since", "endTimeAttributeName": "until"},
		  "paging": {"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token", "nextPageParaName": "page_token", "pageSizeParaName": "limit", "pageSize": 100},
		  "response": {"eventsJsonPaths": ["$.data"]}}`)
	pages := 0
	_, err := h.engine.PollWindow(context.Background(), win, "", "", func(_ context.Context, p Page) error {
		pages++
		if pages == 2 {
			return assert.AnError
		}
		return nil
	})
	require.ErrorIs(t, err, assert.AnError)
	assert.Equal(t, 2, pages, "no page is fetched after a refused one")
}

func TestLinkToAnotherHostGetsNoCredentials(t *testing.T) {
	var sawAuth atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("X-Api-Key") + r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data": [{"id": "x2"}]}`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Link", `<`+other.URL+`/steal>; rel="next"`)
		_, _ = w.Write([]byte(`{"data": [{"id": "x1"}]}`))
	}))
	defer api.Close()
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"auth": `+apiKeyAuth+`, "request": {"apiEndpoint": "`+api.URL+`/e", "headers": {"X-Vendor-Secret": "hdr-secret"}},
	  "paging": {"pagingType": "LinkHeader"}, "response": {"eventsJsonPaths": ["$.data"]}}`), &raw))
	d, err := definition.Parse(raw, "t")
	require.NoError(t, err)
	a, err := auth.New(d.Auth, auth.Settings{})
	require.NoError(t, err)
	e, err := New(d, Options{Auth: a})
	require.NoError(t, err)
	var ids []string
	_, err = e.PollWindow(context.Background(), win, "", "", func(_ context.Context, p Page) error {
		for _, ev := range p.Events {
			ids = append(ids, gjson.Get(ev, "id").String())
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"x1", "x2"}, ids)
	assert.Equal(t, "", sawAuth.Load(), "the foreign host saw no credentials")
}
