package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func makeJWT(exp time.Time, n int32) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]any{"alg": "HS256", "typ": "JWT"})
	c, _ := json.Marshal(map[string]any{"sub": "svc", "exp": exp.Unix(), "n": n})
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + ".c2ln"
}

// fakeLogin is a vendor login endpoint: it checks credentials the way the vendor does and
// answers with the token in the configured place.
type fakeLogin struct {
	method   string
	check    func(r *http.Request, body []byte) bool
	respond  func(w http.ResponseWriter, tok string)
	tokenFor func(n int32) string
	calls    atomic.Int32
}

func (f *fakeLogin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	if r.Method != f.method {
		writeJSON(w, 405, map[string]string{"message": "method not allowed"})
		return
	}
	body, _ := io.ReadAll(r.Body)
	if !f.check(r, body) {
		writeJSON(w, 401, map[string]string{"error": "unauthorized", "message": "invalid credentials"})
		return
	}
	tok := fmt.Sprintf("opaque-%d", n)
	if f.tokenFor != nil {
		tok = f.tokenFor(n)
	}
	f.respond(w, tok)
}

func jsonBodyIs(r *http.Request, body []byte, want map[string]string) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		return false
	}
	var m map[string]string
	if json.Unmarshal(body, &m) != nil || len(m) != len(want) {
		return false
	}
	for k, v := range want {
		if m[k] != v {
			return false
		}
	}
	return true
}

// jwtTokenCase is one JwtToken definition, the fake login endpoint that checks its login
// call, and the API Authorization it leads to.
type jwtTokenCase struct {
	name    string
	auth    map[string]any
	creds   Credentials
	login   *fakeLogin
	wantHdr string // value of the API Authorization header for token n=1
}

// jwtTokenBodyCases send the user name and password in the login body (JSON or form).
func jwtTokenBodyCases() []jwtTokenCase {
	return []jwtTokenCase{
		{
			name: "JSON body, $.token (Prisma Cloud)",
			auth: map[string]any{"type": "JwtToken", "userName": map[string]any{"key": "username", "value": "pc-user"},
				"password": map[string]any{"key": "password", "value": "pc-pass-1"}, "IsJsonRequest": true, "JwtTokenJsonPath": "$.token"},
			login: &fakeLogin{method: "POST", check: func(r *http.Request, b []byte) bool {
				return jsonBodyIs(r, b, map[string]string{"username": "pc-user", "password": "pc-pass-1"})
			}, respond: func(w http.ResponseWriter, tok string) {
				writeJSON(w, 200, map[string]any{"token": tok, "message": "login_successful"})
			}},
			wantHdr: "Bearer opaque-1",
		},
		{
			name: "JSON body, nested path, headers (Check Point)",
			auth: map[string]any{"type": "JwtToken", "userName": map[string]any{"key": "clientId", "value": "cp-id"},
				"password": map[string]any{"key": "accessKey", "value": "cp-key-1"}, "IsJsonRequest": true,
				"Headers":          map[string]any{"Accept": "application/json", "Content-Type": "application/json", "x-av-req-id": "r1"},
				"JwtTokenJsonPath": "$.data.token", "TokenEndpointHttpMethod": "POST"},
			login: &fakeLogin{method: "POST", check: func(r *http.Request, b []byte) bool {
				return r.Header.Get("x-av-req-id") == "r1" && jsonBodyIs(r, b, map[string]string{"clientId": "cp-id", "accessKey": "cp-key-1"})
			}, respond: func(w http.ResponseWriter, tok string) {
				writeJSON(w, 200, map[string]any{"data": map[string]any{"token": tok}})
			}},
			wantHdr: "Bearer opaque-1",
		},
		{
			name:  "form body, legacy attribute names, credentials from config",
			auth:  map[string]any{"type": "JwtToken", "UsernameAttributeName": "login", "PasswordAttributeName": "secret", "JwtTokenJsonPath": "$.accessToken"},
			creds: Credentials{Username: "form-user", Password: "form-pass-1"},
			login: &fakeLogin{method: "POST", check: func(r *http.Request, b []byte) bool {
				v, err := url.ParseQuery(string(b))
				return err == nil && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" &&
					v.Get("login") == "form-user" && v.Get("secret") == "form-pass-1"
			}, respond: func(w http.ResponseWriter, tok string) { writeJSON(w, 200, map[string]any{"accessToken": tok}) }},
			wantHdr: "Bearer opaque-1",
		},
	}
}

