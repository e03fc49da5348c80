package auth

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

func init() { Register("AliCloudSlsV1", newAliCloudSls) }

// slsAuth signs Alibaba Cloud Log Service (SLS) API requests with signature v1 (not in
// Microsoft's schema; observed in the Alibaba Cloud ActionTrail connector):
//
//	Authorization: LOG <AccessKeyId>:base64(HMAC-SHA1(AccessKeySecret,
//	    VERB\nContent-MD5\nContent-Type\nDate\n<x-log-*/x-acs-* headers "name:value" sorted, joined by \n>\n
//	    /path[?sorted k=v joined by &, unencoded]))
//
// with Date (RFC 1123 GMT), x-log-apiversion (0.6.0 unless set), x-log-signaturemethod
// hmac-sha1, x-log-bodyrawsize and, for a body, Content-MD5 (upper-case hex MD5).
type slsAuth struct {
	fixedAuth
	s      Settings
	id     string
	secret string
	token  string // optional STS security token
}

func newAliCloudSls(def definition.Auth, s Settings) (Authenticator, error) {
	f := def.Fields
	a := &slsAuth{s: s}
	if err := readFields(f,
		fieldRead{&a.id, s.Credentials.ClientID, []string{"AccessKeyId"}},
		fieldRead{&a.secret, s.Credentials.ClientSecret, []string{"AccessKeySecret"}},
		fieldRead{&a.token, "", []string{"SecurityToken"}}); err != nil {
		return nil, err
	}
	if a.id == "" || a.secret == "" {
		return nil, errors.New("AliCloudSlsV1 needs AccessKeyId and AccessKeySecret (or client_id/client_secret in the receiver config)")
	}
	a.sec.add(a.secret, a.token)
	return a, nil
}

func (a *slsAuth) Apply(_ context.Context, req *http.Request) error {
	body, err := bodyToSign(req, "AliCloudSlsV1")
	if err != nil {
		return err
	}
	date := a.s.Now().UTC().Format(http.TimeFormat)
	req.Header.Set("Date", date)
	if req.Header.Get("x-log-apiversion") == "" {
		req.Header.Set("x-log-apiversion", "0.6.0")
	}
	req.Header.Set("x-log-signaturemethod", "hmac-sha1")
	req.Header.Set("x-log-bodyrawsize", strconv.Itoa(len(body)))
	if a.token != "" {
		req.Header.Set("x-acs-security-token", a.token)
	}
	contentMD5 := ""
	if len(body) > 0 {
		sum := md5.Sum(body)
		contentMD5 = strings.ToUpper(hex.EncodeToString(sum[:]))
		req.Header.Set("Content-MD5", contentMD5)
	} else {
		req.Header.Del("Content-MD5")
	}
	mac := hmac.New(sha1.New, []byte(a.secret))
	mac.Write([]byte(slsStringToSign(req.Method, contentMD5, req.Header.Get("Content-Type"), date, req.Header, req.URL.Path, req.URL.Query())))
	req.Header.Set("Authorization", "LOG "+a.id+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return nil
}

func slsStringToSign(method, contentMD5, contentType, date string, h http.Header, path string, query map[string][]string) string {
	type kv struct{ k, v string }
	var hdrs []kv
	for k, vs := range h {
		lk := strings.ToLower(k)
		if (strings.HasPrefix(lk, "x-log-") || strings.HasPrefix(lk, "x-acs-")) && len(vs) > 0 {
			hdrs = append(hdrs, kv{lk, strings.TrimSpace(vs[0])})
		}
	}
	sort.Slice(hdrs, func(i, j int) bool { return hdrs[i].k < hdrs[j].k })
	var b strings.Builder
	b.WriteString(strings.ToUpper(method) + "\n" + contentMD5 + "\n" + contentType + "\n" + date + "\n")
	for _, x := range hdrs {
		b.WriteString(x.k + ":" + x.v + "\n")
	}
	b.WriteString(path)
	if len(query) > 0 {
		keys := make([]string, 0, len(query))
		for k := range query {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sep := "?"
		for _, k := range keys {
			vs := append([]string(nil), query[k]...)
			sort.Strings(vs)
			for _, v := range vs {
				b.WriteString(sep + k + "=" + v)
				sep = "&"
			}
		}
	}
	return b.String()
}
