package auth

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// echoServer fails every call with an error description that repeats the whole request:
// headers, query and body. Nothing of it may reach an error message with a secret in it.
func echoServer(t *testing.T) *httptest.Server {
	return loopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var dump strings.Builder
		for k, vs := range r.Header {
			fmt.Fprintf(&dump, "%s: %s\n", k, strings.Join(vs, ","))
		}
		fmt.Fprintf(&dump, "query=%s body=%s", r.URL.RawQuery, body)
		writeJSON(w, 400, map[string]string{"error": "invalid_request", "error_description": dump.String(), "message": dump.String()})
	}))
}

func TestNoSecretInErrorsOrLogs(t *testing.T) {
	const secret = `p@ss/w"rd+<x>&y=1 z`
	const user = "user:name@corp"
	srv := echoServer(t)
	core, logs := observer.New(zap.DebugLevel)
	s := Settings{HTTPClient: srv.Client(), Logger: zap.New(core)}
	cases := map[string]map[string]any{
		"oauth2 client secret in body": {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials"},
		"oauth2 client secret in Basic": {"type": "OAuth2", "ClientId": user, "ClientSecret": secret, "GrantType": "client_credentials",
			"isCredentialsInHeaders": true},
		"oauth2 JSON body": {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials",
			"IsTokenEndpointPostPayloadJson": true},
		"oauth2 code":     {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "authorization_code", "AuthorizationCode": secret + "code"},
		"oauth2 refresh":  {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "authorization_code", "RefreshToken": secret + "rt"},
		"oauth2 password": {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "password", "UserName": user, "Password": secret + "pw"},
		"jwt JSON body": {"type": "JwtToken", "IsJsonRequest": true,
			"userName": map[string]any{"key": "u", "value": user}, "password": map[string]any{"key": "p", "value": secret}},
		"jwt form body": {"type": "JwtToken",
			"userName": map[string]any{"key": "u", "value": user}, "password": map[string]any{"key": "p", "value": secret}},
		"jwt GET query": {"type": "JwtToken", "TokenEndpointHttpMethod": "GET",
			"userName": map[string]any{"key": "u", "value": user}, "password": map[string]any{"key": "p", "value": secret}},
		"jwt Basic": {"type": "JwtToken", "IsCredentialsInHeaders": true,
			"userName": map[string]any{"key": "u", "value": user}, "password": map[string]any{"key": "p", "value": secret}},
		"jwt user token": {"type": "JwtToken", "UserToken": secret, "UserTokenPrepend": "Token"},
		"session": {"type": "Session", "SessionIdName": "sid",
			"userName": map[string]any{"key": "u", "value": user}, "password": map[string]any{"key": "p", "value": secret}},
	}
	forms := func(x string) []string {
		return []string{x, url.QueryEscape(x), strings.Trim(strconvQuote(x), `"`)}
	}
	for name, def := range cases {
		t.Run(name, func(t *testing.T) {
			def["TokenEndpoint"] = srv.URL + "/token"
			def["SessionLoginRequestUri"] = srv.URL + "/login"
			a := newAuth(t, def, s)
			err := a.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil))
			require.Error(t, err)
			require.Contains(t, err.Error(), "400")
			var all []string
			for _, x := range []string{secret, secret + "code", secret + "rt", secret + "pw"} {
				all = append(all, forms(x)...)
			}
			all = append(all, base64.StdEncoding.EncodeToString([]byte(user+":"+secret)),
				base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(user)+":"+url.QueryEscape(secret))))
			assertNoSecret(t, err.Error(), all...)
			require.Contains(t, err.Error(), redacted, "the echo was redacted, not dropped")
		})
	}
	for _, e := range logs.All() {
		line := e.Message + fmt.Sprint(e.ContextMap())
		assertNoSecret(t, line, secret)
	}
}