// jwtTokenHeaderCases send a user token or Basic credentials in the login call's Authorization.
func jwtTokenHeaderCases() []jwtTokenCase {
	return []jwtTokenCase{
		{
			name: "user token, empty prepend, GET, no access-token prepend (BigID)",
			auth: map[string]any{"type": "JwtToken", "UserToken": "bigid-user-token", "UserTokenPrepend": "", "TokenEndpointHttpMethod": "GET",
				"NoAccessTokenPrepend": true, "JwtTokenJsonPath": "$.systemToken"},
			login: &fakeLogin{method: "GET", check: func(r *http.Request, b []byte) bool {
				return r.Header.Get("Authorization") == "bigid-user-token" && len(b) == 0
			}, respond: func(w http.ResponseWriter, tok string) {
				writeJSON(w, 200, map[string]any{"success": true, "systemToken": tok})
			}},
			wantHdr: "opaque-1",
		},
		{
			name:  "user token from credentials with a prepend",
			auth:  map[string]any{"type": "JwtToken", "UserTokenPrepend": "Token", "JwtTokenJsonPath": "$.systemToken"},
			creds: Credentials{UserToken: "cfg-user-token"},
			login: &fakeLogin{method: "POST", check: func(r *http.Request, b []byte) bool {
				return r.Header.Get("Authorization") == "Token cfg-user-token"
			}, respond: func(w http.ResponseWriter, tok string) { writeJSON(w, 200, map[string]any{"systemToken": tok}) }},
			wantHdr: "Bearer opaque-1",
		},
		{
			name: "Basic credentials in headers, token in a response header with identifier, query parameters",
			auth: map[string]any{"type": "JwtToken", "userName": map[string]any{"key": "u", "value": "hdr-user"},
				"password": map[string]any{"key": "p", "value": "hdr-pass-1"}, "IsCredentialsInHeaders": "true",
				"JwtTokenInResponseHeader": true, "JwtTokenHeaderName": "X-Auth-Token", "JwtTokenIdentifier": "JWT",
				"QueryParameters": map[string]any{"tenant": "t1"}},
			login: &fakeLogin{method: "POST", check: func(r *http.Request, b []byte) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "hdr-user" && p == "hdr-pass-1" && len(b) == 0 && r.URL.Query().Get("tenant") == "t1"
			}, respond: func(w http.ResponseWriter, tok string) {
				w.Header().Set("X-Auth-Token", "JWT "+tok)
				w.WriteHeader(204)
			}},
			wantHdr: "Bearer opaque-1",
		},
	}
}

func TestJwtToken(t *testing.T) {
	for _, tc := range append(jwtTokenBodyCases(), jwtTokenHeaderCases()...) {
		t.Run(tc.name, func(t *testing.T) {
			srv := loopback(t, tc.login)
			tc.auth["TokenEndpoint"] = srv.URL + "/login"
			a := newAuth(t, tc.auth, Settings{HTTPClient: srv.Client(), Credentials: tc.creds})
			for i := 0; i < 4; i++ {
				require.Equal(t, tc.wantHdr, apply(t, a).Header.Get("Authorization"))
			}
			require.EqualValues(t, 1, tc.login.calls.Load())
			a.Invalidate()
			apply(t, a)
			require.EqualValues(t, 2, tc.login.calls.Load(), "Invalidate => exactly one re-login")
		})
	}
}

func TestJwtTokenExpiryAndErrors(t *testing.T) {
	clk := newClock()
	login := &fakeLogin{method: "POST",
		check: func(r *http.Request, b []byte) bool {
			return jsonBodyIs(r, b, map[string]string{"username": "u1", "password": "right-pass"})
		},
		respond:  func(w http.ResponseWriter, tok string) { writeJSON(w, 200, map[string]any{"token": tok}) },
		tokenFor: func(n int32) string { return makeJWT(clk.Now().Add(10*time.Minute), n) }}
	srv := loopback(t, login)
	def := func(pass string) map[string]any {
		return map[string]any{"type": "JwtToken", "TokenEndpoint": srv.URL + "/login", "IsJsonRequest": "true", "JwtTokenJsonPath": "$.token",
			"userName": map[string]any{"key": "username", "value": "u1"}, "password": map[string]any{"key": "password", "value": pass}}
	}
	a := newAuth(t, def("right-pass"), Settings{HTTPClient: srv.Client(), Now: clk.Now})
	first := apply(t, a).Header.Get("Authorization")
	clk.Advance(8 * time.Minute) // exp in 2 min: still used
	require.Equal(t, first, apply(t, a).Header.Get("Authorization"))
	clk.Advance(90 * time.Second) // exp in 30 s: inside the margin => re-login before exp
	require.NotEqual(t, first, apply(t, a).Header.Get("Authorization"))
	require.EqualValues(t, 2, login.calls.Load())

	// Opaque tokens: re-login every 30 minutes.
	opaque := &fakeLogin{method: "POST", check: func(*http.Request, []byte) bool { return true },
		respond: func(w http.ResponseWriter, tok string) { writeJSON(w, 200, map[string]any{"token": tok}) }}
	srv2 := loopback(t, opaque)
	b := newAuth(t, map[string]any{"type": "JwtToken", "TokenEndpoint": srv2.URL, "userName": map[string]any{"key": "u", "value": "x1"},
		"password": map[string]any{"key": "p", "value": "y1y1"}}, Settings{HTTPClient: srv2.Client(), Now: clk.Now})
	require.Equal(t, "Bearer opaque-1", apply(t, b).Header.Get("Authorization"))
	clk.Advance(29 * time.Minute)
	require.Equal(t, "Bearer opaque-1", apply(t, b).Header.Get("Authorization"))
	clk.Advance(2 * time.Minute)
	require.Equal(t, "Bearer opaque-2", apply(t, b).Header.Get("Authorization"))

	// Wrong password: status and message, no secret.
	c := newAuth(t, def("wrong-pass-123"), Settings{HTTPClient: srv.Client(), Now: clk.Now})
	err := c.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil))
	require.ErrorContains(t, err, "401")
	require.ErrorContains(t, err, "invalid credentials")
	assertNoSecret(t, err.Error(), "wrong-pass-123")

	// Path that selects nothing.
	d := newAuth(t, map[string]any{"type": "JwtToken", "TokenEndpoint": srv2.URL, "JwtTokenJsonPath": "$.nothing",
		"userName": map[string]any{"key": "u", "value": "x1"}, "password": map[string]any{"key": "p", "value": "y1y1"}},
		Settings{HTTPClient: srv2.Client()})
	err = d.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil))
	require.ErrorContains(t, err, "no token found")

	_, err = New(parseAuth(t, map[string]any{"type": "JwtToken", "TokenEndpoint": srv.URL}), Settings{})
	require.ErrorContains(t, err, "userName and password")
}

