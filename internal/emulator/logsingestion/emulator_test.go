package logsingestion

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testDCR    = "dcr-0123456789abcdef0123456789abcdef"
	testStream = "Custom-Test_CL"
)

func startEmu(t *testing.T, mod func(*Options)) *Emulator {
	t.Helper()
	o := Options{
		DCRs:         map[string][]string{testDCR: {testStream}, "dcr-other": {"Custom-Other_CL"}},
		TenantID:     "tenant-1",
		ClientID:     "client-1",
		ClientSecret: "secret-1",
	}
	if mod != nil {
		mod(&o)
	}
	e, err := Start(o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return e
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

type resp struct {
	status int
	code   string
	body   string
	header http.Header
}

func post(t *testing.T, e *Emulator, path, token string, body []byte, hdr map[string]string) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.IngestURL()+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return do(t, e, req)
}

// do sends req with a client trusting the emulator.
func do(t *testing.T, e *Emulator, req *http.Request) resp {
	t.Helper()
	c := e.HTTPClient()
	defer c.CloseIdleConnections()
	r, err := c.Do(req)
	require.NoError(t, err)
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, code: r.Header.Get("x-ms-error-code"), body: string(b), header: r.Header}
}

func path(dcr, stream string) string {
	return "/dataCollectionRules/" + dcr + "/streams/" + url.PathEscape(stream) + "?api-version=2023-01-01"
}

