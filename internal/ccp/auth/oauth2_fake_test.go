package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeTokenServer is a strict RFC 6749 token endpoint: it authenticates the client exactly one
// way (HTTP Basic with form-encoded id/secret, or body parameters), refuses double client
// authentication, unknown grants, wrong codes/refresh tokens/passwords, and issues numbered
// tokens. It can rotate refresh tokens.
type fakeTokenServer struct {
	t            *testing.T
	clientID     string
	clientSecret string
	expiresIn    int // 0: omitted
	grants       []string
	wantParams   map[string]string // extra parameters the token request must carry
	wantHeaders  map[string]string
	jsonBody     bool // expect application/json bodies
	// authorization_code / refresh
	code        string
	redirectURI string
	rotate      bool
	// password
	username, password string
	// jwt bearer
	verifyAssertion func(string) error
	oversize        bool

	mu       sync.Mutex
	refresh  map[string]bool // valid refresh tokens
	codeUsed bool
	calls    atomic.Int32
	issued   atomic.Int32
	last     url.Values
}

// tokenError is a refusal of the fake: the status and the RFC 6749 error fields.
type tokenError struct {
	status     int
	code, desc string
}

func (f *fakeTokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	resp, e := f.answer(r)
	if e != nil {
		writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
		return
	}
	writeJSON(w, 200, resp)
}

// answer checks one token request in the order a strict endpoint does and issues a token.
func (f *fakeTokenServer) answer(r *http.Request) (map[string]any, *tokenError) {
	if r.Method != http.MethodPost {
		return nil, &tokenError{405, "invalid_request", "POST required"}
	}
	for k, v := range f.wantHeaders {
		if r.Header.Get(k) != v {
			return nil, &tokenError{400, "invalid_request", "missing header " + k}
		}
	}
	vals, e := f.readParams(r)
	if e != nil {
		return nil, e
	}
	f.mu.Lock()
	f.last = vals
	f.mu.Unlock()
	if len(r.URL.RawQuery) > 0 {
		return nil, &tokenError{400, "invalid_request", "parameters belong in the body"}
	}
	grant := vals.Get("grant_type")
	if e := f.authenticateClient(r, vals, grant); e != nil {
		return nil, e
	}
	ok := false
	for _, g := range f.grants {
		if g == grant {
			ok = true
		}
	}
	if !ok {
		return nil, &tokenError{400, "unsupported_grant_type", "grant " + grant + " not allowed"}
	}
	for k, v := range f.wantParams {
		if vals.Get(k) != v {
			return nil, &tokenError{400, "invalid_request", "parameter " + k + " missing or wrong"}
		}
	}
	resp := map[string]any{"token_type": "Bearer"}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.grantLocked(grant, vals, resp); e != nil {
		return nil, e
	}
	n := f.issued.Add(1)
	resp["access_token"] = fmt.Sprintf("tok-%d", n)
	if f.expiresIn > 0 {
		resp["expires_in"] = f.expiresIn
	}
	if f.oversize {
		resp["padding"] = strings.Repeat("x", 2<<20)
	}
	return resp, nil
}

// readParams reads the body as the JSON object or the form the fake expects.
func (f *fakeTokenServer) readParams(r *http.Request) (url.Values, *tokenError) {
	raw, _ := io.ReadAll(r.Body)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	vals := url.Values{}
	if f.jsonBody {
		if ct != "application/json" {
			return nil, &tokenError{400, "invalid_request", "JSON body expected"}
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, &tokenError{400, "invalid_request", "bad JSON"}
		}
		for k, v := range m {
			vals.Set(k, fmt.Sprint(v))
		}
		return vals, nil
	}
	if ct != "application/x-www-form-urlencoded" {
		return nil, &tokenError{400, "invalid_request", "form body expected"}
	}
	vals, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, &tokenError{400, "invalid_request", "bad form"}
	}
	return vals, nil
}

// authenticateClient accepts exactly one client authentication: Basic (form-encoded id and
// secret) or body parameters. The JWT bearer grant needs none when the fake has no secret.
func (f *fakeTokenServer) authenticateClient(r *http.Request, vals url.Values, grant string) *tokenError {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return &tokenError{401, "invalid_client", "bad basic encoding"}
		}
		if vals.Has("client_secret") {
			return &tokenError{400, "invalid_request", "more than one client authentication method"}
		}
	} else {
		id, secret = vals.Get("client_id"), vals.Get("client_secret")
	}
	if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" || f.clientSecret != "" {
		if id != f.clientID || secret != f.clientSecret {
			return &tokenError{401, "invalid_client", "Client authentication failed"}
		}
	}
	return nil
}

// grantLocked checks the grant's own parameters and adds a refresh token where the grant
// issues one. f.mu is held.
func (f *fakeTokenServer) grantLocked(grant string, vals url.Values, resp map[string]any) *tokenError {
	switch grant {
	case "authorization_code":
		if f.codeUsed || vals.Get("code") != f.code {
			return &tokenError{400, "invalid_grant", "code invalid or already used"}
		}
		if vals.Get("redirect_uri") != f.redirectURI {
			return &tokenError{400, "invalid_grant", "redirect_uri mismatch"}
		}
		f.codeUsed = true
		resp["refresh_token"] = f.newRefreshLocked()
	case "refresh_token":
		rt := vals.Get("refresh_token")
		if !f.refresh[rt] {
			return &tokenError{400, "invalid_grant", "refresh token invalid"}
		}
		if f.rotate {
			delete(f.refresh, rt)
			resp["refresh_token"] = f.newRefreshLocked()
		}
	case "password":
		if vals.Get("username") != f.username || vals.Get("password") != f.password {
			return &tokenError{400, "invalid_grant", "authentication failure"}
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if f.verifyAssertion == nil {
			return &tokenError{400, "invalid_grant", "no verifier"}
		}
		if err := f.verifyAssertion(vals.Get("assertion")); err != nil {
			return &tokenError{400, "invalid_grant", err.Error()}
		}
	}
	return nil
}

func (f *fakeTokenServer) newRefreshLocked() string {
	if f.refresh == nil {
		f.refresh = map[string]bool{}
	}
	rt := fmt.Sprintf("rt-%d-%d", f.issued.Load()+1, len(f.refresh)+1)
	f.refresh[rt] = true
	return rt
}

func (f *fakeTokenServer) addRefresh(rt string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refresh == nil {
		f.refresh = map[string]bool{}
	}
	f.refresh[rt] = true
}

func (f *fakeTokenServer) lastParams() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}
