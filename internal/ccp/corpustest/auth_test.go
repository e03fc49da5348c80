package corpustest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

// authShape is what the emulated API expects from a client of one auth type, read from the
// definition's auth object (and the connect-time credentials of legacy files) with the rules
// of spec §3, independently of the auth package.
type authShape struct {
	typ string

	// Basic, APIKey: the exact header every API request must carry
	header, value string
	// APIKey in the POST payload
	inBody       bool
	keyName, key string

	// OAuth2 and JwtToken: the login/token endpoint and the tokens it issued
	tokenURL *url.URL
	bearer   map[string]bool
	refresh  map[string]bool
	prepend  string // OAuth2 AccessTokenPrepend
	logins   int

	// OAuth2
	grant, clientID, secret, scope, userAuthz string
	inHeader, jsonToken                       bool
	extra                                     []definition.Param
	code, redirect, user, pass                string

	// JwtToken
	jwtMethod, userKey, passKey, userToken, utPrepend string
	jsonReq, fromHeader, noPrepend                    bool
	tokenPath                                         []step
	headerName, apiHeader                             string
	query                                             []definition.Param
}

func credOr(f *definition.Fields, cred string, names ...string) string {
	if v := strings.TrimSpace(f.String(names...)); v != "" {
		return v
	}
	return cred
}

func boolField(f *definition.Fields, names ...string) bool {
	for _, n := range names {
		if b, ok := f.BoolOK(n); ok && b {
			return true
		}
		if strings.EqualFold(strings.TrimSpace(f.String(n)), "true") {
			return true
		}
	}
	return false
}