func TestIngestStatusPaths(t *testing.T) {
	e := startEmu(t, func(o *Options) {
		o.Publishers = map[string][]string{"dcr-other": {"someone-else"}}
		o.MaxDecompressedBytes = 10_000
	})
	tok := e.MintToken(TokenSpec{})
	good := gz(t, []byte(`[{"id":"1","TimeGenerated":"2026-01-01T00:00:00Z"},{"id":"2"}]`))

	r := post(t, e, path(testDCR, testStream), tok, good, nil)
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Empty(t, r.body)
	assert.NotEmpty(t, r.header.Get("x-ms-request-id"))
	assert.Len(t, e.Rows(testDCR, testStream), 2)

	// case-insensitive literal segments
	r = post(t, e, "/datacollectionRules/"+testDCR+"/Streams/"+testStream+"?api-version=2021-11-01-preview", tok, good, nil)
	assert.Equal(t, http.StatusNoContent, r.status, r.body)

	cases := []struct {
		name   string
		path   string
		token  string
		body   []byte
		hdr    map[string]string
		status int
		code   string
		msg    string
	}{
		{"unknown dcr", path("dcr-nope", testStream), tok, good, nil, 404, "NotFound", "Data collection rule with immutable Id 'dcr-nope' not found."},
		{"bad path", "/foo/bar?api-version=2023-01-01", tok, good, nil, 404, "NotFound", ""},
		{"invalid stream", path(testDCR, "incorrect stream"), tok, good, nil, 400, "InvalidStream", "The stream incorrect%20stream was not configured in the data collection rule with immutable Id " + testDCR + "."},
		{"no api-version", "/dataCollectionRules/" + testDCR + "/streams/" + testStream, tok, good, nil, 400, "MissingApiVersionParameter", ""},
		{"bad api-version", "/dataCollectionRules/" + testDCR + "/streams/" + testStream + "?api-version=2020-01-01", tok, good, nil, 400, "UnsupportedApiVersion", ""},
		{"no token", path(testDCR, testStream), "", good, nil, 401, "InvalidAuthenticationToken", ""},
		{"garbage token", path(testDCR, testStream), "abc.def.ghi", good, nil, 401, "InvalidAuthenticationToken", ""},
		{"expired token", path(testDCR, testStream), e.MintToken(TokenSpec{TTL: -time.Minute}), good, nil, 401, "InvalidAuthenticationToken", "expired"},
		{"wrong audience", path(testDCR, testStream), e.MintToken(TokenSpec{Audience: "https://management.azure.com"}), good, nil, 401, "InvalidAudience", ""},
		{"user token", path(testDCR, testStream), e.MintToken(TokenSpec{User: true}), good, nil, 401, "UnsupportedAccessTokenType", "S2S17001"},
		{"no role", path("dcr-other", "Custom-Other_CL"), tok, good, nil, 403, "OperationFailed", "does not have access to ingest data"},
		{"bad gzip", path(testDCR, testStream), tok, []byte("not gzip"), nil, 400, "InvalidContentEncoding", ""},
		{"br encoding", path(testDCR, testStream), tok, good, map[string]string{"Content-Encoding": "br"}, 400, "InvalidContentEncoding", ""},
		{"content type", path(testDCR, testStream), tok, good, map[string]string{"Content-Type": "text/plain"}, 415, "UnsupportedMediaType", ""},
		{"invalid json", path(testDCR, testStream), tok, gz(t, []byte(`[{"a":1},`)), nil, 400, "InvalidJson", ""},
		{"trailing data", path(testDCR, testStream), tok, gz(t, []byte(`[] []`)), nil, 400, "InvalidJson", ""},
		{"invalid utf8", path(testDCR, testStream), tok, gz(t, []byte("[{\"a\":\"\xff\"}]")), nil, 400, "InvalidJson", ""},
		{"too large on the wire", path(testDCR, testStream), tok, make([]byte, DefaultMaxWireBytes+1), nil, 413, "ContentLengthLimitExceeded", "Maximum allowed content length: 1048576 bytes (1 MB). Provided content length: 1048577 bytes."},
		{"too large decompressed", path(testDCR, testStream), tok, gz(t, []byte("["+strings.Repeat(`{"a":"`+strings.Repeat("x", 100)+`"},`, 200)+"{}]")), nil, 413, "PayloadSizeLimitExceeded", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, e, c.path, c.token, c.body, c.hdr)
			assert.Equal(t, c.status, r.status, r.body)
			assert.Equal(t, c.code, r.code)
			var body struct {
				Error struct{ Code, Message string }
			}
			require.NoError(t, json.Unmarshal([]byte(r.body), &body), r.body)
			assert.Equal(t, c.code, body.Error.Code)
			assert.Contains(t, body.Error.Message, c.msg)
			assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "application/json"))
		})
	}
	assert.Equal(t, 4, e.RowCount(), "no refused request stored rows")

	// A bare object is answered 204 but dropped, like the real service.
	r = post(t, e, path(testDCR, testStream), tok, gz(t, []byte(`{"id":"x"}`)), nil)
	assert.Equal(t, http.StatusNoContent, r.status)
	assert.Equal(t, 4, e.RowCount())
	assert.Equal(t, 1, e.Stats().SilentlyDroppedBodies)

	// Uncompressed bodies are accepted.
	r = post(t, e, path(testDCR, testStream), tok, []byte(`[{"id":"9"}]`), map[string]string{"Content-Encoding": ""})
	assert.Equal(t, http.StatusNoContent, r.status)
	assert.Equal(t, 5, e.RowCount())
}

