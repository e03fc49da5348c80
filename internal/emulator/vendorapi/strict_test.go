package vendorapi

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestBadTimeIs400(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		query string
	}{
		{"missing both", Config{}, ""},
		{"missing until", Config{}, "since=2025-03-01T11:00:00Z"},
		{"missing since", Config{}, "until=2025-03-01T11:00:00Z"},
		{"malformed iso", Config{}, "since=2025-13-01T11:00:00Z&until=2025-03-01T12:00:00Z"},
		{"iso without zone", Config{}, "since=2025-03-01T11:00:00&until=2025-03-01T12:00:00Z"},
		{"unix given to iso", Config{}, "since=1740826800&until=1740830400"},
		{"iso given to unix", Config{TimeFormat: TimeUnixSeconds}, "since=2025-03-01T11:00:00Z&until=1740830400"},
		{"float unix", Config{TimeFormat: TimeUnixMillis}, "since=1740826800000.5&until=1740830400000"},
		{"since after until", Config{}, "since=2025-03-01T12:00:00Z&until=2025-03-01T11:00:00Z"},
		{"empty since", Config{}, "since=&until=2025-03-01T11:00:00Z"},
		{"npt missing", Config{Paging: PagingNextPageToken}, "limit=10"},
		{"offset missing", Config{Paging: PagingOffset}, ""},
		{"count missing", Config{Paging: PagingCountBased}, ""},
		{"persistent no since no cursor", Config{Paging: PagingPersistentToken}, ""},
		{"persistent malformed until", Config{Paging: PagingPersistentToken}, "since=2025-03-01T11:00:00Z&until=yesterday"},
		{"optional but malformed", Config{WindowOptional: true}, "since=nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.End, tc.cfg.Now = t0, fixedNow
			srv := New(tc.cfg)
			base := startTest(t, srv)
			r := get(t, http.DefaultClient, base+"/api/v1/events?"+tc.query)
			require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
			assert.Equal(t, "invalid_time", errorBody(t, r.body)["error"])
			u, _ := srv.Served()
			assert.Zero(t, u)
		})
	}
}

func TestWindowOptional(t *testing.T) {
	srv := New(Config{Events: 100, End: t0, Now: fixedNow, WindowOptional: true})
	base := startTest(t, srv)
	r := get(t, http.DefaultClient, base+"/api/v1/events")
	require.Equal(t, 200, r.status)
	assert.Len(t, gjsonIDs(r.body, "data"), 100)
	r = get(t, http.DefaultClient, base+"/api/v1/events?since="+srv.FormatTime(t0.Add(-30*time.Minute)))
	assert.Len(t, gjsonIDs(r.body, "data"), 50)
}

func TestBadParamsAre400(t *testing.T) {
	srv := New(Config{End: t0, Now: fixedNow, Paging: PagingCountBased})
	base := startTest(t, srv)
	w := srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()
	for _, q := range []string{"page_size=0", "page_size=1001", "page_size=x", "page=0", "page=-1", "page=a"} {
		r := get(t, http.DefaultClient, base+"/api/v1/events?"+w+"&"+q)
		assert.Equal(t, 400, r.status, q)
		assert.Equal(t, "invalid_request", errorBody(t, r.body)["error"], q)
	}
	ps := New(Config{End: t0, Now: fixedNow, Paging: PagingCountBased, Method: "POST"})
	pbase := startTest(t, ps)
	r := post(t, http.DefaultClient, pbase+"/api/v1/events", "application/json", `{"since": `)
	assert.Equal(t, 400, r.status)
	r = post(t, http.DefaultClient, pbase+"/api/v1/events", "application/json", `[1,2]`)
	assert.Equal(t, 400, r.status)
	r = get(t, http.DefaultClient, base+"/api/v2/other")
	assert.Equal(t, 404, r.status)
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/v1/events?"+w, nil)
	assert.Equal(t, 405, do(t, http.DefaultClient, req).status)
}

