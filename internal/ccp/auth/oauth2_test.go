package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type tokenOpts struct {
	wantParams  map[string]string
	wantHeaders map[string]string
	jsonBody    bool
}

// clientCredentialsCase is one client_credentials definition, what the fake token endpoint
// checks, and the API Authorization it leads to.
type clientCredentialsCase struct {
	name   string
	auth   map[string]any
	creds  Credentials
	server tokenOpts
	want   string
}

const ccClientID, ccSecret = "client:id/1", "s3cr3t+/:=&value"

// clientCredentialsCases builds the table afresh (each run writes its TokenEndpoint into auth).
func clientCredentialsCases() []clientCredentialsCase {
	const id, secret = ccClientID, ccSecret
	return []clientCredentialsCase{
		{
			name: "secret in body, scope, TokenEndpointQueryParameters in the body (Auth0)",
			auth: map[string]any{"type": "OAuth2", "ClientId": id, "ClientSecret": secret, "GrantType": "client_credentials",
				"Scope": "read:logs", "TokenEndpointQueryParameters": map[string]any{"audience": "https://tenant/api/v2/"}},
			server: tokenOpts{wantParams: map[string]string{"scope": "read:logs", "audience": "https://tenant/api/v2/"}},
			want:   "Bearer tok-1",
		},
		{
			name: "lower-case keys, two body parameters (Box)",
			auth: map[string]any{"type": "OAuth2", "clientId": id, "clientSecret": secret, "grantType": "client_credentials",
				"TokenEndpointHeaders":         map[string]any{"Content-Type": "application/x-www-form-urlencoded"},
				"tokenEndpointQueryParameters": map[string]any{"box_subject_type": "enterprise", "box_subject_id": "42"}},
			server: tokenOpts{wantParams: map[string]string{"box_subject_type": "enterprise", "box_subject_id": "42"}},
			want:   "Bearer tok-1",
		},
		{
			name: "IsClientSecretInHeader as a string => Basic urlenc(id):urlenc(secret), not in body",
			auth: map[string]any{"type": "OAuth2", "ClientId": id, "ClientSecret": secret, "FlowName": "ClientCredentials",
				"IsClientSecretInHeader": "true"},
			server: tokenOpts{},
			want:   "Bearer tok-1",
		},
		{
			name: "isCredentialsInHeaders boolean",
			auth: map[string]any{"type": "OAuth2", "ClientId": id, "ClientSecret": secret, "GrantType": "client_credentials",
				"isCredentialsInHeaders": true},
			server: tokenOpts{},
			want:   "Bearer tok-1",
		},
		{
			name: "user-supplied Authorization in TokenEndpointHeaders wins (Vectra)",
			auth: map[string]any{"type": "OAuth2", "ClientId": id, "ClientSecret": secret, "GrantType": "client_credentials",
				"TokenEndpointHeaders": map[string]any{"Accept": "application/json", "Authorization": basicHeader(url.QueryEscape(id), url.QueryEscape(secret)), "User-Agent": "Vectra-Sentinel-3.5.0"}},
			server: tokenOpts{wantHeaders: map[string]string{"User-Agent": "Vectra-Sentinel-3.5.0"}},
			want:   "Bearer tok-1",
		},
		{
			name: "JSON token request body",
			auth: map[string]any{"type": "OAuth2", "ClientId": id, "ClientSecret": secret, "GrantType": "client_credentials",
				"IsTokenEndpointPostPayloadJson": "True", "TokenEndpointQueryParameters": map[string]any{"audience": "x"}},
			server: tokenOpts{jsonBody: true, wantParams: map[string]string{"audience": "x"}},
			want:   "Bearer tok-1",
		},
		{
			name: "AccessTokenPrepend",
			auth: map[string]any{"type": "OAuth2", "ClientId": id, "ClientSecret": secret, "GrantType": "client_credentials", "AccessTokenPrepend": "Token"},
			want: "Token tok-1",
		},
		{
			name: "AccessTokenPrepend empty => raw token",
			auth: map[string]any{"type": "OAuth2", "ClientId": id, "ClientSecret": secret, "GrantType": "client_credentials", "AccessTokenPrepend": ""},
			want: "tok-1",
		},
		{
			name:  "client id and secret from connect-time credentials",
			auth:  map[string]any{"type": "OAuth2", "GrantType": "client_credentials", "ClientSecret": ""},
			creds: Credentials{ClientID: id, ClientSecret: secret},
			want:  "Bearer tok-1",
		},
	}
}

