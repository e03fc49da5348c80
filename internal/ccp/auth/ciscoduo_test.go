package auth

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Known-answer signatures published by Duo's official clients. The requests are signed, never
// sent.

// duoSignedHeader applies CiscoDuo auth with the given definition extras to method url at now
// and returns the Authorization header.
func duoSignedHeader(t *testing.T, extra map[string]any, ikey, skey, method, rawURL string, now time.Time) string {
	t.Helper()
	def := map[string]any{"type": "CiscoDuo", "APIKey": ikey, "ClientSecret": skey}
	for k, v := range extra {
		def[k] = v
	}
	a := newAuth(t, def, Settings{Now: func() time.Time { return now }})
	req, err := http.NewRequestWithContext(context.Background(), method, rawURL, nil)
	require.NoError(t, err)
	require.NoError(t, a.Apply(context.Background(), req))
	return req.Header.Get("Authorization")
}

func basicOf(ikey, sig string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(ikey+":"+sig))
}

// duo_client_python tests/test_client.py TestSign (test_hmac_sha1, test_hmac_sha512): v2 canonical
// request of POST foO.BAr52.cOm/Foo/BaR2/qux with four Unicode parameters, dated
// "Fri, 07 Dec 2012 17:18:00 -0000", ikey test_ikey.
func TestCiscoDuoKnownAnswersDuoClientPython(t *testing.T) {
	params := url.Values{}
	params.Set("\u469a\u287b\u35d0\u8ef3\u6727\u502a\u0810\ud091\u00c8\uc170", "\u0f45\u1a76\u341a\u654c\uc23f\u9b09\uabe2\u8343\u1b27\u60d0")
	params.Set("\u7449\u7e4b\uccfb\u59ff\ufe5f\u83b7\uadcc\u900c\ucfd1\u7813", "\u8db7\u5022\u92d3\u42ef\u207d\u8730\uacfe\u5617\u0946\u4e30")
	params.Set("\u7470\u9314\u901c\u9eae\u40d8\u4201\u82d8\u8c70\u1d31\ua042", "\u17d9\u0ba8\u9358\uaadf\ua42a\u48be\ufb96\u6fe9\ub7ff\u32f3")
	params.Set("\uc2c5\u2c1d\u2620\u3617\u96b3F\u8605\u20e8\uac21\u5934", "\ufba9\u41aa\ubd83\u840b\u2615\u3e6e\u652d\ua8b5\ud56bU")
	u := "https://foO.BAr52.cOm/Foo/BaR2/qux?" + params.Encode()
	date := time.Date(2012, 12, 7, 17, 18, 0, 0, time.UTC)
	const ikey, skey = "test_ikey", "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT"

	// test_hmac_sha512 (sign()'s default digestmod, the client's default): the default here.
	sha512sig := "0508065035a03b2a1de2f453e629e791d180329e157f65df6b3e0f08299d4321e1c5c7a7c7ee6b9e5fc80d1fb6fbf3ad5eb7c44dd3b3985a02c37aca53ec3698"
	assert.Equal(t, basicOf(ikey, sha512sig), duoSignedHeader(t, nil, ikey, skey, "PoSt", u, date))
	assert.Equal(t, basicOf(ikey, sha512sig), duoSignedHeader(t, map[string]any{"SignatureAlgorithm": "HMAC-SHA512", "SignatureVersion": 2}, ikey, skey, "PoSt", u, date))

	// test_hmac_sha1 (digestmod=hashlib.sha1): with SignatureAlgorithm HMAC-SHA1.
	sha1sig := "f01811cbbf9561623ab45b893096267fd46a5178"
	assert.Equal(t, basicOf(ikey, sha1sig), duoSignedHeader(t, map[string]any{"SignatureAlgorithm": "HMAC-SHA1"}, ikey, skey, "PoSt", u, date))
	assert.Equal(t, basicOf(ikey, sha1sig), duoSignedHeader(t, map[string]any{"SignatureAlgorithm": "sha1"}, ikey, skey, "PoSt", u, date))
}

// duo_api_golang duo_test.go TestSign: HMAC-SHA1 v2 of POST api-XXXXXXXX.duosecurity.com
// /accounts/v1/account/list, realname=First Last&username=root, "Tue, 21 Aug 2012 17:29:18 -0000"
// (the example Duo's API documentation gave).
func TestCiscoDuoKnownAnswerDuoAPIGolang(t *testing.T) {
	u := "https://api-XXXXXXXX.duosecurity.com/accounts/v1/account/list?realname=First%20Last&username=root"
	date := time.Date(2012, 8, 21, 17, 29, 18, 0, time.UTC)
	got := duoSignedHeader(t, map[string]any{"SignatureAlgorithm": "HMAC-SHA1"}, "DIWJ8X6AEYOR5OMC6TQ1", "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep", "POST", u, date)
	assert.Equal(t, "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6MmQ5N2Q2MTY2MzE5NzgxYjVhM2EwN2FmMzlkMzY2ZjQ5MTIzNGVkYw==", got)
}

// duo_client_python tests/test_client.py TestCanonicalize: the v5 lines hashing the X-Duo-*
// headers (test_v5_with_json, test_signature_v5_lowers_and_then_sorts_headers).
func TestCiscoDuoV5HeaderHashKnownAnswers(t *testing.T) {
	sum := func(h http.Header) string {
		s := sha512.Sum512([]byte(duoCanonHeaders(h)))
		return hex.EncodeToString(s[:])
	}
	h := http.Header{}
	h.Set("X-Duo-Header-1", "header_value_1")
	assert.Equal(t, "630b4bfe7e9abd03da2eee8f0a5d4e60a254ec880a839bcc2223bb5b9443e8ef24d58f0254f1f5934bf8c017ebd0fd5b1acf86766bdbe74185e712a4092df3ed", sum(h))
	h = http.Header{}
	h.Set("x-duo-A", "header_value_1")
	h.Set("X-Duo-B", "header_value_2")
	assert.Equal(t, "60be11a30e0756f2ee2afdce1db849b987dcf86c1133394bd7bbbc9877920330c4d78aceacbb377ab8cbd9a8efe6a410fed4047376635ac71226ab46ca10d2b1", sum(h))
}

func TestCiscoDuoSignatureAlgorithmRefused(t *testing.T) {
	base := map[string]any{"type": "CiscoDuo", "APIKey": "i", "ClientSecret": "s"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	_, err := New(parseAuth(t, with("SignatureAlgorithm", "MD5")), Settings{})
	require.ErrorContains(t, err, "SignatureAlgorithm")
	_, err = New(parseAuth(t, with("SignatureAlgorithm", "HMAC-SHA1", "SignatureVersion", 5)), Settings{})
	require.ErrorContains(t, err, "SignatureVersion 2")
	assert.True(t, strings.Contains(err.Error(), "HMAC-SHA512"))
}
