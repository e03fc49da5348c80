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
	*renewing[string]
	loginCreds
	tokenURL   *url.URL
	method     string
	userToken  string
	utPrepend  string
	inHeader   bool
	jsonBody   bool
	path       *jsonpath.Path
	fromHeader bool
	headerName string
	identifier string
	prepend    string // "Bearer", or "" with NoAccessTokenPrepend
	apiHeader  string
	query      []definition.Param
	headers    []definition.Param
}

func newJwtToken(def definition.Auth, s Settings) (Authenticator, error) {
	f := def.Fields
	a := &jwtTokenAuth{renewing: newRenewing[string](s)}
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
	if err := a.readCredentials(f, s.Credentials); err != nil {
		return nil, err
	}
	a.inHeader = boolAny(f, "IsCredentialsInHeaders", "IsClientSecretInHeader")
	a.jsonBody = boolAny(f, "IsJsonRequest", "IsTokenEndpointPostPayloadJson")
	if p := strings.TrimSpace(f.String("JwtTokenJsonPath")); p != "" {
		if a.path, err = jsonpath.Compile(p); err != nil {
			return nil, fmt.Errorf("%s.JwtTokenJsonPath: %w", f.Path(), err)
		}
	}
	a.fromHeader = f.Bool("JwtTokenInResponseHeader")
	a.headerName = trimmedOr(f, "JwtTokenHeaderName", "Authorization")
	a.identifier = strings.TrimSpace(f.String("JwtTokenIdentifier"))
	a.prepend = "Bearer"
	if f.Bool("NoAccessTokenPrepend") {
		a.prepend = ""
	}
	a.apiHeader = trimmedOr(f, "ApiKeyName", "Authorization")
	a.query = f.Params("QueryParameters", "TokenEndpointQueryParameters")
	a.headers = f.Params("Headers")
	if _, err := resolvedParams(f, a.query, a.headers); err != nil {
		return nil, err
	}
	a.timeout = timeoutSeconds(f, 100, 180)
	return a, nil
}

// readCredentials reads the pre-issued UserToken or, without one, the user name and password.
func (a *jwtTokenAuth) readCredentials(f *definition.Fields, c Credentials) error {
	var err error
	if a.userToken, err = field(f, c.UserToken, "UserToken"); err != nil {
		return err
	}
	a.utPrepend = f.String("UserTokenPrepend")
	if a.userToken == "" {
		if a.loginCreds, err = readLogin(f, c); err != nil {
			return err
		}
		if a.user == "" || a.pass == "" {
			return errors.New("JwtToken needs userName and password values, or a UserToken (or username/password/user_token in the receiver config)")
		}
	} else {
		f.Has("userName", "password") // the user-token variant ignores them
	}
	a.sec.add(a.pass, a.userToken, base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.pass)))
	return nil
}

func (a *jwtTokenAuth) Apply(ctx context.Context, req *http.Request) error {
	tok, err := a.cache.get(ctx, a.login)
	if err != nil {
		return a.sec.scrub(err)
	}
	setToken(req.Header, a.apiHeader, a.prepend, tok)
	return nil
}

// login calls the token endpoint and returns the token and when to log in again.
func (a *jwtTokenAuth) login(ctx context.Context) (string, time.Time, error) {
	c, err := a.loginCall()
	if err != nil {
		return "", time.Time{}, err
	}
	resp, err := a.send(ctx, c)
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
	at := a.renewal(tok, resp.body)
	a.s.Logger.Debug("JwtToken obtained", zap.String("token_endpoint", safeURL(a.tokenURL, "")), zap.Time("renew_at", at))
	return tok, at, nil
}

// loginCall is the token request: the user token or Basic credentials in Authorization, or the
// user name and password in the body (in the query on GET, which has no body).
func (a *jwtTokenAuth) loginCall() (endpointCall, error) {
	c := endpointCall{request: "JwtToken login request", endpoint: "JwtToken endpoint", method: a.method, headers: a.headers}
	u := *a.tokenURL
	q := u.Query()
	for _, p := range a.query {
		q.Set(p.Name, p.ValueString())
	}
	switch {
	case a.userToken != "":
		c.authz = strings.TrimSpace(a.utPrepend + " " + a.userToken)
	case a.inHeader:
		c.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.pass))
	case a.method == http.MethodGet:
		q.Set(a.userKey, a.user)
		q.Set(a.passKey, a.pass)
	default:
		var b bodyParams
		a.setBody(&b)
		var err error
		if c.body, c.ctype, err = b.encode(a.jsonBody); err != nil {
			return c, err
		}
	}
	u.RawQuery = q.Encode()
	c.url = &u
	return c, nil
}

// renewal is when to log in again: before the token's exp, else before expires_in of the
// answer, else after jwtReloginInterval.
func (a *jwtTokenAuth) renewal(tok string, body []byte) time.Time {
	now := a.s.Now()
	if exp, ok := jwtExpiry(tok); ok {
		if !exp.After(now) {
			return now // already expired (clock skew): use once, log in again next time
		}
		return renewAt(now, exp.Sub(now))
	}
	if d := expiresIn(gjson.GetBytes(body, "expires_in")); d > 0 {
		return renewAt(now, d)
	}
	return now.Add(jwtReloginInterval)
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
			if tok == "" {
				tok = firstString(r, "token", "access_token", "accessToken", "jwt", "data.token")
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
