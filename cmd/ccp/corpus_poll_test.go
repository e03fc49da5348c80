package main

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// TestCorpusPollOktaSSOv2 runs the real Okta SSO v2 corpus file, unmodified, against an
// emulator shaped like its API (HTTPS, Authorization: SSWS <key>, since/until, LinkHeader,
// bare-array body) for two consecutive windows and checks that every event comes out exactly
// once. This is the first poller of the corpus test; the other shapes are not covered
// yet.
func TestCorpusPollOktaSSOv2(t *testing.T) {
	const key = "00okta-real-file-key-123"
	end := vendorapi.DefaultEnd
	srv := vendorapi.New(vendorapi.Config{Events: 120, Span: 10 * time.Minute, End: end, Path: "/api/v1/logs",
		Auth: vendorapi.AuthAPIKey, APIKey: key, APIKeyPrefix: "SSWS",
		Paging: vendorapi.PagingLinkHeader, EventsPath: "-", PageSize: 100})
	ts := httptest.NewTLSServer(srv)
	defer ts.Close()
	old := pollTransport
	pollTransport = ts.Client().Transport
	t.Cleanup(func() { pollTransport = old })

	file := corpusFile(t, "Okta_Single_Sign-On__OktaSSOv2_PollingConfig.json")
	params := []string{"--parameters", "domainname=" + ts.Listener.Addr().String(), "apikey=" + key,
		"dataCollectionEndpoint=https://dce.example.com", "dataCollectionRuleImmutableId=dcr-0123456789abcdef0123456789abcdef"}
	seen := map[string]int{}
	for _, now := range []time.Time{end.Add(-5 * time.Minute), end} { // two 5-minute windows
		setPollNow(t, now)
		code, out, trace := runCCP(t, append([]string{"poll", file, "--once"}, params...)...)
		require.Equal(t, exitOK, code, trace)
		lo, hi := srv.EventsIn(now.Add(-5*time.Minute), now)
		assertEvents(t, srv, out, lo, hi)
		assertNoSecret(t, trace, key)
		for i := lo; i < hi; i++ {
			seen[srv.EventID(i)]++
		}
	}
	require.Len(t, seen, 120)
	for id, n := range seen {
		require.Equal(t, 1, n, id)
		require.Equal(t, 1, srv.ServedCount(id), id)
	}
}