// newAuthShape returns the expectations, or a reason the auth type is not emulated.
func newAuthShape(a definition.Auth, c auth.Credentials) (*authShape, string) {
	f := a.Fields
	if f == nil {
		f = definition.NewFields("auth", map[string]any{})
	}
	s := &authShape{typ: a.Type, bearer: map[string]bool{}, refresh: map[string]bool{}}
	switch a.Type {
	case "Basic":
		user := credOr(f, c.Username, "UserName", "Username", "User")
		pass := credOr(f, c.Password, "Password")
		s.header, s.value = "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	case "APIKey":
		key := credOr(f, c.APIKey, "ApiKey")
		name, nameOK := f.StringOK("ApiKeyName")
		ident, identOK := f.StringOK("ApiKeyIdentifier")
		name, ident = strings.TrimSpace(name), strings.TrimSpace(ident)
		s.keyName, s.key = name, key
		if boolField(f, "IsApiKeyInPostPayload") {
			s.inBody = true
			break
		}
		s.header = name
		if s.header == "" {
			s.header = "Authorization"
		}
		if !nameOK && !identOK {
			ident = "token" // S1's default, only when neither field is given (§3.2 rule 3)
		}
		s.value = key
		if ident != "" {
			s.value = ident + " " + key
		}
	case "OAuth2":
		u, err := url.Parse(strings.TrimSpace(f.String("TokenEndpoint")))
		if err != nil || u.Host == "" {
			return nil, fmt.Sprintf("OAuth2 TokenEndpoint %q is not an absolute URL", f.String("TokenEndpoint"))
		}
		s.tokenURL = u
		s.clientID = credOr(f, c.ClientID, "ClientId")
		s.secret = credOr(f, c.ClientSecret, "ClientSecret")
		s.scope = strings.TrimSpace(f.String("Scope"))
		for _, h := range f.Params("TokenEndpointHeaders") {
			if strings.EqualFold(h.Name, "Authorization") {
				s.userAuthz = h.ValueString()
			}
		}
		s.extra = f.Params("TokenEndpointQueryParameters")
		s.inHeader = boolField(f, "isCredentialsInHeaders", "IsClientSecretInHeader")
		s.jsonToken = boolField(f, "IsTokenEndpointPostPayloadJson")
		s.prepend = "Bearer"
		if p, ok := f.StringOK("AccessTokenPrepend"); ok {
			s.prepend = strings.TrimSpace(p)
		}
		s.code = credOr(f, c.AuthorizationCode, "AuthorizationCode")
		s.redirect = strings.TrimSpace(f.String("RedirectUri", "RedirectionEndpoint"))
		s.user = credOr(f, c.Username, "UserName", "Username")
		s.pass = credOr(f, c.Password, "Password")
		g := strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(f.String("GrantType", "FlowName")))
		switch g {
		case "clientcredentials", "":
			s.grant = "client_credentials"
			if g == "" && s.code != "" {
				s.grant = "authorization_code"
			}
		case "authorizationcode", "authcode", "code":
			s.grant = "authorization_code"
		case "password":
			s.grant = "password"
		default:
			return nil, fmt.Sprintf("OAuth2 grant %q is not emulated", f.String("GrantType", "FlowName"))
		}
		if boolField(f, "IsJwtBearerFlow") {
			return nil, "OAuth2 JWT-bearer grant is not emulated"
		}
	case "JwtToken":
		u, err := url.Parse(strings.TrimSpace(f.String("TokenEndpoint")))
		if err != nil || u.Host == "" {
			return nil, fmt.Sprintf("JwtToken TokenEndpoint %q is not an absolute URL", f.String("TokenEndpoint"))
		}
		s.tokenURL = u
		s.jwtMethod = strings.ToUpper(strings.TrimSpace(f.String("TokenEndpointHttpMethod")))
		if s.jwtMethod == "" {
			s.jwtMethod = http.MethodPost
		}
		s.userToken = credOr(f, c.UserToken, "UserToken")
		s.utPrepend = f.String("UserTokenPrepend")
		kv := func(obj, fallbackKey, cred string) (string, string) {
			o := f.Object(obj)
			if o == nil {
				return fallbackKey, credOr(f, cred, obj)
			}
			k := strings.TrimSpace(o.String("key"))
			if k == "" {
				k = fallbackKey
			}
			v := o.String("value")
			if v == "" {
				v = cred
			}
			return k, v
		}
		s.userKey, s.user = kv("userName", "username", c.Username)
		s.passKey, s.pass = kv("password", "password", c.Password)
		s.inHeader = boolField(f, "IsCredentialsInHeaders", "IsClientSecretInHeader")
		s.jsonReq = boolField(f, "IsJsonRequest", "IsTokenEndpointPostPayloadJson")
		if p := strings.TrimSpace(f.String("JwtTokenJsonPath")); p != "" {
			st, ok := parseSimple(p)
			if !ok || !names(st) || len(st) == 0 {
				return nil, fmt.Sprintf("JwtTokenJsonPath %q cannot be built", p)
			}
			s.tokenPath = st
		} else {
			s.tokenPath = []step{{name: "token"}}
		}
		s.fromHeader = boolField(f, "JwtTokenInResponseHeader")
		s.headerName = strings.TrimSpace(f.String("JwtTokenHeaderName"))
		if s.headerName == "" {
			s.headerName = "Authorization"
		}
		s.noPrepend = boolField(f, "NoAccessTokenPrepend")
		s.apiHeader = strings.TrimSpace(f.String("ApiKeyName"))
		if s.apiHeader == "" {
			s.apiHeader = "Authorization"
		}
		s.query = f.Params("QueryParameters", "TokenEndpointQueryParameters")
	case "CiscoDuo":
		s.key = credOr(f, c.APIKey, "APIKey", "IntegrationKey", "ikey")
		s.secret = credOr(f, c.ClientSecret, "ClientSecret", "SecretKey", "skey")
		if v, ok := f.Int("SignatureVersion", "SigVersion"); ok && v != 2 {
			return nil, "CiscoDuo signature v5 is not emulated"
		}
	case "None":
	default:
		return nil, fmt.Sprintf("auth type %s (request signing) is not emulated", a.Type)
	}
	return s, ""
}

