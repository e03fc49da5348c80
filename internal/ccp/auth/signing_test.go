package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeDuo verifies Duo Admin API signatures the way Duo documents them (written independently
// of ciscoduo.go: url.QueryEscape with %20 for spaces is RFC 3986 for these inputs).
func fakeDuo(t *testing.T, ikey, skey string, version int, now func() time.Time) http.Handler {
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		date := r.Header.Get("Date")
		d, err := time.Parse("Mon, 02 Jan 2006 15:04:05 -0700", date)
		if err != nil || now().Sub(d).Abs() > 5*time.Minute {
			writeJSON(w, 401, map[string]any{"stat": "FAIL", "code": 40105, "message": "Missing or invalid Date header"})
			return
		}
		user, sig, ok := r.BasicAuth()
		if !ok || user != ikey {
			writeJSON(w, 401, map[string]any{"stat": "FAIL", "code": 40101, "message": "Missing required request parameters"})
			return
		}
		q := r.URL.Query()
		// duo_client's canon_params: keys sorted after quoting, each key's raw values sorted.
		var eks []string
		raw := map[string]string{}
		for k := range q {
			eks = append(eks, enc(k))
			raw[enc(k)] = k
		}
		sort.Strings(eks)
		var ps []string
		for _, ek := range eks {
			vs := append([]string(nil), q[raw[ek]]...)
			sort.Strings(vs)
			for _, v := range vs {
				ps = append(ps, ek+"="+enc(v))
			}
		}
		canon := strings.Join([]string{date, r.Method, strings.ToLower(r.Host), r.URL.EscapedPath(), strings.Join(ps, "&")}, "\n")
		var mac hash.Hash
		if version == 5 {
			body, _ := io.ReadAll(r.Body)
			bs := sha512.Sum512(body)
			hs := sha512.Sum512([]byte("x-duo-trace\x00abc"))
			canon += "\n" + hex.EncodeToString(bs[:]) + "\n" + hex.EncodeToString(hs[:])
			mac = hmac.New(sha512.New, []byte(skey))
		} else if len(sig) == 2*sha1.Size {
			mac = hmac.New(sha1.New, []byte(skey)) // v2 with HMAC-SHA1 (SignatureAlgorithm HMAC-SHA1)
		} else {
			mac = hmac.New(sha512.New, []byte(skey)) // v2 with HMAC-SHA512, the default
		}
		mac.Write([]byte(canon))
		if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig)) {
			writeJSON(w, 401, map[string]any{"stat": "FAIL", "code": 40103, "message": "Invalid signature in request credentials"})
			return
		}
		writeJSON(w, 200, map[string]any{"stat": "OK", "response": map[string]any{"authlogs": []any{}}})
	})
}

func TestCiscoDuo(t *testing.T) {
	clk := newClock()
	const ikey, skey = "DIWJ8X6AEYOR5OMC6TQ1", "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"
	query := "mintime=1700000000000&maxtime=1700000300000&limit=1000&next_offset=1700000000000,abc-def&users=a%20b~c%2Fd%2Be&users=%C3%A9&users=x+y"
	for _, v := range []int{2, 5} {
		t.Run("v"+string(rune('0'+v)), func(t *testing.T) {
			srv := loopback(t, fakeDuo(t, ikey, skey, v, clk.Now))
			def := map[string]any{"type": "CiscoDuo", "APIKey": ikey, "ClientSecret": skey}
			if v == 5 {
				def["SignatureVersion"] = "5"
			}
			a := newAuth(t, def, Settings{Now: clk.Now})
			do := func(tamper bool) int {
				req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, srv.URL+"/admin/v2/logs/authentication?"+query, nil)
				require.NoError(t, err)
				if v == 5 {
					req.Header.Set("X-Duo-Trace", "abc")
				}
				require.NoError(t, a.Apply(context.Background(), req))
				require.NotEmpty(t, req.Header.Get("Date"))
				if tamper {
					req.URL.RawQuery += "&limit=1"
				}
				return statusOf(t, srv, req)
			}
			require.Equal(t, 200, do(false))
			require.Equal(t, 401, do(true), "the fake refuses a signature over other parameters")
			wrong := newAuth(t, map[string]any{"type": "CiscoDuo", "APIKey": ikey, "ClientSecret": "wrong-secret-key", "SignatureVersion": v}, Settings{Now: clk.Now})
			require.Equal(t, 401, signedGet(t, srv, wrong, srv.URL+"/admin/v2/logs/authentication"))
		})
	}
	// RFC 3986 canonical parameters: sorted, %20 for spaces, "~" kept, "/" "+" "," encoded.
	require.Equal(t, "mintime=1&next_offset=a%2Cb&users=a%20b~c%2Fd%2Be", duoCanonParams(url.Values{
		"users": {"a b~c/d+e"}, "mintime": {"1"}, "next_offset": {"a,b"}}))
	_, err := New(parseAuth(t, map[string]any{"type": "CiscoDuo", "APIKey": ikey}), Settings{})
	require.ErrorContains(t, err, "ClientSecret")
	_, err = New(parseAuth(t, map[string]any{"type": "CiscoDuo", "APIKey": ikey, "ClientSecret": skey, "SignatureVersion": 3}), Settings{})
	require.ErrorContains(t, err, "SignatureVersion")
	// Credentials from the receiver config.
	srv := loopback(t, fakeDuo(t, ikey, skey, 2, clk.Now))
	c := newAuth(t, map[string]any{"type": "CiscoDuo"}, Settings{Now: clk.Now, Credentials: Credentials{APIKey: ikey, ClientSecret: skey}})
	require.Equal(t, 200, signedGet(t, srv, c, srv.URL+"/admin/v1/info/summary"))
}