func TestPostFormAndJSONNumbers(t *testing.T) {
	srv := New(Config{Events: 600, End: t0, Now: fixedNow, TimeFormat: TimeUnixSeconds, Paging: PagingOffset, PageSize: 1000, Method: "Post"})
	base := startTest(t, srv)
	since, until := t0.Add(-time.Hour).Unix(), t0.Add(-30*time.Minute).Unix()
	r := post(t, http.DefaultClient, base+"/api/v1/events", "application/x-www-form-urlencoded",
		url.Values{"since": {srv.FormatTime(t0.Add(-time.Hour))}, "until": {srv.FormatTime(t0.Add(-30 * time.Minute))}}.Encode())
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.Len(t, gjsonIDs(r.body, "data"), 300)
	// JSON numbers, no Content-Type (Cortex XDR style)
	r = post(t, http.DefaultClient, base+"/api/v1/events", "", `{"since":`+itoa(since)+`,"until":`+itoa(until)+`,"offset":100}`)
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.Len(t, gjsonIDs(r.body, "data"), 200)
	assert.Equal(t, "300", gjsonStr(r.body, "total"))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func strconvItoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBadTokenIs400(t *testing.T) {
	mk := func() *Server {
		return New(Config{Events: 1000, End: t0, Now: fixedNow, Paging: PagingNextPageToken, PageSize: 10})
	}
	srv, other := mk(), mk()
	base := startTest(t, srv)
	obase := startTest(t, other)
	w1 := srv.WindowQuery(t0.Add(-time.Hour), t0.Add(-30*time.Minute))
	w2 := srv.WindowQuery(t0.Add(-30*time.Minute), t0)
	first := get(t, http.DefaultClient, base+"/api/v1/events?"+w1.Encode())
	tok := gjsonStr(first.body, "next_page_token")
	require.NotEmpty(t, tok)
	ofirst := get(t, http.DefaultClient, obase+"/api/v1/events?"+w1.Encode())
	otherTok := gjsonStr(ofirst.body, "next_page_token")

	tampered := []byte(tok)
	tampered[5] ^= 1
	cases := map[string]string{
		"garbage":          w1.Encode() + "&page_token=garbage",
		"tampered":         w1.Encode() + "&page_token=" + string(tampered),
		"other instance":   w1.Encode() + "&page_token=" + otherTok,
		"other window":     w2.Encode() + "&page_token=" + tok,
		"empty":            w1.Encode() + "&page_token=",
		"truncated":        w1.Encode() + "&page_token=" + tok[:len(tok)-2],
		"other since only": "since=" + url.QueryEscape(srv.FormatTime(t0.Add(-59*time.Minute))) + "&page_token=" + tok,
	}
	for name, q := range cases {
		r := get(t, http.DefaultClient, base+"/api/v1/events?"+q)
		assert.Equal(t, 400, r.status, name)
		assert.Equal(t, "invalid_token", errorBody(t, r.body)["error"], name)
	}
	// A token in query and a different one in the header.
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/events?"+w1.Encode()+"&page_token="+tok, nil)
	req.Header.Set("X-Page-Token", otherTok)
	assert.Equal(t, 400, do(t, http.DefaultClient, req).status)
	// The right token, in the header, with or without the window, works.
	req, _ = http.NewRequest(http.MethodGet, base+"/api/v1/events", nil)
	req.Header.Set("X-Page-Token", tok)
	r := do(t, http.DefaultClient, req)
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.Equal(t, []string{"evt-0000000010"}, gjsonIDs(r.body, "data")[:1])

	// A NextPageToken token is refused by a PersistentToken server with the same secret.
	ps := New(Config{Events: 1000, End: t0, Now: fixedNow, Paging: PagingPersistentToken, TokenSecret: []byte("x")})
	ns := New(Config{Events: 1000, End: t0, Now: fixedNow, Paging: PagingNextPageToken, TokenSecret: []byte("x"), PageSize: 10})
	pbase, nbase := startTest(t, ps), startTest(t, ns)
	ntok := gjsonStr(get(t, http.DefaultClient, nbase+"/api/v1/events?"+w1.Encode()).body, "next_page_token")
	r = get(t, http.DefaultClient, pbase+"/api/v1/events?from="+ntok)
	assert.Equal(t, 400, r.status, "%s", r.body)
	assert.Contains(t, errorBody(t, r.body)["message"], "another paging mode")
}

func TestAuthFailuresAre401(t *testing.T) {
	forEachCredentialedAuth(t, func(t *testing.T, srv *Server, base, u string) {
		// no credentials
		r := get(t, http.DefaultClient, u)
		assert.Equal(t, 401, r.status)
		assert.Equal(t, "unauthorized", errorBody(t, r.body)["error"])
		// wrong credentials
		r = do(t, http.DefaultClient, badCredentials(t, srv.Config(), u))
		assert.Equal(t, 401, r.status)
		assert.Equal(t, "unauthorized", errorBody(t, r.body)["error"])
		// right credentials
		r = get(t, authClient(t, srv, base), u)
		assert.Equal(t, 200, r.status, "%s", r.body)
		assert.Equal(t, map[int]int64{401: 2, 200: 1}, srv.StatusCounts())
	})
	// APIKey without the required prefix, and with the prefix on a no-prefix key.
	srv := New(Config{Auth: AuthAPIKey, APIKey: "k", APIKeyPrefix: "SSWS", End: t0, Now: fixedNow})
	base := startTest(t, srv)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/events?"+srv.WindowQuery(t0.Add(-time.Hour), t0).Encode(), nil)
	req.Header.Set("Authorization", "k")
	assert.Equal(t, 401, do(t, http.DefaultClient, req).status)
}

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestOAuth2TokenEndpoint(t *testing.T) {
	var clk clock
	clk.set(fixedNow())
	srv := New(Config{Events: 10, End: t0, Now: clk.now, Auth: AuthOAuth2, ClientID: "id:x", ClientSecret: "se cret&",
		Scopes: []string{"a", "b"}, TokenParams: map[string]string{"audience": "aud"}, TokenTTL: 10 * time.Minute})
	base := startTest(t, srv)
	tokURL := base + "/oauth2/token"
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	good := []string{"grant_type", "client_credentials", "client_id", "id:x", "client_secret", "se cret&", "audience", "aud", "scope", "a b"}
	cases := []struct {
		name   string
		ct     string
		body   string
		status int
		err    string
	}{
		{"ok", "application/x-www-form-urlencoded", form(good...), 200, ""},
		{"json ok", "application/json", `{"grant_type":"client_credentials","client_id":"id:x","client_secret":"se cret&","audience":"aud","scope":"a"}`, 200, ""},
		{"wrong secret", "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "client_id", "id:x", "client_secret", "no", "audience", "aud", "scope", "a"), 401, "invalid_client"},
		{"no creds", "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "audience", "aud", "scope", "a"), 401, "invalid_client"},
		{"wrong grant", "application/x-www-form-urlencoded", form("grant_type", "password", "client_id", "id:x", "client_secret", "se cret&", "audience", "aud", "scope", "a"), 400, "unsupported_grant_type"},
		{"missing audience", "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "client_id", "id:x", "client_secret", "se cret&", "scope", "a"), 400, "invalid_request"},
		{"wrong audience", "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "client_id", "id:x", "client_secret", "se cret&", "audience", "x", "scope", "a"), 400, "invalid_request"},
		{"bad scope", "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "client_id", "id:x", "client_secret", "se cret&", "audience", "aud", "scope", "a c"), 400, "invalid_scope"},
		{"no scope", "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "client_id", "id:x", "client_secret", "se cret&", "audience", "aud"), 400, "invalid_scope"},
		{"text body", "text/plain", form(good...), 400, "invalid_request"},
	}
	for _, tc := range cases {
		r := post(t, http.DefaultClient, tokURL, tc.ct, tc.body)
		assert.Equal(t, tc.status, r.status, "%s: %s", tc.name, r.body)
		if tc.err != "" {
			assert.Equal(t, tc.err, errorBody(t, r.body)["error"], tc.name)
		} else {
			assert.NotEmpty(t, gjsonStr(r.body, "access_token"), tc.name)
			assert.Equal(t, "600", gjsonStr(r.body, "expires_in"))
		}
	}
	assert.Equal(t, int64(2), srv.TokensIssued())
	// Basic header and body secret at once.
	req, _ := http.NewRequest(http.MethodPost, tokURL, strings.NewReader(form(good...)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape("id:x"), url.QueryEscape("se cret&"))
	assert.Equal(t, 400, do(t, http.DefaultClient, req).status)
	// GET is refused.
	assert.Equal(t, 405, get(t, http.DefaultClient, tokURL).status)

	// x/oauth2 with credentials in the Basic header; token expiry by clock and by ExpireTokens.
	cc := clientcredentials.Config{ClientID: "id:x", ClientSecret: "se cret&", TokenURL: tokURL, Scopes: []string{"b"},
		EndpointParams: url.Values{"audience": {"aud"}}, AuthStyle: oauth2.AuthStyleInHeader}
	ts := cc.TokenSource(context.Background())
	tok, err := ts.Token()
	require.NoError(t, err)
	api := base + "/api/v1/events?" + srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()
	call := func(access string) int {
		req, _ := http.NewRequest(http.MethodGet, api, nil)
		req.Header.Set("Authorization", "Bearer "+access)
		return do(t, http.DefaultClient, req).status
	}
	assert.Equal(t, 200, call(tok.AccessToken))
	clk.advance(10*time.Minute + time.Second)
	assert.Equal(t, 401, call(tok.AccessToken), "expired by TTL")
	tok2, err := cc.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 200, call(tok2.AccessToken))
	srv.ExpireTokens()
	assert.Equal(t, 401, call(tok2.AccessToken), "revoked")
	assert.Equal(t, int64(4), srv.TokensIssued())
}

func TestStartListensOnLoopbackOnly(t *testing.T) {
	srv, err := New(Config{End: t0, Now: fixedNow}).Start("127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close()
	require.True(t, strings.HasPrefix(srv.URL(), "http://127.0.0.1:"))
	r := get(t, http.DefaultClient, srv.EventsURL()+"?"+srv.WindowQuery(t0.Add(-time.Hour), t0).Encode())
	assert.Equal(t, 200, r.status)

	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL(), "http://"))
	_, err = New(Config{}).Start("127.0.0.1:" + port)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already in use")
	_, err = New(Config{}).Start("0.0.0.0:0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only 127.0.0.1")
	_, err = srv.Start("127.0.0.1:0")
	assert.Error(t, err)
	require.NoError(t, srv.Close())
}

func TestRequestLogRedactsSecrets(t *testing.T) {
	srv := New(Config{End: t0, Now: fixedNow, Auth: AuthAPIKey, APIKey: "topsecret", APIKeyHeader: "X-Api-Key", LogSize: 3})
	base := startTest(t, srv)
	hc := authClient(t, srv, base)
	for i := 0; i < 5; i++ {
		get(t, hc, base+"/api/v1/events?"+srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()+"&client_secret=topsecret&n="+strconvItoa(int64(i)))
	}
	logs := srv.Requests()
	require.Len(t, logs, 3)
	assert.Contains(t, logs[0].Query, "n=2")
	assert.Contains(t, logs[2].Query, "n=4")
	for _, l := range logs {
		assert.Equal(t, 200, l.Status)
		assert.Equal(t, redacted, l.Header["X-Api-Key"])
		assert.NotContains(t, l.Query, "topsecret")
		assert.Equal(t, 1000, l.Events)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer topsecret")
	do(t, http.DefaultClient, req)
	last := srv.Requests()[2]
	assert.Equal(t, "Bearer "+redacted, last.Header["Authorization"])
}

func TestAPIKeyInPostBody(t *testing.T) {
	srv := New(Config{Events: 10, End: t0, Now: fixedNow, Auth: AuthAPIKey, APIKey: "k1", APIKeyHeader: "apiKey", APIKeyInBody: true, Method: "POST"})
	base := startTest(t, srv)
	win := `"since":"` + srv.FormatTime(t0.Add(-time.Hour)) + `","until":"` + srv.FormatTime(t0) + `"`
	r := post(t, http.DefaultClient, base+"/api/v1/events", "application/json", `{`+win+`,"apiKey":"k1"}`)
	assert.Equal(t, 200, r.status, "%s", r.body)
	assert.Len(t, gjsonIDs(r.body, "data"), 10)
	r = post(t, http.DefaultClient, base+"/api/v1/events", "application/json", `{`+win+`,"apiKey":"k2"}`)
	assert.Equal(t, 401, r.status)
	r = post(t, http.DefaultClient, base+"/api/v1/events", "application/json", `{`+win+`}`)
	assert.Equal(t, 401, r.status)
	r = post(t, http.DefaultClient, base+"/api/v1/events?apiKey=k1", "application/json", `{`+win+`}`)
	assert.Equal(t, 401, r.status, "the key must be in the body")
	r = post(t, http.DefaultClient, base+"/api/v1/events", "application/json", `{bad json`)
	assert.Equal(t, 401, r.status, "auth is checked before parameters")
}
