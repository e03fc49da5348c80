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

func (f *fakeTokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	fail := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		fail(405, "invalid_request", "POST required")
		return
	}
	for k, v := range f.wantHeaders {
		if r.Header.Get(k) != v {
			fail(400, "invalid_request", "missing header "+k)
			return
		}
	}
	raw, _ := io.ReadAll(r.Body)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	vals := url.Values{}
	if f.jsonBody {
		if ct != "application/json" {
			fail(400, "invalid_request", "JSON body expected")
			return
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			fail(400, "invalid_request", "bad JSON")
			return
		}
		for k, v := range m {
			vals.Set(k, fmt.Sprint(v))
		}
	} else {
		if ct != "application/x-www-form-urlencoded" {
			fail(400, "invalid_request", "form body expected")
			return
		}
		var err error
		if vals, err = url.ParseQuery(string(raw)); err != nil {
			fail(400, "invalid_request", "bad form")
			return
		}
	}
	f.mu.Lock()
	f.last = vals
	f.mu.Unlock()
	if len(r.URL.RawQuery) > 0 {
		fail(400, "invalid_request", "parameters belong in the body")
		return
	}
	// client authentication: exactly one method
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			fail(401, "invalid_client", "bad basic encoding")
			return
		}
		if vals.Has("client_secret") {
			fail(400, "invalid_request", "more than one client authentication method")
			return
		}
	} else {
		id, secret = vals.Get("client_id"), vals.Get("client_secret")
	}
	grant := vals.Get("grant_type")
	if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" || f.clientSecret != "" {
		if id != f.clientID || secret != f.clientSecret {
			fail(401, "invalid_client", "Client authentication failed")
			return
		}
	}
	ok := false
	for _, g := range f.grants {
		if g == grant {
			ok = true
		}
	}
	if !ok {
		fail(400, "unsupported_grant_type", "grant "+grant+" not allowed")
		return
	}
	for k, v := range f.wantParams {
		if vals.Get(k) != v {
			fail(400, "invalid_request", "parameter "+k+" missing or wrong")
			return
		}
	}
	resp := map[string]any{"token_type": "Bearer"}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch grant {
	case "authorization_code":
		if f.codeUsed || vals.Get("code") != f.code {
			fail(400, "invalid_grant", "code invalid or already used")
			return
		}
		if vals.Get("redirect_uri") != f.redirectURI {
			fail(400, "invalid_grant", "redirect_uri mismatch")
			return
		}
		f.codeUsed = true
		resp["refresh_token"] = f.newRefreshLocked()
	case "refresh_token":
		rt := vals.Get("refresh_token")
		if !f.refresh[rt] {
			fail(400, "invalid_grant", "refresh token invalid")
			return
		}
		if f.rotate {
			delete(f.refresh, rt)
			resp["refresh_token"] = f.newRefreshLocked()
		}
	case "password":
		if vals.Get("username") != f.username || vals.Get("password") != f.password {
			fail(400, "invalid_grant", "authentication failure")
			return
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if f.verifyAssertion == nil {
			fail(400, "invalid_grant", "no verifier")
			return
		}
		if err := f.verifyAssertion(vals.Get("assertion")); err != nil {
			fail(400, "invalid_grant", err.Error())
			return
		}
	}
	n := f.issued.Add(1)
	resp["access_token"] = fmt.Sprintf("tok-%d", n)
	if f.expiresIn > 0 {
		resp["expires_in"] = f.expiresIn
	}
	if f.oversize {
		resp["padding"] = strings.Repeat("x", 2<<20)
	}
	writeJSON(w, 200, resp)
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