// signedGet sends a GET of u, signed by a, to srv and returns the answer's status.
func signedGet(t *testing.T, srv *httptest.Server, a Authenticator, u string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, u, nil)
	require.NoError(t, a.Apply(context.Background(), req))
	return statusOf(t, srv, req)
}

// statusOf sends req to srv and returns the answer's status.
func statusOf(t *testing.T, srv *httptest.Server, req *http.Request) int {
	t.Helper()
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// fakeSLS verifies Alibaba Log Service signature v1 (independent re-implementation).
func fakeSLS(t *testing.T, id, secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(code, msg string) {
			w.Header().Set("x-log-requestid", "req-1")
			writeJSON(w, 401, map[string]string{"errorCode": code, "errorMessage": msg})
		}
		if r.Header.Get("x-log-apiversion") != "0.6.0" || r.Header.Get("x-log-signaturemethod") != "hmac-sha1" {
			fail("InvalidArgument", "missing x-log headers")
			return
		}
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("x-log-bodyrawsize") != strconv.Itoa(len(body)) {
			fail("InvalidArgument", "bodyrawsize")
			return
		}
		md := ""
		if len(body) > 0 {
			s := md5.Sum(body)
			md = strings.ToUpper(hex.EncodeToString(s[:]))
			if r.Header.Get("Content-MD5") != md {
				fail("InvalidContentMD5", "md5 mismatch")
				return
			}
		}
		var hk []string
		for k := range r.Header {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "x-log-") || strings.HasPrefix(lk, "x-acs-") {
				hk = append(hk, lk)
			}
		}
		sort.Strings(hk)
		var canonHdr bytes.Buffer
		for _, k := range hk {
			canonHdr.WriteString(k + ":" + r.Header.Get(k) + "\n")
		}
		res := r.URL.Path
		q := r.URL.Query()
		if len(q) > 0 {
			var ks []string
			for k := range q {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			var ps []string
			for _, k := range ks {
				ps = append(ps, k+"="+q.Get(k))
			}
			res += "?" + strings.Join(ps, "&")
		}
		sts := r.Method + "\n" + md + "\n" + r.Header.Get("Content-Type") + "\n" + r.Header.Get("Date") + "\n" + canonHdr.String() + res
		mac := hmac.New(sha1.New, []byte(secret))
		mac.Write([]byte(sts))
		want := "LOG " + id + ":" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(r.Header.Get("Authorization")), []byte(want)) {
			fail("SignatureNotMatch", "signature not match")
			return
		}
		if _, err := time.Parse(http.TimeFormat, r.Header.Get("Date")); err != nil {
			fail("RequestTimeTooSkewed", "bad date")
			return
		}
		writeJSON(w, 200, []any{map[string]any{"event": map[string]any{"id": 1}}})
	})
}

func TestAliCloudSls(t *testing.T) {
	clk := newClock()
	const id, secret = "LTAI5tExampleId", "ExampleAccessKeySecret0123456789"
	srv := loopback(t, fakeSLS(t, id, secret))
	a := newAuth(t, map[string]any{"type": "AliCloudSlsV1", "AccessKeyId": id, "AccessKeySecret": secret}, Settings{Now: clk.Now})
	send := func(a Authenticator, method, rawurl string, body []byte, tamper bool) int {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(testCtx(t), method, rawurl, rd)
		require.NoError(t, err)
		req.Header.Set("x-log-apiversion", "0.6.0") // as the connector's request headers set it
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		require.NoError(t, a.Apply(context.Background(), req))
		require.True(t, strings.HasPrefix(req.Header.Get("Authorization"), "LOG "+id+":"))
		if tamper {
			req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "offset=0", "offset=100", 1)
		}
		return statusOf(t, srv, req)
	}
	u := srv.URL + "/logstores/actiontrail_trail/?type=log&from=1700000000&to=1700000300&offset=0&line=100&query=" + url.QueryEscape("* | select a, b")
	require.Equal(t, 200, send(a, http.MethodGet, u, nil, false))
	require.Equal(t, 401, send(a, http.MethodGet, u, nil, true))
	require.Equal(t, 200, send(a, http.MethodPost, srv.URL+"/logstores/x/shards/lb", []byte(`{"a":1}`), false))
	wrong := newAuth(t, map[string]any{"type": "AliCloudSlsV1", "AccessKeyId": id, "AccessKeySecret": "not-the-secret"}, Settings{Now: clk.Now})
	require.Equal(t, 401, send(wrong, http.MethodGet, u, nil, false))
	_, err := New(parseAuth(t, map[string]any{"type": "AliCloudSlsV1", "AccessKeyId": id}), Settings{})
	require.ErrorContains(t, err, "AccessKeySecret")
}
