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
	*renewing[session]
	loginCreds
	loginURL *url.URL
	params   []definition.Param
	jsonBody bool
	headers  []definition.Param
	idName   string
	lifetime time.Duration // SessionTimeoutInMinutes; 0: until the API answers 401
}

type session struct {
	id      string         // sent as header idName (empty when only cookies are known)
	cookies []*http.Cookie // sent back as cookies
}

func newSession(def definition.Auth, s Settings) (Authenticator, error) {
	f := def.Fields
	a := &sessionAuth{renewing: newRenewing[session](s)}
	var err error
	if a.loginURL, err = endpointURL(f, "SessionLoginRequestUri", "SessionLoginRequestUrl", "TokenEndpoint"); err != nil {
		return nil, err
	}
	if a.loginCreds, err = readLogin(f, s.Credentials); err != nil {
		return nil, err
	}
	if a.user == "" || a.pass == "" {
		return nil, errors.New("Session needs userName and password values (or username/password in the receiver config)")
	}
	a.sec.add(a.pass)
	a.params = f.Params("QueryParameters")
	a.jsonBody = f.Bool("IsPostPayloadJson")
	a.headers = f.Params("Headers")
	if _, err := resolvedParams(f, a.params, a.headers); err != nil {
		return nil, err
	}
	a.idName = strings.TrimSpace(f.String("SessionIdName"))
	if m, ok := f.Float("SessionTimeoutInMinutes"); ok && m > 0 {
		a.lifetime = time.Duration(m * float64(time.Minute))
	}
	a.timeout = timeoutSeconds(f, 100, 180)
	return a, nil
}

func (a *sessionAuth) Apply(ctx context.Context, req *http.Request) error {
	sess, err := a.cache.get(ctx, a.login)
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

func (a *sessionAuth) login(ctx context.Context) (session, time.Time, error) {
	var b bodyParams
	a.setBody(&b)
	for _, p := range a.params {
		b.setDefault(p.Name, p.Value)
	}
	body, ctype, err := b.encode(a.jsonBody)
	if err != nil {
		return session{}, time.Time{}, err
	}
	resp, err := a.send(ctx, endpointCall{request: "Session login request", endpoint: "Session login endpoint",
		method: http.MethodPost, url: a.loginURL, body: body, ctype: ctype, headers: a.headers})
	if err != nil {
		return session{}, time.Time{}, err
	}
	sess, err := a.sessionFrom(resp)
	if err != nil {
		return session{}, time.Time{}, err
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

// sessionFrom reads the session from the login answer: the id from its header, cookie or body
// field named idName, or, without idName, every cookie it set.
func (a *sessionAuth) sessionFrom(resp *endpointResponse) (session, error) {
	var sess session
	if a.idName == "" {
		sess.cookies = resp.cookies
		if len(sess.cookies) == 0 {
			return session{}, fmt.Errorf("Session login endpoint %s: the answer set no cookie and SessionIdName is not configured",
				safeURL(a.loginURL, ""))
		}
		return sess, nil
	}
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
		return session{}, fmt.Errorf("Session login endpoint %s: no session id %q in the answer's headers, cookies or body",
			safeURL(a.loginURL, ""), a.idName)
	}
	return sess, nil
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