func TestFaultsAndThrottling(t *testing.T) {
	e := startEmu(t, func(o *Options) { o.RequestsPerMinute = 3 })
	tok := e.MintToken(TokenSpec{})
	body := gz(t, []byte(`[{"id":"1"}]`))
	for i := 0; i < 3; i++ {
		require.Equal(t, 204, post(t, e, path(testDCR, testStream), tok, body, nil).status)
	}
	r := post(t, e, path(testDCR, testStream), tok, body, nil)
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "TooManyRequests", r.code)
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	// other DCRs are not affected
	assert.Equal(t, 204, post(t, e, path("dcr-other", "Custom-Other_CL"), tok, body, nil).status)

	e.Reset()
	e2 := startEmu(t, nil)
	tok = e2.MintToken(TokenSpec{})
	e2.SetFaults(Faults{Throttle429Next: 1, Fail503Next: 1, RetryAfter: 1500 * time.Millisecond})
	r = post(t, e2, path(testDCR, testStream), tok, body, nil)
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "2", r.header.Get("Retry-After"))
	r = post(t, e2, path(testDCR, testStream), tok, body, nil)
	assert.Equal(t, 503, r.status)
	assert.Equal(t, 204, post(t, e2, path(testDCR, testStream), tok, body, nil).status)

	e2.SetFaults(Faults{DropConnNext: 1})
	req, _ := http.NewRequest(http.MethodPost, e2.IngestURL()+path(testDCR, testStream), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	c := e2.HTTPClient()
	_, err := c.Do(req)
	c.CloseIdleConnections()
	require.Error(t, err)
	assert.Equal(t, 2, e2.RowCount(), "rows stored although the connection was dropped")
	assert.Equal(t, 1, e2.Stats().DroppedConnections)
	assert.Equal(t, 1, e2.Stats().RowsInDroppedConns)

	e2.SetFaults(Faults{RejectRow: func(r map[string]any) bool { return r["id"] == "bad" }})
	r = post(t, e2, path(testDCR, testStream), tok, gz(t, []byte(`[{"id":"ok"},{"id":"bad"}]`)), nil)
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "InvalidPayload", r.code)
	assert.Equal(t, 2, e2.RowCount())

	e2.RevokeTokens()
	r = post(t, e2, path(testDCR, testStream), tok, body, nil)
	assert.Equal(t, 401, r.status)
}

func TestColumnsDropped(t *testing.T) {
	e := startEmu(t, func(o *Options) { o.Columns = map[string][]string{testStream: {"id", "TimeGenerated"}} })
	tok := e.MintToken(TokenSpec{})
	require.Equal(t, 204, post(t, e, path(testDCR, testStream), tok, gz(t, []byte(`[{"id":"1","extra":2}]`)), nil).status)
	assert.Equal(t, []map[string]any{{"id": "1"}}, e.Rows(testDCR, testStream))
	assert.Equal(t, 1, e.Stats().ColumnsDropped)
}

func credOpts(e *Emulator) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost()},
		Transport: e.HTTPClient(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

func ingestWith(t *testing.T, e *Emulator, cred azcore.TokenCredential) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{e.Scope()}})
	require.NoError(t, err)
	r := post(t, e, path(testDCR, testStream), tok.Token, gz(t, []byte(`[{"id":"1"}]`)), nil)
	require.Equal(t, 204, r.status, r.body)
}

