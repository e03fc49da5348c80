package vendorapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

func secureEq(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// checkAuth writes a 401 and returns false unless the request is
// authenticated. p (nil when the body could not be parsed) is needed for
// APIKeyInBody.
func (s *Server) checkAuth(w http.ResponseWriter, r *http.Request, p *params) bool {
	fail := func(msg string) bool {
		if s.cfg.Auth == AuthOAuth2 {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		} else if s.cfg.Auth == AuthBasic {
			w.Header().Set("WWW-Authenticate", `Basic realm="vendorapi"`)
		}
		writeError(w, http.StatusUnauthorized, "unauthorized", msg)
		return false
	}
	switch s.cfg.Auth {
	case AuthNone:
		return true
	case AuthAPIKey:
		var v string
		if s.cfg.APIKeyInBody {
			if p != nil {
				v, _ = p.getBody(s.cfg.APIKeyHeader)
			}
			if v == "" {
				return fail("missing API key body field " + s.cfg.APIKeyHeader)
			}
		} else if v = r.Header.Get(s.cfg.APIKeyHeader); v == "" {
			return fail("missing API key header " + s.cfg.APIKeyHeader)
		}
		want := s.cfg.APIKey
		if s.cfg.APIKeyPrefix != "" {
			want = s.cfg.APIKeyPrefix + " " + want
		}
		if !secureEq(v, want) {
			return fail("invalid API key in " + s.cfg.APIKeyHeader)
		}
		return true
	case AuthBasic:
		u, p, ok := r.BasicAuth()
		if !ok {
			return fail("missing Basic credentials")
		}
		if !secureEq(u, s.cfg.Username) || !secureEq(p, s.cfg.Password) {
			return fail("invalid username or password")
		}
		return true
	case AuthOAuth2:
		v := r.Header.Get("Authorization")
		if v == "" {
			return fail("missing Authorization header")
		}
		scheme, tok, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, s.cfg.BearerPrefix) || tok == "" {
			return fail("Authorization must be '" + s.cfg.BearerPrefix + " <access token>'")
		}
		now := s.cfg.Now().UnixNano()
		s.mu.Lock()
		exp, known := s.tokens[tok]
		s.mu.Unlock()
		if !known {
			return fail("unknown or revoked access token")
		}
		if exp <= now {
			return fail("access token expired")
		}
		return true
	}
	return fail("unsupported auth mode")
}

// maxTokenBody bounds a token request body; a client_credentials request is
// a few hundred bytes.
const maxTokenBody = 64 << 10

// serveToken implements an RFC 6749 client_credentials token endpoint.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	oerr := func(code int, e, desc string) {
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		}
		writeJSON(w, code, map[string]string{"error": e, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		oerr(http.StatusMethodNotAllowed, "invalid_request", "token endpoint accepts POST only")
		return
	}
	form, code, desc := readTokenForm(r)
	if code != 0 {
		oerr(code, "invalid_request", desc)
		return
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		oerr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials, got "+quoteOrEmpty(gt))
		return
	}
	var id, secret string
	if hu, hp, ok := r.BasicAuth(); ok {
		if form.Has("client_secret") {
			oerr(http.StatusBadRequest, "invalid_request", "client authenticated by both Basic header and client_secret in body")
			return
		}
		// RFC 6749 2.3.1: id and secret are form-urlencoded before Basic.
		if u, err := url.QueryUnescape(hu); err == nil {
			hu = u
		}
		if p, err := url.QueryUnescape(hp); err == nil {
			hp = p
		}
		id, secret = hu, hp
		if bid := form.Get("client_id"); bid != "" && bid != id {
			oerr(http.StatusBadRequest, "invalid_request", "client_id in body differs from Basic header")
			return
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
		if id == "" || secret == "" {
			oerr(http.StatusUnauthorized, "invalid_client", "missing client credentials (Basic header or client_id/client_secret in body)")
			return
		}
	}
	if !secureEq(id, s.cfg.ClientID) || !secureEq(secret, s.cfg.ClientSecret) {
		oerr(http.StatusUnauthorized, "invalid_client", "invalid client_id or client_secret")
		return
	}
	for k, want := range s.cfg.TokenParams {
		if got, ok := form[k]; !ok || len(got) != 1 || got[0] != want {
			oerr(http.StatusBadRequest, "invalid_request", "missing or wrong parameter "+k)
			return
		}
	}
	scope := strings.Fields(form.Get("scope"))
	if len(s.cfg.Scopes) > 0 {
		if len(scope) == 0 {
			oerr(http.StatusBadRequest, "invalid_scope", "a scope is required")
			return
		}
		for _, sc := range scope {
			if !slices.Contains(s.cfg.Scopes, sc) {
				oerr(http.StatusBadRequest, "invalid_scope", "scope not allowed: "+sc)
				return
			}
		}
	}
	writeJSON(w, http.StatusOK, s.issueToken(scope))
}

// issueToken mints an access token, drops expired ones, and returns the
// RFC 6749 §5.1 response.
func (s *Server) issueToken(scope []string) map[string]any {
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.cfg.Now()
	s.mu.Lock()
	for t, exp := range s.tokens {
		if exp <= now.UnixNano() {
			delete(s.tokens, t)
		}
	}
	s.tokens[tok] = now.Add(s.cfg.TokenTTL).UnixNano()
	s.mu.Unlock()
	s.tokensIssued.Add(1)
	resp := map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int64(s.cfg.TokenTTL / time.Second),
	}
	if len(scope) > 0 {
		resp["scope"] = strings.Join(scope, " ")
	}
	return resp
}

// readTokenForm reads a form or JSON token request body; on failure it
// returns the status and an error_description. An oversize body is refused
// whole with 413 (RFC 9110 §15.5.14, RFC 6749 error invalid_request) rather
// than cut: a truncated form could still parse and authenticate, hiding a
// client that sends junk after its credentials.
func readTokenForm(r *http.Request) (url.Values, int, string) {
	tooLarge := fmt.Sprintf("token request body larger than %d bytes", maxTokenBody)
	if r.ContentLength > maxTokenBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBody+1))
	if err != nil {
		return nil, http.StatusBadRequest, "cannot read body"
	}
	if len(body) > maxTokenBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, http.StatusBadRequest, "malformed form body"
		}
		return form, 0, ""
	case "application/json":
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, http.StatusBadRequest, "malformed JSON body"
		}
		form := url.Values{}
		for k, v := range m {
			if str, ok := v.(string); ok {
				form.Set(k, str)
				continue
			}
			b, _ := json.Marshal(v)
			form.Set(k, string(b))
		}
		return form, 0, ""
	}
	return nil, http.StatusBadRequest, "Content-Type must be application/x-www-form-urlencoded (or application/json)"
}

func quoteOrEmpty(s string) string {
	if s == "" {
		return "nothing"
	}
	return `"` + s + `"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// writeError writes {"error": code, "message": msg}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}
