package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

// The user-driven OAuth2 grants: authorization_code (exchange a supplied code once, then
// refresh tokens, rotated and persisted), password (Salesforce picks it through GrantType) and
// the legacy JWT bearer grant (RFC 7523, RS256 with JwtPem).
func init() {
	oauth2Flows[grantAuthorizationCode] = newCodeFlow
	oauth2Flows[grantPassword] = newPasswordFlow
	oauth2Flows[grantJWTBearer] = newJWTBearerFlow
}

// ---- authorization_code + refresh_token ----

// codeFlow exchanges the configured authorization code once and then uses refresh tokens.
// Outside Azure there is no consent page: the operator supplies a code (exchanged on first use)
// or a refresh token. Rotated refresh tokens are persisted in Settings.State, keyed by token
// endpoint and client, together with a fingerprint of the operator-supplied code/refresh token,
// so a restart resumes with the latest refresh token while a newly supplied code or refresh
// token replaces the stored one.
type codeFlow struct {
	a        *oauth2Auth
	state    StateStore
	log      *zap.Logger
	key      string
	seed     string
	code     string
	redirect string

	mu       sync.Mutex
	loaded   bool
	refresh  string
	codeUsed bool
	lastCode bool // the pending call exchanges the code
}

type codeState struct {
	Seed         string `json:"seed"`
	RefreshToken string `json:"refresh_token,omitempty"`
	CodeUsed     bool   `json:"code_used,omitempty"`
}

func newCodeFlow(a *oauth2Auth, f *definition.Fields, s Settings) (tokenFlow, error) {
	c := &codeFlow{a: a, state: s.State, log: s.Logger}
	if err := readFields(f,
		fieldRead{&c.code, s.Credentials.AuthorizationCode, []string{"AuthorizationCode"}},
		fieldRead{&c.refresh, s.Credentials.RefreshToken, []string{"RefreshToken"}},
		fieldRead{&c.redirect, "", []string{"RedirectUri", "RedirectionEndpoint"}}); err != nil {
		return nil, err
	}
	if c.code == "" && c.refresh == "" {
		return nil, errors.New("authorization_code needs an AuthorizationCode to exchange once or a RefreshToken " +
			"(there is no consent page outside Azure: supply authorization_code or refresh_token in the receiver config)")
	}
	a.sec.add(c.code, c.refresh)
	sum := sha256.Sum256([]byte(a.tokenURL.String() + "\x00" + a.clientID))
	c.key = "oauth2.refresh." + hex.EncodeToString(sum[:8])
	seed := sha256.Sum256([]byte(c.code + "\x00" + c.refresh))
	c.seed = hex.EncodeToString(seed[:])
	return c, nil
}

func (c *codeFlow) clientAuth() bool { return true }

// load reads the persisted refresh token once.
func (c *codeFlow) load(ctx context.Context) {
	if c.loaded || c.state == nil {
		c.loaded = true
		return
	}
	b, err := c.state.Get(ctx, c.key)
	if err != nil {
		c.log.Warn("Reading the stored OAuth2 refresh token failed; using the configured values", zap.Error(err))
		return // try again next time
	}
	c.loaded = true
	if len(b) == 0 {
		return
	}
	var st codeState
	if err := json.Unmarshal(b, &st); err != nil {
		c.log.Warn("Stored OAuth2 refresh state is corrupt; using the configured values")
		return
	}
	if st.Seed != c.seed {
		c.log.Info("Configured authorization code or refresh token changed; the stored refresh token is not used")
		return
	}
	if st.RefreshToken != "" {
		c.refresh = st.RefreshToken
		c.a.sec.add(st.RefreshToken)
	}
	c.codeUsed = st.CodeUsed
}

func (c *codeFlow) params(ctx context.Context, b *bodyParams) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.load(ctx)
	c.lastCode = false
	switch {
	case c.refresh != "":
		b.set("grant_type", "refresh_token")
		b.set("refresh_token", c.refresh)
	case c.code != "" && !c.codeUsed:
		c.lastCode = true
		b.set("grant_type", grantAuthorizationCode)
		b.set("code", c.code)
		if c.redirect != "" {
			b.set("redirect_uri", c.redirect)
		}
	default:
		return errors.New("OAuth2 authorization code was already exchanged and no refresh token was issued; " +
			"supply a new authorization_code or a refresh_token")
	}
	return nil
}

func (c *codeFlow) accepted(ctx context.Context, t *tokenAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := false
	if c.lastCode {
		c.codeUsed, changed = true, true
		if t.refresh == "" {
			c.log.Warn("The token endpoint issued no refresh token for the authorization code; " +
				"polling stops working when the access token expires (request offline access in the scope)")
		}
	}
	if t.refresh != "" && t.refresh != c.refresh {
		c.refresh, changed = t.refresh, true
	}
	if !changed || c.state == nil {
		return
	}
	b, _ := json.Marshal(codeState{Seed: c.seed, RefreshToken: c.refresh, CodeUsed: c.codeUsed})
	if err := c.state.Set(ctx, c.key, b); err != nil {
		c.log.Warn("Persisting the rotated OAuth2 refresh token failed; a restart will need a new one", zap.Error(err))
	}
}

