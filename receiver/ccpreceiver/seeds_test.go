package ccpreceiver

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// The seed documents this project started from must run as written. Their APIs have real
// host names, so the test client dials the local emulator for them; requests keep the real
// Host, which is what the credential-host check looks at.

func clientFor(ts *httptest.Server) *http.Client {
	addr := ts.Listener.Addr().String()
	tr := ts.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, ServerName: "example.com"}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func pollSeed(t *testing.T, cfg *Config, client *http.Client, w window.Window) []string {
	t.Helper()
	require.NoError(t, cfg.Validate())
	loaded, err := cfg.loadDefinition()
	require.NoError(t, err)
	c, err := loaded.Open(connector.Options{HTTPClient: client, Credentials: cfg.credentials()})
	require.NoError(t, err)
	var ids []string
	_, err = c.Poller.PollWindow(context.Background(), w, "", "", func(_ context.Context, p poller.Page) error {
		for _, ev := range p.Events {
			ids = append(ids, gjson.Get(ev, "id").String())
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(ids)
	return ids
}

func TestWalkthroughARMTemplateRuns(t *testing.T) {
	end := vendorapi.DefaultEnd
	srv := vendorapi.New(vendorapi.Config{
		Events: 600, Span: time.Hour, End: end, Path: "/v2/events",
		SinceParam: "start_time", UntilParam: "end_time",
		Auth: vendorapi.AuthOAuth2, ClientID: "cid", ClientSecret: "csecret", TokenPath: "/oauth/token", Scopes: []string{"events:read"},
		Paging: vendorapi.PagingNextPageToken, NextField: "next_page_token", TokenParam: "page_token", EventsPath: "events", PageSize: 50,
	})
	ts := httptest.NewTLSServer(srv)
	defer ts.Close()

	cfg := createDefaultConfig().(*Config)
	cfg.Definition = filepath.Join("..", "..", "internal", "ccp", "connectorfile", "testdata", "walkthrough_template.json")
	cfg.Connector = "SecurityAuditProPoller"
	cfg.Parameters = map[string]configopaque.String{
		"workspace": "ws", "clientId": "cid", "clientSecret": "csecret",
		"dceUri": "https://dce.example.com", "dcrImmutableId": "dcr-00000000000000000000000000000001",
	}
	w := window.Window{Start: end.Add(-30 * time.Minute), End: end.Add(-25 * time.Minute)}
	ids := pollSeed(t, cfg, clientFor(ts), w)
	want := srv.IDsIn(w.Start, w.End)
	sort.Strings(want)
	require.NotEmpty(t, want)
	assert.Equal(t, want, ids, "{datetime:…}/{now:…} are the window bounds; every event once")
	assert.EqualValues(t, 1, srv.TokensIssued(), "one client_credentials token for all pages")

	// The UI definition names what the user must supply.
	cfg.Parameters = nil
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Client Secret")
}

func TestReferenceDocPollingConfigRuns(t *testing.T) {
	end := vendorapi.DefaultEnd
	srv := vendorapi.New(vendorapi.Config{
		Events: 300, Span: time.Hour, End: end, Path: "/acme/audit-log", WindowOptional: true,
		Auth: vendorapi.AuthAPIKey, APIKey: "ghp_secret", APIKeyHeader: "Authorization", APIKeyPrefix: "token",
		Paging: vendorapi.PagingLinkHeader, EventsPath: "-", PageSize: 100,
	})
	ts := httptest.NewTLSServer(srv)
	defer ts.Close()

	cfg := createDefaultConfig().(*Config)
	cfg.Definition = filepath.Join("..", "..", "internal", "ccp", "connectorfile", "testdata", "reference_apipolling.json")
	cfg.Parameters = map[string]configopaque.String{"placeHolder1": "acme"}
	cfg.Credentials.APIKey = "ghp_secret" // the legacy file carries none: Connect supplies it
	w := window.Window{Start: end.Add(-15 * time.Minute), End: end}
	ids := pollSeed(t, cfg, clientFor(ts), w)
	assert.Len(t, ids, 300, "LinkHeader paging walks every page")

	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	first, err := url.ParseQuery(reqs[0].Query)
	require.NoError(t, err)
	assert.Equal(t, "created:2023-12-31T23:45:00Z..2024-01-01T00:00:00Z", first.Get("phrase"))
	assert.Equal(t, reqs[0].Method, "GET")
	for _, r := range reqs {
		assert.False(t, strings.Contains(r.Query, "ghp_secret"))
	}
}