func TestSession(t *testing.T) {
	type loginMode int
	const (
		viaHeader loginMode = iota
		viaCookie
		viaBody
	)
	for _, mode := range []loginMode{viaHeader, viaCookie, viaBody} {
		t.Run(fmt.Sprint("mode", mode), func(t *testing.T) {
			var logins atomic.Int32
			valid := map[string]bool{}
			mux := http.NewServeMux()
			mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
				n := logins.Add(1)
				var m map[string]any
				body, _ := io.ReadAll(r.Body)
				if r.Method != "POST" || r.Header.Get("X-Tenant") != "acme" || json.Unmarshal(body, &m) != nil ||
					m["user"] != "sess-user" || m["pass"] != "sess-pass-1" || m["domain"] != "corp" {
					writeJSON(w, 401, map[string]string{"error": "login failed"})
					return
				}
				id := fmt.Sprintf("sid-%d", n)
				valid[id] = true
				switch mode {
				case viaHeader:
					w.Header().Set("X-Session-Id", id)
					w.WriteHeader(200)
				case viaCookie:
					http.SetCookie(w, &http.Cookie{Name: "X-Session-Id", Value: id})
					w.WriteHeader(200)
				case viaBody:
					writeJSON(w, 200, map[string]any{"X-Session-Id": id})
				}
			})
			srv := loopback(t, mux)
			clk := newClock()
			a := newAuth(t, map[string]any{"authType": "Session", "SessionLoginRequestUri": srv.URL + "/login",
				"userName": map[string]any{"key": "user", "value": "sess-user"}, "password": map[string]any{"key": "pass"},
				"QueryParameters": map[string]any{"domain": "corp"}, "IsPostPayloadJson": true,
				"Headers": map[string]any{"X-Tenant": "acme"}, "SessionTimeoutInMinutes": "30", "SessionIdName": "X-Session-Id"},
				Settings{HTTPClient: srv.Client(), Now: clk.Now, Credentials: Credentials{Password: "sess-pass-1"}})
			req := apply(t, a)
			require.Equal(t, "sid-1", req.Header.Get("X-Session-Id"))
			require.Equal(t, "acme", req.Header.Get("X-Tenant"), "Headers go on API calls too")
			if mode == viaCookie {
				c, err := req.Cookie("X-Session-Id")
				require.NoError(t, err)
				require.Equal(t, "sid-1", c.Value)
			}
			clk.Advance(20 * time.Minute)
			require.Equal(t, "sid-1", apply(t, a).Header.Get("X-Session-Id"))
			clk.Advance(10 * time.Minute) // timeout reached
			require.Equal(t, "sid-2", apply(t, a).Header.Get("X-Session-Id"))
			a.Invalidate()
			require.Equal(t, "sid-3", apply(t, a).Header.Get("X-Session-Id"))
			require.EqualValues(t, 3, logins.Load())
		})
	}

	bad := loopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, map[string]string{"error": "login failed"})
	}))
	a := newAuth(t, map[string]any{"authType": "Session", "SessionLoginRequestUri": bad.URL, "SessionIdName": "sid",
		"userName": map[string]any{"key": "u", "value": "x"}, "password": map[string]any{"key": "p", "value": "session-secret"}},
		Settings{HTTPClient: bad.Client()})
	err := a.Apply(testCtx(t), httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil))
	require.ErrorContains(t, err, "401")
	require.ErrorContains(t, err, "login failed")
	assertNoSecret(t, err.Error(), "session-secret")
}
