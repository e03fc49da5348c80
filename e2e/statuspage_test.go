package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

const (
	goodKey = "e2e-good-key-4b7d2a"
	// badKey is refused, and echoed back by the refusing API: it must never reach a page.
	badKey = "e2e-refused-key-8c1f6e93d0"
)

// The built distro runs two connectors and ccp_status; headless Chromium loads the pages and
// the test reads the rendered DOM: both connectors with the right badges, the refused one's
// error shown without its key, the 14-day chart drawn with points, no console error (a CSP
// violation is one). A screenshot is saved in the test's temporary folder (and in
// CCP_SCREENSHOT_DIR when set).
func TestStatusPageInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser end-to-end test: not run with -short")
	}
	b := newBrowser(t)
	checkConsoleDetection(t, b)

	vendor, err := vendorapi.New(vendorapi.Config{Events: 600, Span: 2 * time.Hour,
		End: time.Now().UTC().Add(time.Hour).Truncate(time.Minute), Auth: vendorapi.AuthAPIKey,
		APIKey: goodKey, APIKeyHeader: "X-Api-Key", Paging: vendorapi.PagingNextPageToken, PageSize: 100}).Start("127.0.0.1:0")
	require.NoError(t, err)
	defer vendor.Close()
	refusing := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, `{"error":"invalid API key %s"}`, r.Header.Get("X-Api-Key"))
	}))

	dir := t.TempDir()
	page := "127.0.0.1:" + freePort(t)
	config := writeStatusConfig(t, dir, vendor.URL(), refusing, page)
	p := startCollector(t, nil, config)
	base := "http://" + page
	waitForWindows(t, p, base)

	index, console := b.dom(base + "/")
	assert.Empty(t, console, "console messages on /")
	checkIndex(t, index)

	detail, console := b.dom(base + "/connectors/ccp%2Fhealthy")
	assert.Empty(t, console, "console messages on the connector page")
	checkConnectorPage(t, detail)

	refused, console := b.dom(base + "/connectors/ccp%2Frefused")
	assert.Empty(t, console, "console messages on the refused connector's page")
	assert.NotContains(t, refused, badKey)
	assert.Contains(t, refused, "invalid API key [REDACTED]")

	shot := b.screenshot(base+"/", t.TempDir(), "status.png")
	t.Logf("screenshot: %s", shot)
	if out := os.Getenv("CCP_SCREENSHOT_DIR"); out != "" {
		raw, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, "status.png"), raw, 0o644))
		raw, err = os.ReadFile(b.screenshot(base+"/connectors/ccp%2Fhealthy", t.TempDir(), "connector.png"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, "connector.png"), raw, 0o644))
	}
	p.stop(t)
	assert.NotContains(t, p.out.String(), badKey, "the refused key reached the collector's log")
}

// checkConsoleDetection proves the console check can fail: a page whose inline script the CSP
// blocks must produce a console message.
func checkConsoleDetection(t *testing.T, b *browser) {
	t.Helper()
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!DOCTYPE html><title>control</title><p>control</p><script>document.title="ran"</script>`)
	}))
	dom, console := b.dom("http://" + addr + "/")
	require.Contains(t, dom, "<p>control</p>")
	require.NotEmpty(t, console, "a CSP violation must show as a console message, or the no-console-error check proves nothing")
}

var (
	rowRe      = regexp.MustCompile(`<tr class="connector" data-id="([^"]+)" data-status="([^"]+)">([\s\S]*?)</tr>`)
	pointsRe   = regexp.MustCompile(`<polyline class="line" points="([^"]*)"`)
	coordRe    = regexp.MustCompile(`^\d+(\.\d+)?,\d+(\.\d+)?$`)
	badgeRe    = regexp.MustCompile(`<span class="badge badge-([a-z]+)">([A-Za-z]+)</span>`)
	errorDivRe = regexp.MustCompile(`<div class="error">([^<]*)</div>`)
)

