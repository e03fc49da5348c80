package vendorapi

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"golang.org/x/oauth2/clientcredentials"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixedNow returns a clock far after every event of a span ending at t0.
func fixedNow() time.Time { return t0.Add(24 * time.Hour) }

// startTest starts srv with httptest and returns its base URL.
func startTest(t *testing.T, srv *Server) string {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

// forEachCredentialedAuth runs f as a subtest per auth mode that needs credentials, on a
// server of 10 events ending at t0 (all visible); u is its events URL with a window.
func forEachCredentialedAuth(t *testing.T, f func(t *testing.T, srv *Server, base, u string)) {
	for name, cfg := range authConfigs() {
		if cfg.Auth == AuthNone {
			continue
		}
		t.Run(name, func(t *testing.T) {
			cfg.End, cfg.Now, cfg.Events = t0, fixedNow, 10
			srv := New(cfg)
			base := startTest(t, srv)
			f(t, srv, base, base+srv.Config().Path+"?"+srv.WindowQuery(t0.Add(-time.Hour), t0).Encode())
		})
	}
}

// authClient returns a client that authenticates per the server's Config.
func authClient(t *testing.T, srv *Server, base string) *http.Client {
	t.Helper()
	c := srv.Config()
	hc := &http.Client{Timeout: 10 * time.Second}
	switch c.Auth {
	case AuthNone:
		return hc
	case AuthOAuth2:
		cc := clientcredentials.Config{
			ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			TokenURL: base + c.TokenPath, Scopes: c.Scopes,
			EndpointParams: url.Values{},
		}
		for k, v := range c.TokenParams {
			cc.EndpointParams.Set(k, v)
		}
		cl := cc.Client(context.Background())
		cl.Timeout = 10 * time.Second
		return cl
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: headerTransport{c: c}}
}

type headerTransport struct{ c Config }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	switch h.c.Auth {
	case AuthAPIKey:
		v := h.c.APIKey
		if h.c.APIKeyPrefix != "" {
			v = h.c.APIKeyPrefix + " " + v
		}
		r.Header.Set(h.c.APIKeyHeader, v)
	case AuthBasic:
		r.SetBasicAuth(h.c.Username, h.c.Password)
	}
	return http.DefaultTransport.RoundTrip(r)
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, hc *http.Client, req *http.Request) resp {
	t.Helper()
	r, err := hc.Do(req)
	require.NoError(t, err)
	defer r.Body.Close()
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		require.NoError(t, err)
		rd = zr
	}
	b, err := io.ReadAll(rd)
	require.NoError(t, err)
	return resp{status: r.StatusCode, header: r.Header, body: b}
}

func get(t *testing.T, hc *http.Client, u string) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	return do(t, hc, req)
}

// walkWindow fetches every page of [since, until) the way a CCP receiver
// configured for the server's paging mode would, and returns the event ids.
// Bounded to maxPages requests.
func walkWindow(t *testing.T, srv *Server, hc *http.Client, base string, since, until time.Time, ps int) []string {
	t.Helper()
	const maxPages = 5000
	deadline := time.Now().Add(30 * time.Second)
	w := newWalker(srv, base, since, until, ps)
	var ids []string
	for n := 0; ; n++ {
		require.Less(t, n, maxPages, "too many pages")
		require.True(t, time.Now().Before(deadline), "walk took too long")
		r := get(t, hc, w.next)
		require.Equal(t, http.StatusOK, r.status, "page %d: %s", n, r.body)
		page := pageIDs(t, w.c, r)
		ids = append(ids, page...)
		if !w.advance(r, len(page)) {
			return ids
		}
	}
}

// pageIDs returns the ids of a 200 page's events.
func pageIDs(t *testing.T, c Config, r resp) []string {
	t.Helper()
	evs := gjson.GetBytes(r.body, c.EventsPath)
	if c.EventsPath == "-" {
		evs = gjson.ParseBytes(r.body)
	}
	require.True(t, evs.IsArray(), "events not an array: %.300s", r.body)
	var ids []string
	evs.ForEach(func(_, v gjson.Result) bool {
		ids = append(ids, v.Get("id").String())
		return true
	})
	return ids
}

