package auth

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScrub: every auth type scrubs the secrets it was configured with and the ones it
// obtained (tokens, session ids) from text an API echoed back, including their URL-encoded
// forms, so the poller can log a vendor error body.
func TestScrub(t *testing.T) {
	const secret = "Sup3r/secret+value"
	tokenSrv := loopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Session", "obtained-session-id")
		writeJSON(w, 200, map[string]any{"access_token": "obtained-access-token", "token": "obtained-access-token", "expires_in": 3600})
	}))
	s := Settings{HTTPClient: tokenSrv.Client()}
	cases := []struct {
		name    string
		def     map[string]any
		secrets []string
	}{
		{"Basic", map[string]any{"type": "Basic", "UserName": "u", "Password": secret}, []string{secret, "dTpTdXAzci9zZWNyZXQrdmFsdWU="}},
		{"APIKey", map[string]any{"type": "APIKey", "ApiKey": secret, "ApiKeyName": "X-Key"}, []string{secret}},
		{"OAuth2", map[string]any{"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials",
			"TokenEndpoint": tokenSrv.URL}, []string{secret, "obtained-access-token"}},
		{"JwtToken", map[string]any{"type": "JwtToken", "TokenEndpoint": tokenSrv.URL,
			"userName": map[string]any{"key": "u", "value": "user"}, "password": map[string]any{"key": "p", "value": secret}},
			[]string{secret, "obtained-access-token"}},
		{"Session", map[string]any{"type": "Session", "SessionLoginRequestUri": tokenSrv.URL, "SessionIdName": "X-Session",
			"userName": map[string]any{"key": "u", "value": "user"}, "password": map[string]any{"key": "p", "value": secret}},
			[]string{secret, "obtained-session-id"}},
		{"CiscoDuo", map[string]any{"type": "CiscoDuo", "APIKey": "DIWJ8X6AEYOR5OMC6TQ1", "ClientSecret": secret}, []string{secret}},
		{"AliCloudSlsV1", map[string]any{"type": "AliCloudSlsV1", "AccessKeyId": "id", "AccessKeySecret": secret,
			"SecurityToken": "sts-security-token"}, []string{secret, "sts-security-token"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuth(t, tc.def, s)
			req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, "https://api.example.com/x", nil)
			require.NoError(t, err)
			require.NoError(t, a.Apply(context.WithoutCancel(testCtx(t)), req))
			for _, x := range tc.secrets {
				for _, form := range []string{x, url.QueryEscape(x)} {
					body := `{"error":"invalid key ` + form + `"}`
					got := Scrub(a, body)
					require.NotContains(t, got, form)
					require.Contains(t, got, redacted)
				}
			}
			require.Equal(t, "nothing secret here", Scrub(a, "nothing secret here"))
		})
	}
	require.Equal(t, "x "+secret, Scrub(nil, "x "+secret), "no Authenticator: unchanged")
	require.Equal(t, "x "+secret, Scrub(newAuth(t, map[string]any{"type": "None"}, s), "x "+secret))
}
