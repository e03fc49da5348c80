package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

func init() {
	Register("OAuth2", newOAuth2)
	oauth2Flows[grantClientCredentials] = newClientCredentialsFlow
}

// Canonical grant names; FlowName spellings and the legacy IsJwtBearerFlow map onto them.
const (
	grantClientCredentials = "client_credentials"
	grantAuthorizationCode = "authorization_code"
	grantPassword          = "password"
	grantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// refreshMargin: a cached token is renewed this long before it expires (half its lifetime
// for very short-lived tokens).
const refreshMargin = 60 * time.Second

// tokenFlow is one OAuth2 grant. Each grant is its own file registering into oauth2Flows.
type tokenFlow interface {
	// params sets the grant's parameters of the next token call (grant_type, code, ...).
	params(ctx context.Context, b *bodyParams) error
	// accepted is told about a successful answer (refresh-token rotation).
	accepted(ctx context.Context, t *tokenAnswer)
	// clientAuth reports whether client_id/client_secret must be sent.
	clientAuth() bool
}

type flowFactory func(c *oauth2Auth, f *definition.Fields, s Settings) (tokenFlow, error)

var oauth2Flows = map[string]flowFactory{}

// canonicalGrant maps GrantType / FlowName spellings to grant names.
func canonicalGrant(g string) string {
	k := strings.ToLower(strings.TrimSpace(g))
	switch strings.NewReplacer("_", "", "-", "", " ", "").Replace(k) {
	case "clientcredentials":
		return grantClientCredentials
	case "authorizationcode", "authcode", "code", "refreshtoken":
		return grantAuthorizationCode
	case "password", "resourceownerpassword", "resourceownerpasswordcredentials":
		return grantPassword
	case "jwtbearer", "jwt", "urn:ietf:params:oauth:granttype:jwtbearer":
		return grantJWTBearer
	}
	return k
}

// oauth2Auth fetches, caches and renews an access token and sends it as
// Authorization: <AccessTokenPrepend> <token> (§3.3).
type oauth2Auth struct {
	*renewing[string]
	grant    string
	tokenURL *url.URL
	clientID string
	secret   string
	scope    string
	headers  []definition.Param // TokenEndpointHeaders
	extra    []definition.Param // TokenEndpointQueryParameters: sent in the body
	inHeader bool               // isCredentialsInHeaders / IsClientSecretInHeader
	jsonBody bool               // IsTokenEndpointPostPayloadJson
	prepend  string
	flow     tokenFlow
}

func newOAuth2(def definition.Auth, s Settings) (Authenticator, error) {
	f := def.Fields
	a := &oauth2Auth{renewing: newRenewing[string](s)}
	var err error
	if a.tokenURL, err = endpointURL(f, "TokenEndpoint"); err != nil {
		return nil, err
	}
	if err := readFields(f,
		fieldRead{&a.clientID, s.Credentials.ClientID, []string{"ClientId"}},
		fieldRead{&a.secret, s.Credentials.ClientSecret, []string{"ClientSecret"}}); err != nil {
		return nil, err
	}
	a.sec.add(a.secret)
	a.scope = strings.TrimSpace(f.String("Scope"))
	a.headers = f.Params("TokenEndpointHeaders")
	a.extra = f.Params("TokenEndpointQueryParameters")
	params, err := resolvedParams(f, a.headers, a.extra)
	if err != nil {
		return nil, err
	}
	for _, p := range params {
		if strings.EqualFold(p.Name, "Authorization") {
			a.sec.add(p.ValueString(), strings.TrimSpace(strings.TrimPrefix(p.ValueString(), "Basic ")))
		}
	}
	a.inHeader = boolAny(f, "isCredentialsInHeaders", "IsClientSecretInHeader")
	a.sec.add(a.basicClientAuth())
	a.jsonBody = f.Bool("IsTokenEndpointPostPayloadJson")
	a.prepend = "Bearer"
	if p, ok := f.StringOK("AccessTokenPrepend"); ok {
		a.prepend = strings.TrimSpace(p)
	}
	a.timeout = timeoutSeconds(f, 180, 600)
	// Consent-flow fields are the portal's business; reading them marks them known.
	f.Has("AuthorizationEndpoint")
	f.Has("AuthorizationEndpointHeaders")
	f.Has("AuthorizationEndpointQueryParameters")
	f.Has("RefreshTokenExpirationDateTimeInUtc")
	f.Has("RefreshTokenLifetimeinSecAttributeName")
	f.Has("UserName") // used by the password grant only (Salesforce chooses the grant by parameter)
	f.Has("Password")
	if err := a.pickFlow(f, s); err != nil {
		return nil, err
	}
	if err := a.seedAccessToken(f); err != nil {
		return nil, err
	}
	return a, nil
}

// pickFlow sets the grant (GrantType or FlowName, IsJwtBearerFlow, else inferred) and builds
// its flow; a grant that sends client credentials needs both.
func (a *oauth2Auth) pickFlow(f *definition.Fields, s Settings) error {
	raw := f.String("GrantType", "FlowName")
	if unresolved(raw) {
		return fmt.Errorf("%s.GrantType still holds a placeholder or ARM expression; supply its value under parameters", f.Path())
	}
	a.grant = canonicalGrant(raw)
	switch {
	case f.Bool("IsJwtBearerFlow"):
		a.grant = grantJWTBearer
	case a.grant == "":
		a.grant = inferGrant(f, s)
	}
	mk, ok := oauth2Flows[a.grant]
	if !ok {
		names := make([]string, 0, len(oauth2Flows))
		for k := range oauth2Flows {
			names = append(names, k)
		}
		sort.Strings(names)
		return fmt.Errorf("GrantType %q is not supported (supported: %s)", raw, strings.Join(names, ", "))
	}
	var err error
	if a.flow, err = mk(a, f, s); err != nil {
		return err
	}
	if a.flow.clientAuth() && !hasHeader(a.headers, "Authorization") {
		if a.clientID == "" {
			return errors.New("ClientId is missing; set auth.ClientId or client_id in the receiver config")
		}
		if a.secret == "" {
			return errors.New("ClientSecret is missing; set auth.ClientSecret or client_secret in the receiver config")
		}
	}
	return nil
}

// inferGrant picks a grant when the definition names none.
func inferGrant(f *definition.Fields, s Settings) string {
	switch {
	case f.String("AuthorizationCode") != "" || f.String("RefreshToken") != "" ||
		s.Credentials.AuthorizationCode != "" || s.Credentials.RefreshToken != "":
		return grantAuthorizationCode
	case f.String("UserName", "Username") != "" && f.String("Password") != "":
		return grantPassword
	}
	return grantClientCredentials
}

// seedAccessToken uses a legacy pre-issued AccessToken until its expiry.
func (a *oauth2Auth) seedAccessToken(f *definition.Fields) error {
	tok := strings.TrimSpace(f.String("AccessToken"))
	if tok == "" || unresolved(tok) {
		return nil
	}
	a.sec.add(tok)
	exp := strings.TrimSpace(f.String("AccessTokenExpirationDateTimeInUtc"))
	if exp == "" {
		return nil // unknown lifetime: not trusted, fetch a fresh one
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "1/2/2006 3:04:05 PM"} {
		if t, err := time.Parse(layout, exp); err == nil {
			if t.After(a.s.Now()) {
				a.cache.set(tok, t.Add(-refreshMargin))
			}
			return nil
		}
	}
	return fmt.Errorf("%s.AccessTokenExpirationDateTimeInUtc: %q is not a date-time", f.Path(), exp)
}

func (a *oauth2Auth) Apply(ctx context.Context, req *http.Request) error {
	tok, err := a.get(ctx)
	if err != nil {
		return a.sec.scrub(err)
	}
	setToken(req.Header, "Authorization", a.prepend, tok)
	return nil
}

// get returns a valid token, fetching one (single-flight) when needed.
func (a *oauth2Auth) get(ctx context.Context) (string, error) {
	return a.cache.get(ctx, func(ctx context.Context) (string, time.Time, error) {
		ans, err := a.fetch(ctx)
		if err != nil {
			return "", time.Time{}, err
		}
		a.sec.add(ans.access, ans.refresh)
		a.flow.accepted(ctx, ans)
		a.s.Logger.Debug("OAuth2 access token obtained",
			zap.String("token_endpoint", safeURL(a.tokenURL, "")), zap.String("grant", a.grant),
			zap.Duration("expires_in", ans.expiresIn))
		return ans.access, renewAt(a.s.Now(), ans.expiresIn), nil
	})
}

// tokenAnswer is the useful part of a token endpoint's answer.
type tokenAnswer struct {
	access    string
	refresh   string
	expiresIn time.Duration // 0: not given
}

// fetch performs one token call for the configured grant.
func (a *oauth2Auth) fetch(ctx context.Context) (*tokenAnswer, error) {
	var b bodyParams
	if err := a.flow.params(ctx, &b); err != nil {
		return nil, err
	}
	userAuthz := hasHeader(a.headers, "Authorization")
	if a.flow.clientAuth() && !a.inHeader && !userAuthz {
		b.setDefault("client_id", a.clientID)
		if a.secret != "" {
			b.setDefault("client_secret", a.secret)
		}
	}
	if a.scope != "" {
		b.setDefault("scope", a.scope)
	}
	for _, p := range a.extra { // "query parameters" that real token endpoints expect in the body
		b.setDefault(p.Name, p.Value)
	}
	c := endpointCall{request: "OAuth2 token request", endpoint: "OAuth2 token endpoint",
		method: http.MethodPost, url: a.tokenURL, headers: a.headers} // a user-supplied Authorization wins
	var err error
	if c.body, c.ctype, err = b.encode(a.jsonBody); err != nil {
		return nil, err
	}
	if a.flow.clientAuth() && a.inHeader && !userAuthz {
		c.authz = "Basic " + a.basicClientAuth()
	}
	resp, err := a.send(ctx, c)
	if err != nil {
		return nil, err
	}
	return parseTokenAnswer(resp.body, safeURL(a.tokenURL, ""), &a.sec)
}

// basicClientAuth is the RFC 6749 §2.3.1 Basic credential: base64(urlenc(id):urlenc(secret)).
func (a *oauth2Auth) basicClientAuth() string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(a.clientID) + ":" + url.QueryEscape(a.secret)))
}

