package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func codeAuth(url string, extra map[string]any) map[string]any {
	m := map[string]any{"type": "OAuth2", "ClientId": "gid", "ClientSecret": "gsecret-123", "GrantType": "authorization_code",
		"TokenEndpoint": url + "/o/oauth2/token", "redirectUri": "https://portal.azure.com/TokenAuthorize/ExtensionName/Microsoft_Azure_Security_Insights",
		"scope":                                "https://www.googleapis.com/auth/admin.reports.audit.readonly",
		"authorizationEndpoint":                "https://accounts.google.com/o/oauth2/auth",
		"authorizationEndpointQueryParameters": map[string]any{"prompt": "consent", "access_type": "offline"},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestOAuth2AuthorizationCodeRotationAndRestart(t *testing.T) {
	fs := &fakeTokenServer{t: t, clientID: "gid", clientSecret: "gsecret-123", grants: []string{"authorization_code", "refresh_token"},
		code: "code-abc", redirectURI: "https://portal.azure.com/TokenAuthorize/ExtensionName/Microsoft_Azure_Security_Insights",
		rotate: true, expiresIn: 3600}
	srv := loopback(t, fs)
	st := newMemState()
	clk := newClock()
	def := codeAuth(srv.URL, map[string]any{"IsClientSecretInHeader": "true", "IsCredentialsInHeaders": "true", "AuthorizationCode": "code-abc"})
	s := Settings{HTTPClient: srv.Client(), State: st, Now: clk.Now}

	a := newAuth(t, def, s)
	require.Equal(t, "Bearer tok-1", apply(t, a).Header.Get("Authorization"))
	require.Equal(t, "authorization_code", fs.lastParams().Get("grant_type"))
	require.False(t, fs.lastParams().Has("client_secret"))
	apply(t, a)
	require.EqualValues(t, 1, fs.calls.Load())
	require.Equal(t, 1, st.sets)

	// 401 => one refresh, the refresh token rotates and is persisted.
	a.Invalidate()
	require.Equal(t, "Bearer tok-2", apply(t, a).Header.Get("Authorization"))
	require.Equal(t, "refresh_token", fs.lastParams().Get("grant_type"))
	require.Equal(t, 2, st.sets)
	// Expiry => refresh with the rotated token (the first one is no longer valid on the server).
	clk.Advance(time.Hour)
	require.Equal(t, "Bearer tok-3", apply(t, a).Header.Get("Authorization"))
	require.EqualValues(t, 3, fs.calls.Load())

	// Restart: a new Authenticator with the same config and store uses the stored refresh token
	// (the code is spent and the original refresh token was rotated away).
	b := newAuth(t, def, s)
	require.Equal(t, "Bearer tok-4", apply(t, b).Header.Get("Authorization"))
	require.Equal(t, "refresh_token", fs.lastParams().Get("grant_type"))

	// Without the store, a restart would try to exchange the spent code and fail.
	c := newAuth(t, def, Settings{HTTPClient: srv.Client(), Now: clk.Now})
	err := c.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil))
	require.ErrorContains(t, err, "invalid_grant")
	assertNoSecret(t, err.Error(), "code-abc", "gsecret-123")

	// A newly supplied refresh token replaces the stored one.
	fs.addRefresh("operator-rt-1")
	d := newAuth(t, codeAuth(srv.URL, nil), Settings{HTTPClient: srv.Client(), State: st, Now: clk.Now,
		Credentials: Credentials{RefreshToken: "operator-rt-1"}})
	apply(t, d)
	require.Equal(t, "operator-rt-1", fs.lastParams().Get("refresh_token"))
	require.Equal(t, "gid", fs.lastParams().Get("client_id"))
	require.Equal(t, "https://www.googleapis.com/auth/admin.reports.audit.readonly", fs.lastParams().Get("scope"))
	require.False(t, fs.lastParams().Has("prompt"), "authorization endpoint parameters are not token parameters")
}

func TestOAuth2AuthorizationCodeWithoutRefresh(t *testing.T) {
	// The server issues no refresh token: after expiry the spent code cannot be reused.
	fs := &fakeTokenServer{t: t, clientID: "gid", clientSecret: "gsecret-123", grants: []string{"authorization_code"},
		code: "code-1", redirectURI: "https://r", expiresIn: 600}
	srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		fs.ServeHTTP(rec, r)
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		delete(m, "refresh_token")
		writeJSON(w, rec.Code, m)
	})
	ts := loopback(t, srv)
	clk := newClock()
	a := newAuth(t, codeAuth(ts.URL, map[string]any{"AuthorizationCode": "code-1", "redirectUri": "https://r", "GrantType": "AuthCode"}),
		Settings{HTTPClient: ts.Client(), Now: clk.Now})
	apply(t, a)
	clk.Advance(time.Hour)
	err := a.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil))
	require.ErrorContains(t, err, "already exchanged")

	_, err = New(parseAuth(t, codeAuth(ts.URL, nil)), Settings{})
	require.ErrorContains(t, err, "AuthorizationCode")
}

