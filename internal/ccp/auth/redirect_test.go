package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/origin"
)

// trapServer is another origin (another port on 127.0.0.1) that records every request it
// receives, headers and body included, and answers like a token endpoint would.
type trapServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newTrap(t *testing.T) *trapServer {
	tr := &trapServer{}
	tr.Server = loopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		tr.mu.Lock()
		tr.seen = append(tr.seen, fmt.Sprintf("%s %s %v %s", r.Method, r.URL, r.Header, b))
		tr.mu.Unlock()
		w.Header().Set("Set-Cookie", "sid=trap-session")
		w.Header().Set("X-Session", "trap-session")
		writeJSON(w, 200, map[string]any{"access_token": "trap-token", "token": "trap-token", "expires_in": 3600})
	}))
	return tr
}

func (tr *trapServer) requests() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.seen...)
}

// TestTokenCallsRefuseCrossOriginRedirects: every auth type that calls a token or login
// endpoint refuses a 307/308 redirect to another origin, so the client secret, password,
// refresh token, assertion and custom token-endpoint headers never reach it.
func TestTokenCallsRefuseCrossOriginRedirects(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	const secret = "s3cr3t-value"
	hdr := map[string]any{"X-Vendor-Secret": "hdr-" + secret}
	cases := map[string]map[string]any{
		"oauth2 client_credentials": {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials",
			"TokenEndpointHeaders": hdr},
		"oauth2 client secret in Basic": {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "client_credentials",
			"isCredentialsInHeaders": true},
		"oauth2 refresh": {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "authorization_code",
			"RefreshToken": "rt-" + secret},
		"oauth2 auth code": {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "authorization_code",
			"AuthorizationCode": "code-" + secret},
		"oauth2 password": {"type": "OAuth2", "ClientId": "cid", "ClientSecret": secret, "GrantType": "password",
			"UserName": "u", "Password": "pw-" + secret},
		"oauth2 jwt bearer": {"type": "OAuth2", "IsJwtBearerFlow": true, "JwtClaimsInJson": `{"iss":"svc","aud":"x"}`, "JwtPem": pemKey},
		"jwt token": {"type": "JwtToken", "Headers": hdr,
			"userName": map[string]any{"key": "u", "value": "user"}, "password": map[string]any{"key": "p", "value": secret}},
		"jwt token GET": {"type": "JwtToken", "TokenEndpointHttpMethod": "GET",
			"userName": map[string]any{"key": "u", "value": "user"}, "password": map[string]any{"key": "p", "value": secret}},
		"jwt user token": {"type": "JwtToken", "UserToken": "ut-" + secret},
		"session": {"type": "Session", "SessionIdName": "X-Session", "Headers": hdr,
			"userName": map[string]any{"key": "u", "value": "user"}, "password": map[string]any{"key": "p", "value": secret}},
	}
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for name, def := range cases {
			t.Run(fmt.Sprintf("%d %s", status, name), func(t *testing.T) {
				trap := newTrap(t)
				endpoint := loopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, trap.URL+"/stolen", status)
				}))
				def["TokenEndpoint"] = endpoint.URL + "/token"
				def["SessionLoginRequestUri"] = endpoint.URL + "/login"
				client := endpoint.Client()
				a := newAuth(t, def, Settings{HTTPClient: client})
				err := a.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil))
				require.Error(t, err)
				require.ErrorIs(t, err, origin.ErrCrossOrigin)
				require.Contains(t, err.Error(), "credentials are only sent to "+endpoint.URL)
				require.Empty(t, trap.requests(), "the other origin received a token/login call")
				require.Nil(t, client.CheckRedirect, "the shared client is not modified")
			})
		}
	}
}

// TestTokenCallsFollowSameOriginRedirects: a redirect within the token endpoint's origin
// (a moved path) still works.
func TestTokenCallsFollowSameOriginRedirects(t *testing.T) {
	fs := &fakeTokenServer{t: t, clientID: "cid", clientSecret: "csecret", grants: []string{"client_credentials"}, expiresIn: 3600}
	srv := loopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/token", http.StatusPermanentRedirect)
			return
		}
		fs.ServeHTTP(w, r)
	}))
	a := newAuth(t, map[string]any{"type": "OAuth2", "ClientId": "cid", "ClientSecret": "csecret",
		"GrantType": "client_credentials", "TokenEndpoint": srv.URL + "/old"}, Settings{HTTPClient: srv.Client()})
	require.Regexp(t, `^Bearer tok-\d+$`, apply(t, a).Header.Get("Authorization"))
}