func TestOAuth2ClientCredentials(t *testing.T) {
	const id, secret = ccClientID, ccSecret
	for _, tc := range clientCredentialsCases() {
		t.Run(tc.name, func(t *testing.T) {
			fs := &fakeTokenServer{t: t, clientID: id, clientSecret: secret, grants: []string{"client_credentials"}, expiresIn: 3600,
				wantParams: tc.server.wantParams, wantHeaders: tc.server.wantHeaders, jsonBody: tc.server.jsonBody}
			srv := loopback(t, fs)
			tc.auth["TokenEndpoint"] = srv.URL + "/oauth2/token"
			a := newAuth(t, tc.auth, Settings{Credentials: tc.creds, HTTPClient: srv.Client()})
			for i := 0; i < 5; i++ {
				require.Equal(t, tc.want, apply(t, a).Header.Get("Authorization"))
			}
			require.EqualValues(t, 1, fs.calls.Load(), "one token call for many Applies")
			p := fs.lastParams()
			require.Equal(t, "client_credentials", p.Get("grant_type"))
			if tc.auth["IsClientSecretInHeader"] != nil || tc.auth["isCredentialsInHeaders"] != nil || fs.wantHeaders != nil {
				require.False(t, p.Has("client_secret"), "secret must not be in the body")
				require.False(t, p.Has("client_id"))
			}
		})
	}
}

// clientCredentialsAuth starts a fake token endpoint whose tokens live expiresIn seconds (0: no
// expires_in) and builds a client_credentials authenticator for it that reads the time from clk.
func clientCredentialsAuth(t *testing.T, expiresIn int, clk *fakeClock) (*fakeTokenServer, Authenticator) {
	t.Helper()
	fs := &fakeTokenServer{t: t, clientID: "cid", clientSecret: "csecret-1", grants: []string{"client_credentials"}, expiresIn: expiresIn}
	srv := loopback(t, fs)
	a := newAuth(t, map[string]any{"type": "OAuth2", "ClientId": "cid", "ClientSecret": "csecret-1", "GrantType": "client_credentials",
		"TokenEndpoint": srv.URL + "/token"}, Settings{HTTPClient: srv.Client(), Now: clk.Now})
	return fs, a
}

func TestOAuth2ExpiryAndInvalidate(t *testing.T) {
	clk := newClock()
	fs, a := clientCredentialsAuth(t, 3600, clk)

	require.Equal(t, "Bearer tok-1", apply(t, a).Header.Get("Authorization"))
	clk.Advance(3500 * time.Second) // 100 s before expiry: still cached
	require.Equal(t, "Bearer tok-1", apply(t, a).Header.Get("Authorization"))
	clk.Advance(45 * time.Second) // 55 s before expiry: inside the 60 s margin
	require.Equal(t, "Bearer tok-2", apply(t, a).Header.Get("Authorization"))
	require.EqualValues(t, 2, fs.calls.Load())

	// Invalidate => exactly one re-fetch, even with concurrent Applies.
	a.Invalidate()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodGet, "https://api.example.com/x", nil)
			if err := a.Apply(context.Background(), req); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 3, fs.calls.Load())
	require.Equal(t, "Bearer tok-3", apply(t, a).Header.Get("Authorization"))
}