func TestOAuth2PasswordGrant(t *testing.T) {
	fs := &fakeTokenServer{t: t, clientID: "sf-id", clientSecret: "sf-secret-1", grants: []string{"password", "client_credentials"},
		username: "user@corp", password: "pw-and-token"}
	srv := loopback(t, fs)
	sf := func(grant, user, pass string) map[string]any {
		return map[string]any{"type": "OAuth2", "ClientId": "sf-id", "ClientSecret": "sf-secret-1", "UserName": user, "Password": pass,
			"GrantType": grant, "TokenEndpoint": srv.URL + "/services/oauth2/token",
			"TokenEndpointHeaders":         map[string]any{"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
			"TokenEndpointQueryParameters": map[string]any{}}
	}
	a := newAuth(t, sf("password", "user@corp", "pw-and-token"), Settings{HTTPClient: srv.Client()})
	require.Equal(t, "Bearer tok-1", apply(t, a).Header.Get("Authorization"))
	require.Equal(t, "user@corp", fs.lastParams().Get("username"))
	// Same definition with the client_credentials choice and empty user fields (the ARM if()).
	b := newAuth(t, sf("client_credentials", "", ""), Settings{HTTPClient: srv.Client()})
	require.Equal(t, "Bearer tok-2", apply(t, b).Header.Get("Authorization"))
	// Credentials from the receiver config.
	c := newAuth(t, sf("password", "", ""), Settings{HTTPClient: srv.Client(), Credentials: Credentials{Username: "user@corp", Password: "pw-and-token"}})
	apply(t, c)
	// Wrong password: error without the password.
	d := newAuth(t, sf("password", "user@corp", "wrong-password"), Settings{HTTPClient: srv.Client()})
	err := d.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil))
	require.ErrorContains(t, err, "invalid_grant")
	assertNoSecret(t, err.Error(), "wrong-password", "sf-secret-1")
	_, err = New(parseAuth(t, sf("password", "", "")), Settings{})
	require.ErrorContains(t, err, "UserName and Password")
}

func TestOAuth2JWTBearer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	clk := newClock()
	fs := &fakeTokenServer{t: t, grants: []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}, expiresIn: 3600,
		verifyAssertion: func(tok string) error {
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				return errors.New("malformed")
			}
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			if err != nil {
				return err
			}
			sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
			if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
				return errors.New("bad signature")
			}
			var h, c map[string]any
			hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
			cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
			if json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil || h["alg"] != "RS256" {
				return errors.New("bad header/claims")
			}
			if c["iss"] != "svc@project" || c["aud"] == nil {
				return errors.New("wrong iss/aud")
			}
			exp, _ := c["exp"].(float64)
			if int64(exp) <= clk.Now().Unix() || int64(exp) > clk.Now().Add(time.Hour).Unix() {
				return errors.New("exp out of range")
			}
			return nil
		}}
	srv := loopback(t, fs)
	for name, p := range map[string]string{
		"PKCS#1 with real CRLF": strings.ReplaceAll(pemKey, "\n", "\r\n"),
		"escaped line breaks":   strings.ReplaceAll(pemKey, "\n", `\r\n`),
	} {
		t.Run(name, func(t *testing.T) {
			a := newAuth(t, map[string]any{"type": "OAuth2", "IsJwtBearerFlow": "true", "TokenEndpoint": srv.URL + "/token",
				"JwtHeaderInJson": `{"alg":"RS256","typ":"JWT"}`,
				"JwtClaimsInJson": `{"iss":"svc@project","scope":"x","aud":"` + srv.URL + `/token","exp":1}`,
				"JwtPem":          p}, Settings{HTTPClient: srv.Client(), Now: clk.Now})
			require.Regexp(t, `^Bearer tok-\d+$`, apply(t, a).Header.Get("Authorization"))
			require.Equal(t, "urn:ietf:params:oauth:grant-type:jwt-bearer", fs.lastParams().Get("grant_type"))
			require.False(t, fs.lastParams().Has("client_secret"))
		})
	}
	_, err = New(parseAuth(t, map[string]any{"type": "OAuth2", "IsJwtBearerFlow": true, "TokenEndpoint": srv.URL,
		"JwtClaimsInJson": `{"iss":"x"}`, "JwtPem": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"}), Settings{})
	require.ErrorContains(t, err, "JwtPem")
	require.NotContains(t, err.Error(), "AAAA")
}
