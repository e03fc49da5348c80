package auth

import (
	"context"
	"encoding/base64"
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

func init() { Register("JwtToken", newJwtToken) }

// jwtReloginInterval bounds how long a token without a decodable exp (and without expires_in)
// is used before logging in again (spec §3.4 recommendation).
const jwtReloginInterval = 30 * time.Minute

// jwtTokenAuth logs in at TokenEndpoint (credentials in the body or as Basic, or a pre-issued
// user token), extracts the token from the answer body or a header, and sends it as
// Authorization: Bearer <token> (§3.4).
type jwtTokenAuth struct {
	s          Settings
	sec        secrets
	tokenURL   *url.URL
	method     string
	userKey    string
	user       string
	passKey    string
	pass       string
	userToken  string
	utPrepend  string
	inHeader   bool
	jsonBody   bool
	path       *jsonpath.Path
	fromHeader bool
	headerName string
	identifier string
	noPrepend  bool
	apiHeader  string
	query      []definition.Param
	headers    []definition.Param
	timeout    time.Duration
	tokens     *cache[string]
}

func newJwtToken(def definition.Auth, s Settings) (Authenticator, error) {
	f := def.Fields
	a := &jwtTokenAuth{s: s, tokens: newCache[string](s.Now)}
	var err error
	if a.tokenURL, err = endpointURL(f, "TokenEndpoint"); err != nil {
		return nil, err
	}
	a.method = strings.ToUpper(strings.TrimSpace(f.String("TokenEndpointHttpMethod")))
	switch a.method {
	case "":
		a.method = http.MethodPost
	case http.MethodGet, http.MethodPost, http.MethodPut:
	default:
		return nil, fmt.Errorf("%s.TokenEndpointHttpMethod: %q must be GET or POST", f.Path(), a.method)
	}
	if a.userToken, err = field(f, s.Credentials.UserToken, "UserToken"); err != nil {
		return nil, err
	}
	a.utPrepend = f.String("UserTokenPrepend")
	if a.userToken == "" {
		if a.userKey, a.user, err = kv(f, "userName", "Username", "username", s.Credentials.Username); err != nil {
			return nil, err
		}
		if a.passKey, a.pass, err = kv(f, "password", "Password", "password", s.Credentials.Password); err != nil {
			return nil, err
		}
		if a.user == "" || a.pass == "" {
			return nil, errors.New("JwtToken needs userName and password values, or a UserToken (or username/password/user_token in the receiver config)")
		}
	} else {
		f.Has("userName", "password") // the user-token variant ignores them
	}
	a.sec.add(a.pass, a.userToken, base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.pass)))
	a.inHeader = boolAny(f, "IsCredentialsInHeaders", "IsClientSecretInHeader")
	a.jsonBody = boolAny(f, "IsJsonRequest", "IsTokenEndpointPostPayloadJson")
	if p := strings.TrimSpace(f.String("JwtTokenJsonPath")); p != "" {
		if a.path, err = jsonpath.Compile(p); err != nil {
			return nil, fmt.Errorf("%s.JwtTokenJsonPath: %w", f.Path(), err)
		}
	}
	a.fromHeader = f.Bool("JwtTokenInResponseHeader")
	a.headerName = strings.TrimSpace(f.String("JwtTokenHeaderName"))
	if a.headerName == "" {
		a.headerName = "Authorization"
	}
	a.identifier = strings.TrimSpace(f.String("JwtTokenIdentifier"))
	a.noPrepend = f.Bool("NoAccessTokenPrepend")
	a.apiHeader = strings.TrimSpace(f.String("ApiKeyName"))
	if a.apiHeader == "" {
		a.apiHeader = "Authorization"
	}
	a.query = f.Params("QueryParameters", "TokenEndpointQueryParameters")
	a.headers = f.Params("Headers")
	for _, p := range append(append([]definition.Param(nil), a.query...), a.headers...) {
		if unresolved(p.ValueString()) {
			return nil, fmt.Errorf("%s: %q still holds a placeholder or ARM expression; supply its value under parameters", f.Path(), p.Name)
		}
	}
	a.timeout = timeoutSeconds(f, 100, 180)
	return a, nil
}