func parseTokenAnswer(body []byte, endpoint string, sec *secrets) (*tokenAnswer, error) {
	if !gjson.ValidBytes(body) {
		return nil, fmt.Errorf("OAuth2 token endpoint %s: answer is not JSON", endpoint)
	}
	r := gjson.ParseBytes(body)
	t := &tokenAnswer{}
	t.access = firstString(r, "access_token", "accessToken")
	if t.access == "" {
		return nil, fmt.Errorf("OAuth2 token endpoint %s: answer has no access_token%s", endpoint, errorFields(body, sec))
	}
	if v := r.Get("refresh_token"); v.Type == gjson.String {
		t.refresh = v.String()
	}
	t.expiresIn = expiresIn(r.Get("expires_in"))
	return t, nil
}

// clientCredentialsFlow is grant_type=client_credentials.
type clientCredentialsFlow struct{}

func newClientCredentialsFlow(*oauth2Auth, *definition.Fields, Settings) (tokenFlow, error) {
	return clientCredentialsFlow{}, nil
}

func (clientCredentialsFlow) params(_ context.Context, b *bodyParams) error {
	b.set("grant_type", grantClientCredentials)
	return nil
}
func (clientCredentialsFlow) accepted(context.Context, *tokenAnswer) {}
func (clientCredentialsFlow) clientAuth() bool                       { return true }