func TestAzidentityCredentials(t *testing.T) {
	cert, bundle, err := NewClientCertificate("client-1")
	require.NoError(t, err)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("federated-jwt-from-kubernetes"), 0o600))
	e := startEmu(t, func(o *Options) {
		o.ClientCertificates = append(o.ClientCertificates, cert)
		o.FederatedTokens = []string{"federated-jwt-from-kubernetes"}
	})

	t.Run("client_secret", func(t *testing.T) {
		cred, err := azidentity.NewClientSecretCredential("tenant-1", "client-1", "secret-1",
			&azidentity.ClientSecretCredentialOptions{ClientOptions: credOpts(e), DisableInstanceDiscovery: true})
		require.NoError(t, err)
		ingestWith(t, e, cred)
		bad, err := azidentity.NewClientSecretCredential("tenant-1", "client-1", "wrong",
			&azidentity.ClientSecretCredentialOptions{ClientOptions: credOpts(e), DisableInstanceDiscovery: true})
		require.NoError(t, err)
		_, err = bad.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{e.Scope()}})
		require.ErrorContains(t, err, "AADSTS7000215")
		_, err = azidentity.NewClientSecretCredential("tenant-1", "client-1", "secret-1",
			&azidentity.ClientSecretCredentialOptions{ClientOptions: credOpts(e), DisableInstanceDiscovery: true})
		require.NoError(t, err)
	})
	t.Run("bad scope", func(t *testing.T) {
		cred, err := azidentity.NewClientSecretCredential("tenant-1", "client-1", "secret-1",
			&azidentity.ClientSecretCredentialOptions{ClientOptions: credOpts(e), DisableInstanceDiscovery: true})
		require.NoError(t, err)
		_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
		require.ErrorContains(t, err, "AADSTS70011")
	})
	t.Run("client_certificate", func(t *testing.T) {
		certs, key, err := azidentity.ParseCertificates(bundle, nil)
		require.NoError(t, err)
		cred, err := azidentity.NewClientCertificateCredential("tenant-1", "client-1", certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: credOpts(e), DisableInstanceDiscovery: true})
		require.NoError(t, err)
		ingestWith(t, e, cred)
		other, otherBundle, err := NewClientCertificate("other")
		require.NoError(t, err)
		_ = other
		certs, key, err = azidentity.ParseCertificates(otherBundle, nil)
		require.NoError(t, err)
		cred, err = azidentity.NewClientCertificateCredential("tenant-1", "client-1", certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: credOpts(e), DisableInstanceDiscovery: true})
		require.NoError(t, err)
		_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{e.Scope()}})
		require.ErrorContains(t, err, "AADSTS700027")
	})
	t.Run("workload_identity", func(t *testing.T) {
		cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: credOpts(e), ClientID: "client-1", TenantID: "tenant-1", TokenFilePath: tokenFile,
			DisableInstanceDiscovery: true,
		})
		require.NoError(t, err)
		ingestWith(t, e, cred)
	})
	t.Run("managed_identity_app_service", func(t *testing.T) {
		t.Setenv("IDENTITY_ENDPOINT", e.IdentityEndpoint())
		t.Setenv("IDENTITY_HEADER", e.IdentityHeader())
		o := credOpts(e)
		// The emulator's own (random) client id: azidentity caches managed-identity tokens
		// process-wide, and a token from an earlier emulator instance would not verify here.
		cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
			ClientOptions: o, ID: azidentity.ClientID(e.ManagedIdentityClientID())})
		require.NoError(t, err)
		ingestWith(t, e, cred)
		cred, err = azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
			ClientOptions: o, ID: azidentity.ClientID("not-mine")})
		require.NoError(t, err)
		_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{e.Scope()}})
		require.Error(t, err)
	})
	s := e.Stats()
	assert.Equal(t, 1, s.TokenRequests["client_secret"], "%v", s.TokenRequests)
	assert.Equal(t, 1, s.TokenRequests["client_certificate"])
	assert.Equal(t, 1, s.TokenRequests["federated"])
	assert.Equal(t, 1, s.TokenRequests["managed_identity_appservice"])
}

func TestIMDS(t *testing.T) {
	e := startEmu(t, nil)
	get := func(hdr bool, res string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, e.IMDSURL()+"?api-version=2018-02-01&resource="+url.QueryEscape(res), nil)
		if hdr {
			req.Header.Set("Metadata", "true")
		}
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer r.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		return r.StatusCode, m
	}
	st, m := get(false, "https://monitor.azure.com/")
	assert.Equal(t, 400, st)
	assert.Equal(t, "bad_request_102", m["error"])
	st, m = get(true, "https://monitor.azure.com")
	require.Equal(t, 200, st)
	assert.Equal(t, "3599", m["expires_in"])
	r := post(t, e, path(testDCR, testStream), m["access_token"].(string), gz(t, []byte(`[]`)), nil)
	assert.Equal(t, 204, r.status)
	st, _ = get(true, "https://management.azure.com/")
	assert.Equal(t, 400, st)
}

func TestStartRejectsNonLoopback(t *testing.T) {
	_, err := Start(Options{Addr: "0.0.0.0:0"})
	require.Error(t, err)
}
