package logsingestion

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t thumbprints are SHA-1 by definition (RS256 assertions)
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TokenSpec describes a token minted directly with MintToken (for negative tests).
type TokenSpec struct {
	Audience  string        // default: the emulator's audience
	Principal string        // default: Options.ClientID
	User      bool          // mint a user (delegated) token, which the service refuses
	TTL       time.Duration // default Options.TokenTTL; negative: already expired
}

type tokenClaims struct {
	Aud   string `json:"aud"`
	Iss   string `json:"iss"`
	Tid   string `json:"tid"`
	AppID string `json:"appid"`
	Azp   string `json:"azp"`
	Oid   string `json:"oid"`
	IDTyp string `json:"idtyp"`
	Iat   int64  `json:"iat"`
	Nbf   int64  `json:"nbf"`
	Exp   int64  `json:"exp"`
	Jti   string `json:"jti"`
}

var b64 = base64.RawURLEncoding

// MintToken returns a signed access token as the fake STS would issue it.
func (e *Emulator) MintToken(spec TokenSpec) string {
	if spec.Audience == "" {
		spec.Audience = e.opts.Audience
	}
	if spec.Principal == "" {
		spec.Principal = e.opts.ClientID
	}
	if spec.TTL == 0 {
		spec.TTL = e.opts.TokenTTL
	}
	now := time.Now()
	c := tokenClaims{
		Aud: spec.Audience, Iss: "https://sts.windows.net/" + e.opts.TenantID + "/", Tid: e.opts.TenantID,
		AppID: spec.Principal, Azp: spec.Principal, Oid: "oid-" + spec.Principal, IDTyp: "app",
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(spec.TTL).Unix(), Jti: newGUID(),
	}
	if spec.User {
		c.IDTyp = "user"
	}
	return e.sign(c)
}

func (e *Emulator) sign(c tokenClaims) string {
	hdr := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256","kid":"logsingestion-emulator"}`))
	payload, _ := json.Marshal(c)
	signing := hdr + "." + b64.EncodeToString(payload)
	m := hmac.New(sha256.New, e.hmacKey)
	m.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(m.Sum(nil))
}

// verify checks signature, expiry and revocation; audience/kind are checked by the caller.
func (e *Emulator) verify(tok string) (tokenClaims, error) {
	var c tokenClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, errors.New("IDX14100: JWT is not well formed")
	}
	m := hmac.New(sha256.New, e.hmacKey)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return c, errors.New("IDX10511: Signature validation failed")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return c, errors.New("IDX12729: Unable to decode the payload")
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, errors.New("IDX12723: Unable to decode the payload")
	}
	now := time.Now()
	if now.Unix() >= c.Exp {
		return c, fmt.Errorf("IDX10223: Lifetime validation failed. The token is expired. ValidTo: '%s', Current time: '%s'",
			time.Unix(c.Exp, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if now.Unix()+300 < c.Nbf {
		return c, errors.New("IDX10222: Lifetime validation failed. The token is not yet valid")
	}
	e.mu.Lock()
	revoked := !e.revokedAt.IsZero() && time.Unix(c.Iat, 0).Before(e.revokedAt)
	e.mu.Unlock()
	if revoked {
		return c, errors.New("The access token has been revoked")
	}
	return c, nil
}

type assertionHeader struct {
	Alg      string `json:"alg"`
	X5t      string `json:"x5t"`
	X5tS256  string `json:"x5t#S256"`
	Typ      string `json:"typ"`
	X5cChain any    `json:"x5c"`
}

type assertionClaims struct {
	Aud any         `json:"aud"`
	Iss string      `json:"iss"`
	Sub string      `json:"sub"`
	Jti string      `json:"jti"`
	Exp json.Number `json:"exp"`
	Nbf json.Number `json:"nbf"`
}

// verifyCertAssertion validates a client-certificate JWT the way Entra ID does (signature with a
// registered certificate found by thumbprint, aud = token endpoint, iss = sub = client id,
// exp in the future, jti present).
func verifyCertAssertion(assertion string, certs []*x509.Certificate, clientID, tokenEndpoint string) error {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return errors.New("AADSTS50027: JWT token is invalid or malformed")
	}
	hb, err1 := b64.DecodeString(parts[0])
	pb, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return errors.New("AADSTS50027: JWT token is invalid or malformed")
	}
	var h assertionHeader
	var c assertionClaims
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(pb, &c) != nil {
		return errors.New("AADSTS50027: JWT token is invalid or malformed")
	}
	var cert *x509.Certificate
	for _, cand := range certs {
		s256 := sha256.Sum256(cand.Raw)
		s1 := sha1.Sum(cand.Raw) //nolint:gosec
		if (h.X5tS256 != "" && thumbMatches(h.X5tS256, s256[:])) || (h.X5t != "" && thumbMatches(h.X5t, s1[:])) {
			cert = cand
			break
		}
	}
	if cert == nil {
		return fmt.Errorf("AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s%s']", h.X5tS256, h.X5t)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("AADSTS700027: only RSA certificates are supported")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch h.Alg {
	case "PS256":
		err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		if err != nil {
			return errors.New("AADSTS7000274: Signature verification failed for client assertion")
		}
	case "RS256":
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
			return errors.New("AADSTS7000274: Signature verification failed for client assertion")
		}
	default:
		return fmt.Errorf("AADSTS5002730: Invalid JWT token. Unsupported key for the signing algorithm %q", h.Alg)
	}
	aud := ""
	switch v := c.Aud.(type) {
	case string:
		aud = v
	case []any:
		if len(v) == 1 {
			aud, _ = v[0].(string)
		}
	}
	if aud != tokenEndpoint {
		return fmt.Errorf("AADSTS700212: No matching federated identity record found for presented assertion audience '%s'", aud)
	}
	if c.Iss != clientID || c.Sub != clientID {
		return errors.New("AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter")
	}
	if c.Jti == "" {
		return errors.New("AADSTS700024: Client assertion is missing jti")
	}
	exp, err := c.Exp.Int64()
	if err != nil || time.Now().Unix() >= exp {
		return errors.New("AADSTS700024: Client assertion is not within its valid time range")
	}
	return nil
}

func thumbMatches(got string, want []byte) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(got); err == nil && hmac.Equal(b, want) {
			return true
		}
	}
	return false
}