// check says whether an API request carries valid credentials.
func (s *authShape) check(r *http.Request, body []byte) bool {
	switch s.typ {
	case "None":
		return true
	case "Basic":
		return r.Header.Get(s.header) == s.value
	case "APIKey":
		if s.inBody {
			return bodyValue(r, body, s.keyName) == s.key
		}
		return r.Header.Get(s.header) == s.value
	case "OAuth2":
		h := r.Header.Get("Authorization")
		if s.prepend != "" {
			if !strings.HasPrefix(h, s.prepend+" ") {
				return false
			}
			h = strings.TrimPrefix(h, s.prepend+" ")
		}
		return s.bearer[h]
	case "CiscoDuo":
		return s.duoSigned(r, body)
	case "JwtToken":
		h := r.Header.Get(s.apiHeader)
		if !s.noPrepend {
			if !strings.HasPrefix(h, "Bearer ") {
				return false
			}
			h = strings.TrimPrefix(h, "Bearer ")
		}
		return s.bearer[h]
	}
	return false
}

// bodyValue reads a top-level field of a JSON or form body.
func bodyValue(r *http.Request, body []byte, name string) string {
	if gjson.ValidBytes(body) {
		return gjson.GetBytes(body, sjsonPath([]step{{name: name}})).String()
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return v.Get(name)
}

// serveToken answers the token/login endpoint; it returns a problem or "".
func (s *authShape) serveToken(w http.ResponseWriter, r *http.Request, body []byte, mint func(string) string) string {
	switch s.typ {
	case "OAuth2":
		return s.oauth(w, r, body, mint)
	case "JwtToken":
		return s.jwt(w, r, body, mint)
	}
	return "token endpoint called for auth type " + s.typ
}

func basic(u, p string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
}

func (s *authShape) oauth(w http.ResponseWriter, r *http.Request, body []byte, mint func(string) string) string {
	if r.Method != http.MethodPost {
		return "OAuth2 token call with method " + r.Method
	}
	get := func(k string) string { return bodyValue(r, body, k) }
	if s.jsonToken != gjson.ValidBytes(body) {
		return fmt.Sprintf("OAuth2 token body JSON=%v, want JSON=%v", gjson.ValidBytes(body), s.jsonToken)
	}
	switch {
	case s.userAuthz != "":
		if r.Header.Get("Authorization") != s.userAuthz {
			return "OAuth2 token call without the configured TokenEndpointHeaders Authorization"
		}
	case s.inHeader:
		if r.Header.Get("Authorization") != basic(url.QueryEscape(s.clientID), url.QueryEscape(s.secret)) {
			return "OAuth2 token call without client credentials in a Basic header"
		}
		if get("client_secret") != "" {
			return "OAuth2 token call repeats client_secret in the body although isCredentialsInHeaders"
		}
	default:
		if get("client_id") != s.clientID || get("client_secret") != s.secret {
			return "OAuth2 token call without client_id/client_secret in the body"
		}
	}
	for _, p := range s.extra {
		if get(p.Name) != p.ValueString() {
			return fmt.Sprintf("OAuth2 token call lacks TokenEndpointQueryParameters %s=%q in the body", p.Name, p.ValueString())
		}
	}
	if s.scope != "" && get("scope") != s.scope {
		return fmt.Sprintf("OAuth2 token call scope %q, want %q", get("scope"), s.scope)
	}
	gt := get("grant_type")
	switch {
	case s.grant == "client_credentials" && gt == "client_credentials":
	case s.grant == "password" && gt == "password" && get("username") == s.user && get("password") == s.pass:
	case s.grant == "authorization_code" && gt == "authorization_code" && get("code") == s.code:
		if s.redirect != "" && get("redirect_uri") != s.redirect {
			return "OAuth2 code exchange without the configured redirect_uri"
		}
	case s.grant == "authorization_code" && gt == "refresh_token" && s.refresh[get("refresh_token")]:
	default:
		return fmt.Sprintf("OAuth2 token call with grant_type %q (want %s) or wrong grant values", gt, s.grant)
	}
	s.logins++
	tok := mint("at")
	s.bearer[tok] = true
	out := map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 3600}
	if s.grant == "authorization_code" {
		rt := mint("rt")
		s.refresh[rt] = true
		out["refresh_token"] = rt
	}
	writeJSON(w, out)
	return ""
}