func TestOAuth2ShortLivedAndNoExpiry(t *testing.T) {
	// 60 s tokens are renewed after half their lifetime, not on every call.
	clk := newClock()
	fs, a := clientCredentialsAuth(t, 60, clk)
	apply(t, a)
	apply(t, a)
	clk.Advance(29 * time.Second)
	apply(t, a)
	require.EqualValues(t, 1, fs.calls.Load())
	clk.Advance(2 * time.Second)
	require.Equal(t, "Bearer tok-2", apply(t, a).Header.Get("Authorization"))

	// No expires_in: cached until Invalidate.
	fs2, b := clientCredentialsAuth(t, 0, clk)
	apply(t, b)
	clk.Advance(48 * time.Hour)
	apply(t, b)
	require.EqualValues(t, 1, fs2.calls.Load())
	b.Invalidate()
	require.Equal(t, "Bearer tok-2", apply(t, b).Header.Get("Authorization"))
}

func TestOAuth2Errors(t *testing.T) {
	const secret = "very-secret-client-value"
	fs := &fakeTokenServer{t: t, clientID: "cid", clientSecret: "the-right-secret", grants: []string{"client_credentials"}}
	srv := loopback(t, fs)
	a := newAuth(t, map[string]any{"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials",
		"TokenEndpoint": srv.URL + "/token"}, Settings{HTTPClient: srv.Client()})
	req := httptest.NewRequest(http.MethodGet, "https://api.example.com/x", nil)
	err := a.Apply(testCtx(t), req)
	require.Error(t, err)
	require.Contains(t, err.Error(), "401")
	require.Contains(t, err.Error(), "invalid_client")
	require.Contains(t, err.Error(), "Client authentication failed")
	assertNoSecret(t, err.Error(), secret)
	require.Empty(t, req.Header.Get("Authorization"))

	// Wrong grant allowed by the server.
	fs2 := &fakeTokenServer{t: t, clientID: "cid", clientSecret: secret, grants: []string{"authorization_code"}}
	srv2 := loopback(t, fs2)
	b := newAuth(t, map[string]any{"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials",
		"TokenEndpoint": srv2.URL + "/token"}, Settings{HTTPClient: srv2.Client()})
	err = b.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/x", nil))
	require.ErrorContains(t, err, "unsupported_grant_type")
	require.ErrorContains(t, err, "400")

	// Oversized answer.
	fs3 := &fakeTokenServer{t: t, clientID: "cid", clientSecret: secret, grants: []string{"client_credentials"}, oversize: true}
	srv3 := loopback(t, fs3)
	c := newAuth(t, map[string]any{"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials",
		"TokenEndpoint": srv3.URL + "/token"}, Settings{HTTPClient: srv3.Client()})
	err = c.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/x", nil))
	require.ErrorContains(t, err, "larger than")

	// An endpoint echoing the secret in its error description does not leak it.
	echo := loopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		writeJSON(w, 400, map[string]string{"error": "invalid_client", "error_description": "bad secret " + r.PostForm.Get("client_secret")})
	}))
	d := newAuth(t, map[string]any{"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials",
		"TokenEndpoint": echo.URL + "/token"}, Settings{HTTPClient: echo.Client()})
	err = d.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/x", nil))
	require.ErrorContains(t, err, "invalid_client")
	assertNoSecret(t, err.Error(), secret)

	// Unreachable endpoint, cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = a.Apply(ctx, httptest.NewRequest(http.MethodGet, "https://api.example.com/x", nil))
	require.ErrorIs(t, err, context.Canceled)

	// Configuration errors.
	for _, m := range []map[string]any{
		{"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials"},
		{"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials", "TokenEndpoint": "not a url"},
		{"type": "OAuth2", "ClientId": "cid", "GrantType": "client_credentials", "TokenEndpoint": "https://x/token"},
		{"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "device_code", "TokenEndpoint": "https://x/token"},
		{"type": "OAuth2", "ClientId": "cid", "ClientSecret": "{{clientSecret}}", "GrantType": "client_credentials", "TokenEndpoint": "https://x/token"},
	} {
		_, err := New(parseAuth(t, m), Settings{})
		require.Error(t, err, "%v", m)
		assertNoSecret(t, err.Error(), secret)
	}
}