// ---- password ----

type passwordFlow struct{ user, pass string }

func newPasswordFlow(a *oauth2Auth, f *definition.Fields, s Settings) (tokenFlow, error) {
	var user, pass string
	if err := readFields(f,
		fieldRead{&user, s.Credentials.Username, []string{"UserName", "Username"}},
		fieldRead{&pass, s.Credentials.Password, []string{"Password"}}); err != nil {
		return nil, err
	}
	if user == "" || pass == "" {
		return nil, errors.New("GrantType password needs UserName and Password (or username/password in the receiver config)")
	}
	a.sec.add(pass)
	return &passwordFlow{user: user, pass: pass}, nil
}

func (p *passwordFlow) params(_ context.Context, b *bodyParams) error {
	b.set("grant_type", grantPassword)
	b.set("username", p.user)
	b.set("password", p.pass)
	return nil
}
func (p *passwordFlow) accepted(context.Context, *tokenAnswer) {}
func (p *passwordFlow) clientAuth() bool                       { return true }

// ---- JWT bearer (RFC 7523) ----

// jwtAssertionLifetime: Salesforce accepts at most 3 minutes, Google at most an hour.
const jwtAssertionLifetime = 3 * time.Minute

type jwtBearerFlow struct {
	a      *oauth2Auth
	header map[string]any
	claims map[string]any
	key    *rsa.PrivateKey
	now    func() time.Time
}

func newJWTBearerFlow(a *oauth2Auth, f *definition.Fields, s Settings) (tokenFlow, error) {
	j := &jwtBearerFlow{a: a, now: s.Now, header: map[string]any{"alg": "RS256", "typ": "JWT"}}
	if h, err := jsonObjectField(f, "JwtHeaderInJson"); err != nil {
		return nil, err
	} else if h != nil {
		if alg, _ := h["alg"].(string); alg != "" && alg != "RS256" {
			return nil, fmt.Errorf("%s.JwtHeaderInJson: alg %q is not supported (RS256 only)", f.Path(), alg)
		}
		h["alg"] = "RS256"
		j.header = h
	}
	c, err := jsonObjectField(f, "JwtClaimsInJson")
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("%s.JwtClaimsInJson: missing; the JWT bearer grant needs the assertion's claims (iss, sub, aud)", f.Path())
	}
	j.claims = c
	pemText, err := field(f, "", "JwtPem")
	if err != nil {
		return nil, err
	}
	if pemText == "" {
		return nil, fmt.Errorf("%s.JwtPem: missing; the JWT bearer grant needs the RSA private key (PEM)", f.Path())
	}
	a.sec.add(pemText)
	if j.key, err = parseRSAKey(pemText); err != nil {
		return nil, fmt.Errorf("%s.JwtPem: %w", f.Path(), err)
	}
	return j, nil
}

// jsonObjectField reads a field holding a JSON object, as a string or as an object.
func jsonObjectField(f *definition.Fields, name string) (map[string]any, error) {
	v, ok := f.Raw(name)
	if !ok {
		return nil, nil
	}
	switch t := v.(type) {
	case map[string]any:
		return t, nil
	case string:
		if strings.TrimSpace(t) == "" {
			return nil, nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(t), &m); err != nil {
			return nil, fmt.Errorf("%s.%s: not a JSON object: %v", f.Path(), name, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s.%s: expected a JSON object", f.Path(), name)
}

// parseRSAKey accepts PKCS#1 and PKCS#8 PEM, with real or escaped (\r\n, \n) line breaks.
func parseRSAKey(s string) (*rsa.PrivateKey, error) {
	if !strings.Contains(s, "\n") {
		s = strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", `\r`, "\n").Replace(s)
	}
	blk, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if blk == nil {
		return nil, errors.New("no PEM block found")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, errors.New("not an RSA private key in PKCS#1 or PKCS#8 form")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("the private key is not RSA")
	}
	return rk, nil
}

func (j *jwtBearerFlow) params(_ context.Context, b *bodyParams) error {
	tok, err := j.assertion()
	if err != nil {
		return err
	}
	b.set("grant_type", grantJWTBearer)
	b.set("assertion", tok)
	return nil
}

// assertion signs the claims with fresh iat/exp (a static exp in the definition would expire).
func (j *jwtBearerFlow) assertion() (string, error) {
	now := j.now()
	claims := make(map[string]any, len(j.claims)+2)
	for k, v := range j.claims {
		claims[k] = v
	}
	claims["iat"] = now.Unix()
	if exp, ok := claims["exp"].(float64); !ok || int64(exp) <= now.Unix() {
		claims["exp"] = now.Add(jwtAssertionLifetime).Unix()
	}
	return signRS256(j.key, j.header, claims)
}

func signRS256(key *rsa.PrivateKey, header, claims map[string]any) (string, error) {
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(cb)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing the JWT assertion: %w", err)
	}
	return input + "." + enc.EncodeToString(sig), nil
}

func (j *jwtBearerFlow) accepted(context.Context, *tokenAnswer) {}

// clientAuth: RFC 7523 needs no client authentication; send the client credentials only when
// the definition has them.
func (j *jwtBearerFlow) clientAuth() bool { return j.a.secret != "" }
