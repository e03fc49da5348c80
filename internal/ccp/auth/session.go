package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/jsonpath"
)

func init() { Register("Session", newSession) }

// sessionAuth logs in at SessionLoginRequestUri and sends the session id on API calls as a
// header named SessionIdName (§3.5). The id is read from the login answer's header of that
// name, else its cookie of that name (then also sent back as a cookie), else a body field
// (SessionIdName, or a JSONPath when it starts with "$"). Headers go on both calls.
type sessionAuth struct {
	s        Settings
	sec      secrets
	loginURL *url.URL
	userKey  string
	user     string
	passKey  string
	pass     string
	params   []definition.Param
	jsonBody bool
	headers  []definition.Param
	idName   string
	lifetime time.Duration // SessionTimeoutInMinutes; 0: until the API answers 401
	timeout  time.Duration
	sessions *cache[session]
}

type session struct {
	id      string         // sent as header idName (empty when only cookies are known)
	cookies []*http.Cookie // sent back as cookies
}

func newSession(def definition.Auth, s Settings) (Authenticator, error) {
	f := def.Fields
	a := &sessionAuth{s: s, sessions: newCache[session](s.Now)}
	var err error
	if a.loginURL, err = endpointURL(f, "SessionLoginRequestUri", "SessionLoginRequestUrl", "TokenEndpoint"); err != nil {
		return nil, err
	}
	if a.userKey, a.user, err = kv(f, "userName", "Username", "username", s.Credentials.Username); err != nil {
		return nil, err
	}
	if a.passKey, a.pass, err = kv(f, "password", "Password", "password", s.Credentials.Password); err != nil {
		return nil, err
	}
	if a.user == "" || a.pass == "" {
		return nil, errors.New("Session needs userName and password values (or username/password in the receiver config)")
	}
	a.sec.add(a.pass)
	a.params = f.Params("QueryParameters")
	a.jsonBody = f.Bool("IsPostPayloadJson")
	a.headers = f.Params("Headers")
	for _, p := range append(append([]definition.Param(nil), a.params...), a.headers...) {
		if unresolved(p.ValueString()) {
			return nil, fmt.Errorf("%s: %q still holds a placeholder or ARM expression; supply its value under parameters", f.Path(), p.Name)
		}
	}
	a.idName = strings.TrimSpace(f.String("SessionIdName"))
	if m, ok := f.Float("SessionTimeoutInMinutes"); ok && m > 0 {
		a.lifetime = time.Duration(m * float64(time.Minute))
	}
	a.timeout = timeoutSeconds(f, 100, 180)
	return a, nil
}

func (a *sessionAuth) Apply(ctx context.Context, req *http.Request) error {
	sess, err := a.sessions.get(ctx, a.login)
	if err != nil {
		return a.sec.scrub(err)
	}
	setHeaders(req.Header, a.headers)
	if sess.id != "" {
		req.Header.Set(a.idName, sess.id)
	}
	for _, c := range sess.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return nil
}

func (a *sessionAuth) Invalidate() { a.sessions.invalidate() }

func (a *sessionAuth) Scrub(s string) string { return a.sec.clean(s) }

func (a *sessionAuth) login(ctx context.Context) (session, time.Time, error) {
	var b bodyParams
	b.set(a.userKey, a.user)
	b.set(a.passKey, a.pass)
	for _, p := range a.params {
		b.setDefault(p.Name, p.Value)
	}
	body, ctype, err := b.encode(a.jsonBody)
	if err != nil {
		return session{}, time.Time{}, err
	}
	req, err := newEndpointRequest(http.MethodPost, a.loginURL, body, ctype)
	if err != nil {
		return session{}, time.Time{}, fmt.Errorf("Session login request: %w", err)
	}
	setHeaders(req.Header, a.headers)
	cctx, cancel := withTimeout(ctx, a.timeout)
	defer cancel()
	resp, err := call(cctx, a.s.HTTPClient, req, "Session login endpoint", &a.sec)
	if err != nil {
		return session{}, time.Time{}, err
	}
	var sess session
	if a.idName != "" {
		sess.id = strings.TrimSpace(resp.header.Get(a.idName))
		if sess.id == "" {
			for _, c := range resp.cookies {
				if strings.EqualFold(c.Name, a.idName) && c.Value != "" {
					sess.id = c.Value
					sess.cookies = []*http.Cookie{c}
				}
			}
		}
		if sess.id == "" {
			sess.id = bodyField(resp.body, a.idName)
		}
		if sess.id == "" {
			return session{}, time.Time{}, fmt.Errorf("Session login endpoint %s: no session id %q in the answer's headers, cookies or body",
				safeURL(a.loginURL, ""), a.idName)
		}
	} else {
		sess.cookies = resp.cookies
		if len(sess.cookies) == 0 {
			return session{}, time.Time{}, fmt.Errorf("Session login endpoint %s: the answer set no cookie and SessionIdName is not configured",
				safeURL(a.loginURL, ""))
		}
	}
	a.sec.add(sess.id)
	for _, c := range sess.cookies {
		a.sec.add(c.Value)
	}
	now := a.s.Now()
	at := renewAt(now, a.lifetime)
	a.s.Logger.Debug("Session established", zap.String("login_endpoint", safeURL(a.loginURL, "")), zap.Time("renew_at", at))
	return sess, at, nil
}

// bodyField reads a session id from a JSON body: a JSONPath when name starts with "$", else a
// top-level field of that name.
func bodyField(body []byte, name string) string {
	if strings.HasPrefix(name, "$") {
		if p, err := jsonpath.Compile(name); err == nil {
			v, _ := p.Scalar(body)
			return strings.TrimSpace(v)
		}
		return ""
	}
	if !gjson.ValidBytes(body) {
		return ""
	}
	r := gjson.GetBytes(body, escapeGJSON(name))
	if r.Type == gjson.String || r.Type == gjson.Number {
		return strings.TrimSpace(r.String())
	}
	return ""
}