func (a *jwtTokenAuth) Apply(ctx context.Context, req *http.Request) error {
	tok, err := a.tokens.get(ctx, a.login)
	if err != nil {
		return a.sec.scrub(err)
	}
	if a.noPrepend {
		req.Header.Set(a.apiHeader, tok)
	} else {
		req.Header.Set(a.apiHeader, "Bearer "+tok)
	}
	return nil
}

func (a *jwtTokenAuth) Invalidate() { a.tokens.invalidate() }

func (a *jwtTokenAuth) Scrub(s string) string { return a.sec.clean(s) }

// login calls the token endpoint and returns the token and when to log in again.
func (a *jwtTokenAuth) login(ctx context.Context) (string, time.Time, error) {
	u := *a.tokenURL
	q := u.Query()
	for _, p := range a.query {
		q.Set(p.Name, p.ValueString())
	}
	var body []byte
	var ctype string
	if a.userToken == "" && !a.inHeader {
		var b bodyParams
		b.set(a.userKey, a.user)
		b.set(a.passKey, a.pass)
		if a.method == http.MethodGet { // no body on GET: credentials go in the query
			q.Set(a.userKey, a.user)
			q.Set(a.passKey, a.pass)
		} else {
			var err error
			if body, ctype, err = b.encode(a.jsonBody); err != nil {
				return "", time.Time{}, err
			}
		}
	}
	u.RawQuery = q.Encode()
	req, err := newEndpointRequest(a.method, &u, body, ctype)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("JwtToken login request: %w", err)
	}
	switch {
	case a.userToken != "":
		req.Header.Set("Authorization", strings.TrimSpace(a.utPrepend+" "+a.userToken))
	case a.inHeader:
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.pass)))
	}
	setHeaders(req.Header, a.headers)
	cctx, cancel := withTimeout(ctx, a.timeout)
	defer cancel()
	resp, err := call(cctx, a.s.HTTPClient, req, "JwtToken endpoint", &a.sec)
	if err != nil {
		return "", time.Time{}, err
	}
	tok := a.extract(resp)
	if tok == "" {
		where := "JwtTokenJsonPath"
		if a.fromHeader {
			where = "response header " + a.headerName
		}
		return "", time.Time{}, fmt.Errorf("JwtToken endpoint %s: no token found (%s)", safeURL(a.tokenURL, ""), where)
	}
	a.sec.add(tok)
	now := a.s.Now()
	var at time.Time
	if exp, ok := jwtExpiry(tok); ok {
		at = renewAt(now, exp.Sub(now))
		if !exp.After(now) {
			at = now // already expired (clock skew): use once, log in again next time
		}
	} else if v := gjson.GetBytes(resp.body, "expires_in"); v.Exists() && v.Float() > 0 {
		at = renewAt(now, time.Duration(v.Float()*float64(time.Second)))
	} else {
		at = now.Add(jwtReloginInterval)
	}
	a.s.Logger.Debug("JwtToken obtained", zap.String("token_endpoint", safeURL(a.tokenURL, "")), zap.Time("renew_at", at))
	return tok, at, nil
}

// extract reads the token from the configured header or JSON path (or, without a path, the
// usual field names or a plain-text body), stripping JwtTokenIdentifier.
func (a *jwtTokenAuth) extract(resp *endpointResponse) string {
	var tok string
	switch {
	case a.fromHeader:
		tok = resp.header.Get(a.headerName)
	case a.path != nil:
		tok, _ = a.path.Scalar(resp.body)
	default:
		if gjson.ValidBytes(resp.body) {
			r := gjson.ParseBytes(resp.body)
			if r.Type == gjson.String {
				tok = r.String()
			}
			for _, k := range []string{"token", "access_token", "accessToken", "jwt", "data.token"} {
				if tok != "" {
					break
				}
				if v := r.Get(k); v.Type == gjson.String {
					tok = v.String()
				}
			}
		} else if s := strings.TrimSpace(string(resp.body)); s != "" && !strings.ContainsAny(s, " \n<") {
			tok = s
		}
	}
	tok = strings.TrimSpace(tok)
	for _, id := range []string{a.identifier, "Bearer"} {
		if id != "" && len(tok) > len(id) && strings.EqualFold(tok[:len(id)], id) && tok[len(id)] == ' ' {
			tok = strings.TrimSpace(tok[len(id):])
			break
		}
	}
	return tok
}