// walker follows a window's pages the way the server's paging mode says.
type walker struct {
	c              Config
	base, next     string
	q              url.Values
	ps             int
	offset, pageNo int
	prevTok        string
}

func newWalker(srv *Server, base string, since, until time.Time, ps int) *walker {
	c := srv.Config()
	w := &walker{c: c, base: base, q: srv.WindowQuery(since, until), ps: ps, pageNo: 1}
	if c.Paging != PagingNone {
		w.q.Set(c.PageSizeParam, strconv.Itoa(ps))
	}
	if c.ZeroBasedPages {
		w.pageNo = 0
	}
	w.next = base + c.Path + "?" + w.q.Encode()
	return w
}

// advance sets the next page's URL from page r (cnt events); false when the walk is over.
func (w *walker) advance(r resp, cnt int) bool {
	c := w.c
	switch c.Paging {
	case PagingNextPageToken, PagingPersistentToken:
		return w.advanceToken(r, cnt)
	case PagingLinkHeader:
		u := parseNextLink(r.header.Get("Link"))
		if c.NextField != "" {
			u = gjson.GetBytes(r.body, c.NextField).String()
		}
		if u == "" || u == w.next || cnt == 0 {
			return false
		}
		w.next = u
		return true
	case PagingNextPageURL:
		u := gjson.GetBytes(r.body, c.NextField).String()
		if u == "" || cnt == 0 {
			return false
		}
		if c.RelativeNextURL {
			u = w.base + u
		}
		w.next = u
		return true
	case PagingOffset:
		if cnt == 0 || cnt < w.ps {
			return false
		}
		w.offset += cnt
		return w.setParam(c.OffsetParam, w.offset)
	case PagingCountBased:
		return w.advancePage(r, cnt)
	}
	return false // PagingNone: one response
}

func (w *walker) advanceToken(r resp, cnt int) bool {
	c := w.c
	tok := gjson.GetBytes(r.body, c.NextField).String()
	if c.NextHeader != "" {
		tok = r.header.Get(c.NextHeader)
	}
	if c.HasMoreField != "" && !gjson.GetBytes(r.body, c.HasMoreField).Bool() && c.Paging == PagingNextPageToken {
		return false
	}
	if tok == "" || tok == w.prevTok || (cnt == 0 && c.HasMoreField == "") {
		return false
	}
	w.prevTok = tok
	q2 := url.Values{}
	for k, v := range w.q {
		q2[k] = v
	}
	q2.Set(c.TokenParam, tok)
	w.next = w.base + c.Path + "?" + q2.Encode()
	return true
}

func (w *walker) advancePage(r resp, cnt int) bool {
	last := int(gjson.GetBytes(r.body, "page_count").Int())
	if w.c.ZeroBasedPages {
		last--
	}
	if cnt == 0 || w.pageNo >= last {
		return false
	}
	w.pageNo++
	return w.setParam(w.c.PageParam, w.pageNo)
}

// setParam sets one query parameter of the walk and the next URL.
func (w *walker) setParam(name string, v int) bool {
	w.q.Set(name, strconv.Itoa(v))
	w.next = w.base + w.c.Path + "?" + w.q.Encode()
	return true
}

var linkRe = regexp.MustCompile(`<([^>]*)>\s*;\s*rel="?next"?`)

func parseNextLink(h string) string {
	m := linkRe.FindStringSubmatch(h)
	if m == nil {
		return ""
	}
	return m[1]
}

func errorBody(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var m map[string]string
	require.NoError(t, json.Unmarshal(b, &m), "error body must be JSON: %s", b)
	return m
}

func post(t *testing.T, hc *http.Client, u, ct, body string) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	require.NoError(t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return do(t, hc, req)
}

func gjsonIDs(body []byte, path string) []string {
	var ids []string
	gjson.GetBytes(body, path).ForEach(func(_, v gjson.Result) bool {
		ids = append(ids, v.Get("id").String())
		return true
	})
	return ids
}

func gjsonStr(body []byte, path string) string { return gjson.GetBytes(body, path).String() }