func (s *authShape) jwt(w http.ResponseWriter, r *http.Request, body []byte, mint func(string) string) string {
	if r.Method != s.jwtMethod {
		return fmt.Sprintf("JwtToken login with method %s, want %s", r.Method, s.jwtMethod)
	}
	for _, p := range s.query {
		if r.URL.Query().Get(p.Name) != p.ValueString() {
			return fmt.Sprintf("JwtToken login lacks query parameter %s", p.Name)
		}
	}
	switch {
	case s.userToken != "":
		if r.Header.Get("Authorization") != strings.TrimSpace(s.utPrepend+" "+s.userToken) {
			return "JwtToken login without the user token"
		}
	case s.inHeader:
		if r.Header.Get("Authorization") != basic(s.user, s.pass) {
			return "JwtToken login without Basic credentials"
		}
	case r.Method == http.MethodGet:
		q := r.URL.Query()
		if q.Get(s.userKey) != s.user || q.Get(s.passKey) != s.pass {
			return "JwtToken GET login without credentials in the query"
		}
	default:
		if s.jsonReq != gjson.ValidBytes(body) {
			return fmt.Sprintf("JwtToken login body JSON=%v, want %v", gjson.ValidBytes(body), s.jsonReq)
		}
		if bodyValue(r, body, s.userKey) != s.user || bodyValue(r, body, s.passKey) != s.pass {
			return fmt.Sprintf("JwtToken login without %s/%s in the body", s.userKey, s.passKey)
		}
	}
	s.logins++
	tok := mint("jwt")
	s.bearer[tok] = true
	if s.fromHeader {
		w.Header().Set(s.headerName, tok)
		w.WriteHeader(http.StatusOK)
		return ""
	}
	doc, _ := sjson.SetBytes([]byte(`{"expires_in":3600}`), sjsonPath(s.tokenPath), tok)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
	return ""
}

// duoSigned checks a Duo Admin API v2 signature, as Duo documents it: HMAC-SHA1 keyed with the
// secret key over date, method, lower-case host, path and the sorted, RFC 3986-encoded
// parameters, sent as Basic ikey:hex(signature) next to the signed Date header.
func (s *authShape) duoSigned(r *http.Request, body []byte) bool {
	date := r.Header.Get("Date")
	if date == "" {
		return false
	}
	params := r.URL.Query()
	if len(body) > 0 {
		return false // the corpus Duo poller only GETs
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	enc := func(x string) string {
		return strings.ReplaceAll(strings.ReplaceAll(url.QueryEscape(x), "+", "%20"), "%7E", "~")
	}
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, enc(k)+"="+enc(v))
		}
	}
	canon := strings.Join([]string{date, strings.ToUpper(r.Method), strings.ToLower(hostOnly(r.Host)), r.URL.Path, strings.Join(parts, "&")}, "\n")
	// v2 is signed with HMAC-SHA512 by default, HMAC-SHA1 with SignatureAlgorithm HMAC-SHA1;
	// Duo accepts both.
	for _, h := range []func() hash.Hash{sha512.New, sha1.New} {
		m := hmac.New(h, []byte(s.secret))
		m.Write([]byte(canon))
		if r.Header.Get("Authorization") == basic(s.key, hex.EncodeToString(m.Sum(nil))) {
			return true
		}
	}
	return false
}
