package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

func init() { Register("CiscoDuo", newCiscoDuo) }

// duoAuth signs Duo Admin API requests (not in Microsoft's schema; observed in the Cisco Duo
// connector): APIKey is the integration key (ikey), ClientSecret the secret key (skey). Each
// request gets a Date header and Authorization: Basic base64(ikey:hex(HMAC(skey, canon))), with
// canon = date, METHOD, lower-case host, path and the sorted RFC 3986 parameters joined by
// newlines — signature v2 — or, with SignatureVersion 5, the same plus the SHA-512 of the body
// and of the X-Duo-* headers.
//
// The HMAC is HMAC-SHA512 by default, for v2 too: that is what Duo's reference client signs with
// (duo_client_python: Client(digestmod=hashlib.sha512) is used for v1/v2 canonical requests,
// and its tests/test_client.py TestSign.test_hmac_sha512 signs v2 without naming a digest).
// Duo's API accepts HMAC-SHA1 for v2 as well — the same test file keeps test_hmac_sha1
// (digestmod=hashlib.sha1), and duo_api_golang still signs v2 with SHA-1 — so the definition
// key SignatureAlgorithm: "HMAC-SHA1" keeps it available. v5 is always HMAC-SHA512 (the Python
// client forces SHA-512 for v4/v5).
type duoAuth struct {
	fixedAuth
	s       Settings
	ikey    string
	skey    string
	version int
	sha1    bool // SignatureAlgorithm HMAC-SHA1 (v2 only)
}

func newCiscoDuo(def definition.Auth, s Settings) (Authenticator, error) {
	f := def.Fields
	a := &duoAuth{s: s, version: 2}
	if err := readFields(f,
		fieldRead{&a.ikey, s.Credentials.APIKey, []string{"APIKey", "IntegrationKey", "ikey"}},
		fieldRead{&a.skey, s.Credentials.ClientSecret, []string{"ClientSecret", "SecretKey", "skey"}}); err != nil {
		return nil, err
	}
	if a.ikey == "" || a.skey == "" {
		return nil, errors.New("CiscoDuo needs APIKey (integration key) and ClientSecret (secret key)")
	}
	a.sec.add(a.skey)
	if v, ok := f.Int("SignatureVersion", "SigVersion"); ok {
		if v != 2 && v != 5 {
			return nil, fmt.Errorf("%s.SignatureVersion: %d is not supported (2 = HMAC-SHA1, 5 = HMAC-SHA512)", f.Path(), v)
		}
		a.version = v
	}
	if alg, ok := f.StringOK("SignatureAlgorithm", "HmacAlgorithm"); ok {
		switch strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(alg), "-", "")) {
		case "HMACSHA512", "SHA512", "":
		case "HMACSHA1", "SHA1":
			if a.version == 5 {
				return nil, fmt.Errorf("%s.SignatureAlgorithm: HMAC-SHA1 is only for SignatureVersion 2 (v5 is always HMAC-SHA512)", f.Path())
			}
			a.sha1 = true
		default:
			return nil, fmt.Errorf("%s.SignatureAlgorithm: %q is not supported (HMAC-SHA512, the default, or HMAC-SHA1)", f.Path(), alg)
		}
	}
	return a, nil
}

func (a *duoAuth) Apply(_ context.Context, req *http.Request) error {
	body, err := bodyToSign(req, "CiscoDuo")
	if err != nil {
		return err
	}
	date := a.s.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 -0000")
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	params := req.URL.Query()
	method := strings.ToUpper(req.Method)
	if a.version == 2 && len(body) > 0 {
		if ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return fmt.Errorf("CiscoDuo signing: form body: %w", err)
			}
			for k, vs := range form {
				params[k] = append(params[k], vs...)
			}
		}
	}
	lines := []string{date, method, strings.ToLower(host), req.URL.EscapedPath(), duoCanonParams(params)}
	if a.version == 5 {
		bodySum := sha512.Sum512(body)
		hdrSum := sha512.Sum512([]byte(duoCanonHeaders(req.Header)))
		lines = append(lines, hex.EncodeToString(bodySum[:]), hex.EncodeToString(hdrSum[:]))
	}
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", a.authorization(strings.Join(lines, "\n")))
	return nil
}

// authorization is the Basic header value for a canonical request: ikey and the hex HMAC of canon.
func (a *duoAuth) authorization(canon string) string {
	h := sha512.New
	if a.sha1 {
		h = sha1.New
	}
	mac := hmac.New(h, []byte(a.skey))
	mac.Write([]byte(canon))
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.ikey+":"+hex.EncodeToString(mac.Sum(nil))))
}

// duoCanonParams: keys RFC 3986-encoded and sorted, each key's values sorted, as k=v joined by
// "&" (the order Duo's reference clients use).
func duoCanonParams(p url.Values) string {
	type kv struct {
		ek string
		vs []string
	}
	keys := make([]kv, 0, len(p))
	for k, vs := range p {
		keys = append(keys, kv{rfc3986(k), vs})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ek < keys[j].ek })
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), k.vs...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, k.ek+"="+rfc3986(v))
		}
	}
	return strings.Join(parts, "&")
}

// duoCanonHeaders: X-Duo-* headers, lower-case names sorted, name\x00value joined by \x00.
func duoCanonHeaders(h http.Header) string {
	var names []string
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-duo-") {
			names = append(names, k)
		}
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	var parts []string
	for _, k := range names {
		parts = append(parts, strings.ToLower(k), h.Get(k))
	}
	return strings.Join(parts, "\x00")
}

// rfc3986 percent-encodes everything but the unreserved characters A-Z a-z 0-9 - . _ ~.
func rfc3986(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
