package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/origin"
)

// maxTokenResponse caps what is read from a token/login endpoint.
const maxTokenResponse = 1 << 20

// maxRedirects bounds the redirects of one token/login call (all within its origin).
const maxRedirects = 10

// redacted replaces secrets in messages.
const redacted = "[REDACTED]"

// secrets is the set of secret strings one Authenticator knows. scrub removes them from errors.
type secrets struct {
	mu   sync.Mutex
	list []string
}

func (s *secrets) add(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range v {
		// Very short values ("a", "1") would redact ordinary words; they are not worth hiding
		// at the cost of unreadable messages, and real secrets are longer.
		if len(x) >= 4 {
			s.list = append(s.list, x)
			// Also the encoded forms in which an endpoint may echo it back.
			q := strconvQuote(x)
			for _, e := range []string{url.QueryEscape(x), url.PathEscape(x), q[1 : len(q)-1]} {
				if e != x {
					s.list = append(s.list, e)
				}
			}
		}
	}
	sort.Slice(s.list, func(i, j int) bool { return len(s.list[i]) > len(s.list[j]) })
}

func (s *secrets) clean(msg string) string {
	if s == nil {
		return msg
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.list {
		msg = strings.ReplaceAll(msg, x, redacted)
	}
	return msg
}

// scrub returns err with every known secret removed from its message. errors.Is/As still see
// the original chain (context.Canceled, DeadlineExceeded).
func (s *secrets) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	c := s.clean(msg)
	if c == msg {
		return err
	}
	return &scrubbedError{msg: c, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// unresolved reports whether a value still holds a placeholder or ARM expression that should
// have been resolved before the definition reached the auth layer.
func unresolved(v string) bool {
	t := strings.TrimSpace(v)
	if strings.Contains(t, "{{") && strings.Contains(t, "}}") {
		return true
	}
	return strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") && strings.Contains(t, "(")
}

// field reads a string field, falls back to a connect-time credential when it is empty, and
// refuses values that still hold placeholders. The error names the field, never the value.
func field(f *definition.Fields, fallback string, names ...string) (string, error) {
	v := f.String(names...)
	if strings.TrimSpace(v) == "" {
		v = fallback
	}
	if unresolved(v) {
		return "", fmt.Errorf("%s.%s still holds a placeholder or ARM expression; supply its value under parameters", f.Path(), names[0])
	}
	return v, nil
}

// boolAny is true when any of the aliases is true (Bool accepts "true"/"False" strings).
func boolAny(f *definition.Fields, names ...string) bool {
	any := false
	for _, n := range names {
		if f.Bool(n) { // read every alias so none is reported as unknown
			any = true
		}
	}
	return any
}

// kv reads a {key, value} object (JwtToken/Session userName and password) or its legacy
// spelling <Attr>AttributeName / <Attr>AttributeValue.
func kv(f *definition.Fields, obj, legacyPrefix, defaultKey, fallback string) (key, value string, err error) {
	if o := f.Object(obj); o != nil {
		key = o.String("key")
		value = o.String("value")
	} else if s, ok := f.StringOK(obj); ok {
		value = s // tolerate a plain string
	}
	if key == "" {
		key = f.String(legacyPrefix + "AttributeName")
	}
	if value == "" {
		value = f.String(legacyPrefix + "AttributeValue")
	}
	if key == "" {
		key = defaultKey
	}
	if strings.TrimSpace(value) == "" {
		value = fallback
	}
	if unresolved(value) {
		return "", "", fmt.Errorf("%s.%s.value still holds a placeholder or ARM expression; supply its value under parameters", f.Path(), obj)
	}
	return key, value, nil
}

// endpointURL validates a token/login URL.
func endpointURL(f *definition.Fields, names ...string) (*url.URL, error) {
	raw := strings.TrimSpace(f.String(names...))
	if raw == "" {
		return nil, fmt.Errorf("%s.%s: missing; set the token/login URL", f.Path(), names[0])
	}
	if unresolved(raw) {
		return nil, fmt.Errorf("%s.%s still holds a placeholder or ARM expression; supply its value under parameters", f.Path(), names[0])
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s.%s: %q is not an absolute http(s) URL", f.Path(), names[0], safeURL(u, raw))
	}
	return u, nil
}

// safeURL renders a URL without user info or query (either may carry credentials).
func safeURL(u *url.URL, fallback string) string {
	if u == nil {
		if i := strings.IndexAny(fallback, "?#"); i >= 0 {
			fallback = fallback[:i]
		}
		return fallback
	}
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	return c.String()
}

// timeoutSeconds reads RequestTimeoutInSeconds with a default and a ceiling.
func timeoutSeconds(f *definition.Fields, def, max int) time.Duration {
	n, ok := f.Int("RequestTimeoutInSeconds")
	if !ok || n <= 0 {
		n = def
	}
	if n > max {
		n = max
	}
	return time.Duration(n) * time.Second
}

// endpointResponse is a token/login answer, read up to maxTokenResponse.
type endpointResponse struct {
	status  int
	header  http.Header
	body    []byte
	cookies []*http.Cookie
}

// call sends one token/login request and reads a capped answer. A non-2xx status is an error
// carrying the status and the endpoint's error/error_description (or message) fields.
// Redirects are followed only within the endpoint's origin: a 307/308 replays the body (client
// secret, password, refresh token) and Go keeps custom headers on a redirect to another host.
// The guard goes on a copy, so the client shared with the receiver is never modified.
func call(ctx context.Context, client *http.Client, req *http.Request, what string, sec *secrets) (*endpointResponse, error) {
	guarded := *client
	guarded.CheckRedirect = origin.CheckRedirect(origin.Of(req.URL), maxRedirects)
	resp, err := guarded.Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, query included
		}
		return nil, fmt.Errorf("%s %s: %w", what, safeURL(req.URL, ""), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", what, safeURL(req.URL, ""), err)
	}
	if len(body) > maxTokenResponse {
		return nil, fmt.Errorf("%s %s: answer larger than %d bytes", what, safeURL(req.URL, ""), maxTokenResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%s %s answered %s%s", what, safeURL(req.URL, ""), resp.Status, errorFields(body, sec))
	}
	return &endpointResponse{status: resp.StatusCode, header: resp.Header, body: body, cookies: resp.Cookies()}, nil
}

// errorFields extracts the standard OAuth2 error fields (and common vendor variants) of an
// error answer, never the rest of the body, with secrets removed before quoting (an endpoint
// may echo the request).
func errorFields(body []byte, sec *secrets) string {
	if !gjson.ValidBytes(body) {
		return ""
	}
	r := gjson.ParseBytes(body)
	var parts []string
	for _, p := range []string{"error", "error_description", "message", "errorMessage", "error.message"} {
		v := r.Get(p)
		if v.Exists() && v.Type == gjson.String && v.String() != "" {
			s := sec.clean(v.String())
			if len(s) > 300 {
				s = s[:300] + "…"
			}
			parts = append(parts, p+"="+strconvQuote(s))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, " ")
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// encodeBody renders token/login parameters as a form or a JSON object (values keep their JSON
// types in JSON). order keeps the first-set order stable for readability; keys are unique.
type bodyParams struct {
	keys []string
	vals map[string]any
}

func (b *bodyParams) set(k string, v any) {
	if b.vals == nil {
		b.vals = map[string]any{}
	}
	if _, ok := b.vals[k]; !ok {
		b.keys = append(b.keys, k)
	}
	b.vals[k] = v
}

// setDefault sets k only when it is not set yet.
func (b *bodyParams) setDefault(k string, v any) {
	if _, ok := b.vals[k]; ok {
		return
	}
	b.set(k, v)
}

func (b *bodyParams) has(k string) bool { _, ok := b.vals[k]; return ok }

func (b *bodyParams) form() string {
	v := url.Values{}
	for _, k := range b.keys {
		v.Set(k, definition.Param{Name: k, Value: b.vals[k]}.ValueString())
	}
	return v.Encode()
}

func (b *bodyParams) json() ([]byte, error) {
	m := make(map[string]any, len(b.keys))
	for _, k := range b.keys {
		m[k] = b.vals[k]
	}
	return json.Marshal(m)
}

// encode returns the body and its content type.
func (b *bodyParams) encode(asJSON bool) ([]byte, string, error) {
	if asJSON {
		j, err := b.json()
		return j, "application/json", err
	}
	return []byte(b.form()), "application/x-www-form-urlencoded", nil
}

// newEndpointRequest builds a token/login request with a body (nil for none).
func newEndpointRequest(method string, u *url.URL, body []byte, contentType string) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u.String(), r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// setHeaders copies definition headers onto a request (they win over defaults).
func setHeaders(h http.Header, params []definition.Param) {
	for _, p := range params {
		h.Set(p.Name, p.ValueString())
	}
}

// hasHeader reports whether a definition header map carries name (case-insensitive).
func hasHeader(params []definition.Param, name string) bool {
	for _, p := range params {
		if strings.EqualFold(strings.TrimSpace(p.Name), name) {
			return true
		}
	}
	return false
}

// gate is a context-aware mutex: one token fetch at a time, waiting callers give up when their
// context ends.
type gate chan struct{}

func newGate() gate { return make(gate, 1) }

func (g gate) lock(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g gate) unlock() { <-g }

// withTimeout bounds a token call by the auth's own timeout as well as the caller's context.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// cache holds one credential (token, session) with its renewal time and fetches a new one
// single-flight: concurrent callers wait for the one fetch instead of each logging in.
type cache[T any] struct {
	g         gate
	now       func() time.Time
	mu        sync.Mutex
	val       T
	ok        bool
	refreshAt time.Time // zero: no known expiry, valid until invalidate
}

func newCache[T any](now func() time.Time) *cache[T] { return &cache[T]{g: newGate(), now: now} }

func (c *cache[T]) cached() (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && (c.refreshAt.IsZero() || c.now().Before(c.refreshAt)) {
		return c.val, true
	}
	var zero T
	return zero, false
}

// set stores a value valid until refreshAt (zero: until invalidate).
func (c *cache[T]) set(v T, refreshAt time.Time) {
	c.mu.Lock()
	c.val, c.ok, c.refreshAt = v, true, refreshAt
	c.mu.Unlock()
}

// get returns the cached value or runs fetch (once for all waiting callers).
func (c *cache[T]) get(ctx context.Context, fetch func(ctx context.Context) (T, time.Time, error)) (T, error) {
	if v, ok := c.cached(); ok {
		return v, nil
	}
	var zero T
	if err := c.g.lock(ctx); err != nil {
		return zero, err
	}
	defer c.g.unlock()
	if v, ok := c.cached(); ok { // fetched by another caller while this one waited
		return v, nil
	}
	v, at, err := fetch(ctx)
	if err != nil {
		return zero, err
	}
	c.set(v, at)
	return v, nil
}

func (c *cache[T]) invalidate() {
	c.mu.Lock()
	var zero T
	c.val, c.ok, c.refreshAt = zero, false, time.Time{}
	c.mu.Unlock()
}

// renewAt is when a credential issued at now with the given lifetime is renewed: refreshMargin
// before it expires, or halfway through very short lifetimes. lifetime <= 0 gives zero (no
// known expiry).
func renewAt(now time.Time, lifetime time.Duration) time.Time {
	if lifetime <= 0 {
		return time.Time{}
	}
	m := refreshMargin
	if lifetime < 2*m {
		m = lifetime / 2
	}
	return now.Add(lifetime - m)
}

// jwtExpiry returns the exp claim of a decodable JWT.
func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil || c.Exp == "" {
		return time.Time{}, false
	}
	f, err := c.Exp.Float64()
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

func escapeGJSON(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '.', '*', '?', '|', '#', '@', '!', '\\', '=', '<', '>', '%':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// requestBody returns the request's body bytes and leaves the body readable again, for
// signing types that hash the body.
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return b, nil
}
