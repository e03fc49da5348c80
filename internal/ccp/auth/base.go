package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

// Pieces the auth types share. A type embeds fixedAuth (a credential that never changes) or
// renewing (a token or session from a login call); the login types build their calls with
// endpointCall.

// fixedAuth is the part of Basic, APIKey and the signing types that is the same: the secrets
// they scrub, and nothing to invalidate after a 401.
type fixedAuth struct{ sec secrets }

func (a *fixedAuth) Invalidate() {}

func (a *fixedAuth) Scrub(s string) string { return a.sec.clean(s) }

// renewing is the part of OAuth2, JwtToken and Session that is the same: settings, the
// secrets they know (configured and obtained), the cached credential that a 401 drops, and
// the bound on each login call.
type renewing[T any] struct {
	s       Settings
	sec     secrets
	cache   *cache[T]
	timeout time.Duration
}

func newRenewing[T any](s Settings) *renewing[T] {
	return &renewing[T]{s: s, cache: newCache[T](s.Now)}
}

func (r *renewing[T]) Invalidate() { r.cache.invalidate() }

func (r *renewing[T]) Scrub(s string) string { return r.sec.clean(s) }

// send makes one login/token call bounded by the auth's timeout.
func (r *renewing[T]) send(ctx context.Context, c endpointCall) (*endpointResponse, error) {
	return c.do(ctx, r.s.HTTPClient, r.timeout, &r.sec)
}

// endpointCall is one token/login request.
type endpointCall struct {
	request  string // names the request in errors building it: "OAuth2 token request"
	endpoint string // names the endpoint in errors of the call: "OAuth2 token endpoint"
	method   string
	url      *url.URL
	body     []byte // nil: no body
	ctype    string
	authz    string             // Authorization set by the auth type ("" none)
	headers  []definition.Param // the definition's headers: set last, so they win over authz
}

// do builds the request and sends it (see call) within timeout as well as ctx.
func (c endpointCall) do(ctx context.Context, client *http.Client, timeout time.Duration, sec *secrets) (*endpointResponse, error) {
	req, err := newEndpointRequest(c.method, c.url, c.body, c.ctype)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.request, err)
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	setHeaders(req.Header, c.headers)
	cctx, cancel := withTimeout(ctx, timeout)
	defer cancel()
	return call(cctx, client, req, c.endpoint, sec)
}

// setToken sends an obtained token as header name: "<prefix> <token>", or the bare token when
// prefix is empty.
func setToken(h http.Header, name, prefix, tok string) {
	if prefix == "" {
		h.Set(name, tok)
		return
	}
	h.Set(name, prefix+" "+tok)
}

// resolvedParams joins the definition's header/parameter lists, refusing any value that still
// holds a placeholder or ARM expression (the error names the parameter, never the value).
func resolvedParams(f *definition.Fields, lists ...[]definition.Param) ([]definition.Param, error) {
	var all []definition.Param
	for _, l := range lists {
		all = append(all, l...)
	}
	for _, p := range all {
		if unresolved(p.ValueString()) {
			return nil, fmt.Errorf("%s: %q still holds a placeholder or ARM expression; supply its value under parameters", f.Path(), p.Name)
		}
	}
	return all, nil
}

// fieldRead is one credential field for readFields: where it goes, its receiver-config
// fallback and the names it goes by.
type fieldRead struct {
	into     *string
	fallback string
	names    []string
}

// readFields reads each field in turn with field; the first error stops.
func readFields(f *definition.Fields, reads ...fieldRead) error {
	for _, r := range reads {
		v, err := field(f, r.fallback, r.names...)
		if err != nil {
			return err
		}
		*r.into = v
	}
	return nil
}

// trimmedOr reads a string field, trimmed, or def when it is empty.
func trimmedOr(f *definition.Fields, name, def string) string {
	if v := strings.TrimSpace(f.String(name)); v != "" {
		return v
	}
	return def
}

// loginCreds are the {key, value} user name and password of a JwtToken or Session login.
type loginCreds struct {
	userKey, user string
	passKey, pass string
}

// readLogin reads userName and password (or their legacy spellings), falling back to the
// receiver config's username/password.
func readLogin(f *definition.Fields, c Credentials) (loginCreds, error) {
	var l loginCreds
	var err error
	if l.userKey, l.user, err = kv(f, "userName", "Username", "username", c.Username); err != nil {
		return l, err
	}
	if l.passKey, l.pass, err = kv(f, "password", "Password", "password", c.Password); err != nil {
		return l, err
	}
	return l, nil
}

// setBody puts the user name and password into a login body under their keys.
func (l loginCreds) setBody(b *bodyParams) {
	b.set(l.userKey, l.user)
	b.set(l.passKey, l.pass)
}

// firstString is the first non-empty string among the members keys (gjson paths) of a token
// answer, or "".
func firstString(r gjson.Result, keys ...string) string {
	for _, k := range keys {
		if v := r.Get(k); v.Type == gjson.String && v.String() != "" {
			return v.String()
		}
	}
	return ""
}

// expiresIn reads a token answer's expires_in (seconds, fractions allowed); 0 when it is
// absent or not positive.
func expiresIn(v gjson.Result) time.Duration {
	if n := v.Float(); v.Exists() && n > 0 {
		return time.Duration(n * float64(time.Second))
	}
	return 0
}

// bodyToSign is the request body a signing type hashes; the error names the type.
func bodyToSign(req *http.Request, authType string) ([]byte, error) {
	body, err := requestBody(req)
	if err != nil {
		return nil, fmt.Errorf("%s signing: reading the body: %w", authType, err)
	}
	return body, nil
}
