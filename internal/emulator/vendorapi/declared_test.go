package vendorapi

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnlyTheDeclaredMethod: the events endpoint answers the one method its
// Config declares (as a definition's httpMethod does) and refuses the other
// with 405 and an Allow header, so a client that ignores httpMethod fails.
func TestOnlyTheDeclaredMethod(t *testing.T) {
	for _, tc := range []struct {
		method, want string
	}{{"", "GET"}, {"GET", "GET"}, {"post", "POST"}, {"POST", "POST"}} {
		srv := New(Config{Events: 10, End: t0, Now: fixedNow, Method: tc.method})
		require.Equal(t, tc.want, srv.Config().Method)
		base := startTest(t, srv)
		win := srv.WindowQuery(t0.Add(-time.Hour), t0).Encode()
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			var body io.Reader
			u := base + "/api/v1/events?" + win
			if m != http.MethodGet {
				body = strings.NewReader(win)
				u = base + "/api/v1/events"
			}
			req, err := http.NewRequest(m, u, body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r := do(t, http.DefaultClient, req)
			if m == tc.want {
				assert.Equal(t, 200, r.status, "%s on a %s endpoint: %s", m, tc.want, r.body)
				assert.Len(t, gjsonIDs(r.body, "data"), 10)
				continue
			}
			if !assert.Equal(t, 405, r.status, "%s on a %s endpoint", m, tc.want) {
				continue
			}
			assert.Equal(t, tc.want, r.header.Get("Allow"), m)
			assert.Equal(t, "method_not_allowed", errorBody(t, r.body)["error"], m)
		}
		un, _ := srv.Served()
		assert.EqualValues(t, 10, un, "only the declared method served events")
	}
	for _, bad := range []string{"PUT", "DELETE", "G ET"} {
		assert.Panics(t, func() { New(Config{Method: bad}) }, bad)
	}
	assert.Panics(t, func() { New(Config{Auth: AuthAPIKey, APIKey: "k", APIKeyInBody: true}) },
		"a key in the POST body needs Method POST")
}

// badCredentials returns a request for u with wrong credentials for cfg's
// auth mode (none at all for AuthOAuth2's bearer, a wrong one otherwise).
func badCredentials(t *testing.T, cfg Config, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	switch cfg.Auth {
	case AuthAPIKey:
		req.Header.Set(cfg.APIKeyHeader, strings.TrimSpace(cfg.APIKeyPrefix+" wrong"))
	case AuthBasic:
		req.SetBasicAuth(cfg.Username, "wrong")
	case AuthOAuth2:
		req.Header.Set("Authorization", "Bearer not-a-token")
	}
	return req
}

// TestAuthBeforeFaults: bad credentials get 401 even when a 429 or 500 is
// scheduled or drawn at rate 1, and the 401s leave scheduled faults for the
// authenticated requests that follow.
func TestAuthBeforeFaults(t *testing.T) {
	forEachCredentialedAuth(t, func(t *testing.T, srv *Server, base, u string) {
		cfg := srv.Config()
		good := authClient(t, srv, base)

		srv.Throttle(1)
		srv.FailNext(1)
		for i := 0; i < 3; i++ {
			r := do(t, http.DefaultClient, badCredentials(t, cfg, u))
			require.Equal(t, 401, r.status, "bad credentials with faults scheduled: %s", r.body)
			assert.Equal(t, "unauthorized", errorBody(t, r.body)["error"])
			r = get(t, http.DefaultClient, u) // no credentials at all
			require.Equal(t, 401, r.status, "no credentials with faults scheduled: %s", r.body)
		}
		assert.Equal(t, 429, get(t, good, u).status, "the throttle waited for an authenticated request")
		assert.Equal(t, 500, get(t, good, u).status, "the failure waited for an authenticated request")
		assert.Equal(t, 200, get(t, good, u).status)

		srv.SetFaults(Faults{ErrorRate: 1})
		assert.Equal(t, 401, do(t, http.DefaultClient, badCredentials(t, cfg, u)).status, "rate-drawn 500")
		assert.Equal(t, 500, get(t, good, u).status)
		srv.SetFaults(Faults{ThrottleRate: 1})
		assert.Equal(t, 401, do(t, http.DefaultClient, badCredentials(t, cfg, u)).status, "rate-drawn 429")
		assert.Equal(t, 429, get(t, good, u).status)
		assert.Equal(t, map[int]int64{401: 8, 429: 2, 500: 2, 200: 1}, srv.StatusCounts())
	})
}

// TestOversizeTokenBodyIsRefused: a token request body over 64 KiB is a 413
// (invalid_request) and issues no token, even when its first 64 KiB hold
// valid credentials; a body of exactly 64 KiB is still served. The emulator
// picks 413 (HTTP's status for the condition) over 400 so a test can tell
// the size check from a parameter check; both are final 4xx for a client.
func TestOversizeTokenBodyIsRefused(t *testing.T) {
	srv := New(Config{Events: 10, End: t0, Now: fixedNow, Auth: AuthOAuth2, ClientID: "cid", ClientSecret: "sec"})
	base := startTest(t, srv)
	tokURL := base + srv.Config().TokenPath
	creds := url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"sec"}}.Encode()
	padded := func(n int) string { // credentials first, then padding to n bytes
		return creds + "&pad=" + strings.Repeat("x", n-len(creds)-len("&pad="))
	}
	r := post(t, http.DefaultClient, tokURL, "application/x-www-form-urlencoded", padded(maxTokenBody))
	require.Equal(t, 200, r.status, "a body of exactly the limit: %s", r.body)
	require.EqualValues(t, 1, srv.TokensIssued())

	for _, chunked := range []bool{false, true} {
		body := padded(maxTokenBody + 1)
		req, err := http.NewRequest(http.MethodPost, tokURL, strings.NewReader(body))
		require.NoError(t, err)
		if chunked { // no Content-Length: the size is found while reading
			req.Body = io.NopCloser(strings.NewReader(body))
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := do(t, http.DefaultClient, req)
		if !assert.Equal(t, 413, r.status, "chunked=%v: %s", chunked, r.body) {
			continue
		}
		assert.Equal(t, "invalid_request", errorBody(t, r.body)["error"])
		assert.Contains(t, errorBody(t, r.body)["error_description"], "larger than 65536 bytes")
		assert.Empty(t, gjsonStr(r.body, "access_token"))
	}
	assert.EqualValues(t, 1, srv.TokensIssued(), "no token for an oversize body")
}
