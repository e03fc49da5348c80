package poller

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameHostPair serves https://api.example.com (TLS) and http://api.example.com (plain) from two
// 127.0.0.1 listeners: the client dials each default port to its listener and nothing else.
// The plain listener records every Authorization and X-Vendor-Secret it is sent.
func sameHostPair(t *testing.T, api http.HandlerFunc) (*http.Client, *atomic.Int64, *atomic.Value) {
	t.Helper()
	var plainCalls atomic.Int64
	var leaked atomic.Value
	leaked.Store("")
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainCalls.Add(1)
		if s := r.Header.Get("Authorization") + r.Header.Get("X-Vendor-Secret"); s != "" {
			leaked.Store(s)
		}
		_, _ = w.Write([]byte(`{"data": [{"id": 2}]}`))
	}))
	t.Cleanup(plain.Close)
	tls := httptest.NewTLSServer(api)
	t.Cleanup(tls.Close)
	tr := tls.Client().Transport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		switch addr {
		case "api.example.com:443":
			return d.DialContext(ctx, network, tls.Listener.Addr().String())
		case "api.example.com:80":
			return d.DialContext(ctx, network, plain.Listener.Addr().String())
		}
		return nil, fmt.Errorf("test dials only api.example.com, not %s", addr)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}, &plainCalls, &leaked
}

const secretHeaderDef = `{"auth": {"type": "Basic", "UserName": "u", "Password": "p"},
  "request": {"apiEndpoint": "https://api.example.com/e", "headers": {"X-Vendor-Secret": "v"}, "retryCount": 0, "timeoutInSeconds": 5},
  %s "response": {"eventsJsonPaths": ["$.data"]}}`

// A next-page link to http:// on the API's own host must not carry the credentials or the
// configured headers in clear text (the old check compared the host only).
func TestSameHostHTTPLinkGetsNoCredentials(t *testing.T) {
	for name, tc := range map[string]struct{ paging, body, header string }{
		"NextPageUrl": {`"paging": {"pagingType": "NextPageUrl", "nextPageTokenJsonPath": "$.next"},`,
			`{"data": [{"id": 1}], "next": "http://api.example.com/collect"}`, ""},
		"LinkHeader": {`"paging": {"pagingType": "LinkHeader"},`,
			`{"data": [{"id": 1}]}`, `<http://api.example.com/collect>; rel="next"`},
	} {
		t.Run(name, func(t *testing.T) {
			client, plainCalls, leaked := sameHostPair(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Basic dTpw" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if tc.header != "" {
					w.Header().Set("Link", tc.header)
				}
				_, _ = w.Write([]byte(tc.body))
			})
			e := hostileEngine(t, "", fmt.Sprintf(secretHeaderDef, tc.paging), Options{HTTPClient: client})
			e.o.Auth = basicForTest{}
			n, err := pollAll(e)
			require.NoError(t, err)
			assert.Equal(t, 2, n)
			assert.EqualValues(t, 1, plainCalls.Load(), "the http link was followed")
			assert.Equal(t, "", leaked.Load(), "no credentials or configured headers over plain http")
		})
	}
}

// A redirect from https to http of the same host is refused: the credential would be replayed
// in clear text.
func TestRedirectHTTPSToHTTPSameHostIsRefused(t *testing.T) {
	client, plainCalls, _ := sameHostPair(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://api.example.com/x", http.StatusFound)
	})
	e := hostileEngine(t, "", fmt.Sprintf(secretHeaderDef, ""), Options{HTTPClient: client})
	e.o.Auth = basicForTest{}
	_, err := pollAll(e)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redirect to another origin refused")
	assert.EqualValues(t, 0, plainCalls.Load(), "the http listener is never called")
}