func checkIndex(t *testing.T, dom string) {
	t.Helper()
	rows := map[string][]string{}
	for _, m := range rowRe.FindAllStringSubmatch(dom, -1) {
		rows[m[1]] = m
	}
	require.Contains(t, rows, "ccp/healthy", "the healthy connector is listed")
	require.Contains(t, rows, "ccp/refused", "the refused connector is listed")

	healthy := rows["ccp/healthy"]
	assert.Equal(t, "Connected", healthy[2])
	assert.Equal(t, []string{"connected", "Connected"}, badgeRe.FindStringSubmatch(healthy[3])[1:])
	assert.Contains(t, healthy[3], "Acme Security Events", "the title comes from connectorUiConfig")
	assert.Contains(t, healthy[3], "Acme Corp")
	checkChart(t, healthy[3], true)

	refused := rows["ccp/refused"]
	assert.Contains(t, []string{"Degraded", "Failed"}, refused[2])
	badge := badgeRe.FindStringSubmatch(refused[3])
	require.NotNil(t, badge)
	assert.Equal(t, refused[2], badge[2])
	assert.Equal(t, strings.ToLower(refused[2]), badge[1])
	errDiv := errorDivRe.FindStringSubmatch(refused[3])
	require.NotNil(t, errDiv, "the refused connector's error is shown")
	assert.Contains(t, errDiv[1], "401")
	assert.Contains(t, errDiv[1], "invalid API key [REDACTED]")
	assert.NotContains(t, dom, badKey, "the refused key is shown nowhere")
	assert.NotContains(t, dom, goodKey)
	checkChart(t, refused[3], false)
}

// checkChart finds the 14-day chart: one point per hour, some above the baseline when events came.
func checkChart(t *testing.T, html string, events bool) {
	t.Helper()
	m := pointsRe.FindStringSubmatch(html)
	require.NotNil(t, m, "an SVG polyline is drawn")
	pts := strings.Fields(m[1])
	assert.Len(t, pts, 14*24, "one point per hour over 14 days")
	ys := map[string]bool{}
	for _, p := range pts {
		require.Regexp(t, coordRe, p)
		ys[p[strings.IndexByte(p, ',')+1:]] = true
	}
	assert.Equal(t, events, len(ys) > 1, "points above the baseline exactly when events came")
}

func checkConnectorPage(t *testing.T, dom string) {
	t.Helper()
	assert.Contains(t, dom, "<h2>Acme Security Events")
	assert.Contains(t, dom, `<a href="https://acme.example/docs">Acme docs</a>`, "the description is rendered")
	assert.NotContains(t, dom, "alert(", "the description's script and handlers are gone")
	assert.Contains(t, dom, "Events per hour, last 14 days: AcmeEvents_CL")
	checkChart(t, dom, true)
	assert.Contains(t, dom, `<circle class="dot"`, "hours with events are drawn as points")
	assert.Contains(t, dom, `<table class="history">`)
	assert.Contains(t, dom, `class="outcome-success"`)
	assert.Contains(t, dom, `<table class="trace">`)
	assert.Contains(t, dom, "/api/v1/events?")
	assert.Contains(t, dom, `<code id="query-0">AcmeEvents_CL | take 10</code>`, "sample query ready to copy")
	assert.Contains(t, dom, "An Acme API key with the audit:read scope.")
	assert.NotContains(t, dom, goodKey)
}

// waitForWindows polls the JSON API until the healthy connector completed a window with events
// and the refused one failed one.
func waitForWindows(t *testing.T, p *proc, base string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	waitUntil(t, p, "a completed window of ccp/healthy and a failure of ccp/refused", 2*time.Minute, func() bool {
		resp, err := client.Get(base + "/api/v1/connectors")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var list struct {
			Connectors []struct {
				ID                  string          `json:"id"`
				LastError           string          `json:"last_error"`
				EventsLast14Days    int64           `json:"events_last_14_days"`
				LastCompletedWindow json.RawMessage `json:"last_completed_window"`
			} `json:"connectors"`
		}
		if json.NewDecoder(resp.Body).Decode(&list) != nil {
			return false
		}
		ok := 0
		for _, c := range list.Connectors {
			if (c.ID == "ccp/healthy" && c.LastCompletedWindow != nil && c.EventsLast14Days > 0) ||
				(c.ID == "ccp/refused" && c.LastError != "") {
				ok++
			}
		}
		return ok == 2
	})
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, err)
	return port
}
