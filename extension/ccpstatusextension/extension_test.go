package ccpstatusextension

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

func TestConfigValidate(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, DefaultEndpoint, cfg.ServerConfig.NetAddr.Endpoint)
	cfg.ServerConfig.NetAddr.Endpoint = ""
	cfg.SaveInterval = 0
	err := cfg.Validate()
	assert.ErrorContains(t, err, "endpoint")
	assert.ErrorContains(t, err, "save_interval")
}

func twoConnectors(t *testing.T, reg *connstate.Registry) {
	t.Helper()
	ok := reg.Register(connstate.Identity{ID: "ccp/okta", Name: "okta", Kind: "RestApiPoller", Source: "polling_config",
		DataType: "Okta_CL", StreamName: "Custom-Okta_CL", WindowSize: time.Minute})
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	window(ok, start, 42, "")
	window(ok, start.Add(time.Minute), 8, "")
	ok.Traced(connstate.Trace{Time: time.Now(), Method: "GET", URL: "https://api.example/logs?token=***", Status: 200, Duration: 12 * time.Millisecond, Bytes: 345})
	bad := reg.Register(connstate.Identity{ID: "ccp/bad", Name: "bad", Kind: "RestApiPoller", Source: "polling_config"})
	for i := 0; i < connstate.FailedAfter; i++ {
		window(bad, start, 0, "401 Unauthorized: invalid key ***")
	}
}

func TestPagesListConnectorsWithBadgesChartAndErrors(t *testing.T) {
	reg := connstate.NewRegistry()
	twoConnectors(t, reg)
	_, base := startExt(t, reg, nil, nil)

	a := get(t, base+"/")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.Equal(t, contentSecurityPolicy, a.header.Get("Content-Security-Policy"))
	assert.Equal(t, "nosniff", a.header.Get("X-Content-Type-Options"))
	assert.Contains(t, a.header.Get("Content-Type"), "text/html")
	assert.Contains(t, a.body, `data-id="ccp/okta" data-status="Connected"`)
	assert.Contains(t, a.body, `<span class="badge badge-connected">Connected</span>`)
	assert.Contains(t, a.body, `<span class="badge badge-failed">Failed</span>`)
	assert.Contains(t, a.body, "401 Unauthorized: invalid key ***")
	assert.Contains(t, a.body, `href="/connectors/ccp%2Fokta"`)
	assert.Contains(t, a.body, "<polyline")
	assert.Contains(t, a.body, "50 events")
	assert.NotContains(t, a.body, "<script>", "no inline script")
	assert.NotContains(t, a.body, "style=", "no inline style (the CSP forbids it)")

	for _, path := range []string{"/connectors/ccp%2Fokta", "/connectors/ccp/okta"} {
		p := get(t, base+path)
		require.Equal(t, http.StatusOK, p.status, path)
		assert.Contains(t, p.body, "https://api.example/logs?token=***")
		assert.Contains(t, p.body, `<table class="history">`)
		assert.Equal(t, 2, strings.Count(p.body, `class="outcome-success"`))
		assert.Contains(t, p.body, "Events per hour, last 14 days: Okta_CL")
		assert.Contains(t, p.body, `<circle class="dot"`)
		assert.Contains(t, p.body, `<script src="/static/copy.js"></script>`)
	}
	assert.Equal(t, http.StatusNotFound, get(t, base+"/connectors/ccp%2Fnope").status)
	assert.Equal(t, http.StatusMethodNotAllowed, do(t, http.MethodPost, base+"/").status)
	css := get(t, base+"/static/style.css")
	assert.Equal(t, http.StatusOK, css.status)
	assert.Contains(t, css.header.Get("Content-Type"), "text/css")
}

func TestAPI(t *testing.T) {
	reg := connstate.NewRegistry()
	twoConnectors(t, reg)
	_, base := startExt(t, reg, nil, nil)

	a := get(t, base+"/api/v1/connectors")
	require.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, a.header.Get("Content-Type"), "application/json")
	assert.Equal(t, "nosniff", a.header.Get("X-Content-Type-Options"))
	var list struct {
		Connectors []map[string]any `json:"connectors"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.body), &list))
	require.Len(t, list.Connectors, 2)
	bad, ok := list.Connectors[0], list.Connectors[1]
	assert.Equal(t, "ccp/bad", bad["id"])
	assert.Equal(t, "Failed", bad["status"])
	assert.Equal(t, "401 Unauthorized: invalid key ***", bad["last_error"])
	assert.EqualValues(t, 3, bad["consecutive_failures"])
	assert.Nil(t, bad["last_completed_window"])
	assert.Equal(t, "Connected", ok["status"])
	assert.Equal(t, "okta", ok["title"], "no connectorUiConfig: the title is the name")
	assert.Equal(t, "/connectors/ccp%2Fokta", ok["page"])
	assert.EqualValues(t, 50, ok["events_last_14_days"])
	assert.Len(t, ok["hourly_events"], connstate.CountDays*24)
	assert.NotNil(t, ok["lag_seconds"])
	assert.NotNil(t, ok["last_data_received"])
	w := ok["last_completed_window"].(map[string]any)
	assert.EqualValues(t, 8, w["records"])

	d := get(t, base+"/api/v1/connectors/ccp%2Fokta")
	require.Equal(t, http.StatusOK, d.status)
	var one map[string]any
	require.NoError(t, json.Unmarshal([]byte(d.body), &one))
	assert.Equal(t, "ccp/okta", one["id"])
	assert.Equal(t, []any{"Okta_CL"}, one["data_types"])
	require.Len(t, one["history"], 2)
	h := one["history"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 8, h["records"], "newest first")
	assert.Equal(t, "success", h["outcome"])
	req := one["requests"].([]any)[0].(map[string]any)
	assert.Equal(t, "https://api.example/logs?token=***", req["url"])
	assert.EqualValues(t, 200, req["status"])
	assert.EqualValues(t, 345, req["bytes"])

	nf := get(t, base+"/api/v1/connectors/nope")
	assert.Equal(t, http.StatusNotFound, nf.status)
	assert.JSONEq(t, `{"error":"no such connector"}`, nf.body)
}

const hostileDescription = "Hello **world** [ok](https://example.com/docs).\n\n" +
	"<script>alert(1)</script>\n\n" +
	"[a](javascript:alert(1)) [b](JaVaScRiPt:alert(2)) [c](  javascript&#58;alert(3)) [d](data:text/html,x) [e](vbscript:x)\n\n" +
	"<javascript:alert(4)>\n\n" +
	`<img src=x onerror="alert(5)"> <a href="#" onclick="alert(6)">click</a> <div onmouseover=alert(7)>x</div>` + "\n\n" +
	"![remote](https://evil.example/track.png) inline <span onclick=alert(8)>s</span>\n"

// Markup that could run: a script element, an event-handler attribute, a dangerous URL in an
// attribute, an element that loads something.
var loader = regexp.MustCompile(`<(?:img|iframe|object|embed|svg|math|style|link|form|input|meta)\b`)

func assertInert(t *testing.T, page string, scripts int, where string) {
	t.Helper()
	low := strings.ToLower(page)
	assert.Equal(t, scripts, strings.Count(low, "<script"), "%s: script elements", where)
	assert.Equal(t, scripts, strings.Count(low, `<script src="/static/copy.js"></script>`), "%s: only the same-origin copy script", where)
	for _, a := range attributes(low) {
		assert.False(t, strings.HasPrefix(a.name, "on"), "%s: event-handler attribute %s on <%s>", where, a.name, a.tag)
		if a.name == "href" || a.name == "src" || a.name == "action" {
			v := strings.TrimSpace(a.value)
			assert.True(t, strings.HasPrefix(v, "/") || strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "#"),
				"%s: <%s %s=%q>", where, a.tag, a.name, v)
		}
	}
}

type attr struct{ tag, name, value string }

// attributes lists the attributes of every tag of an HTML text, quotes respected (the page's
// own markup only: definition strings are escaped, so they hold no '<').
func attributes(s string) []attr {
	var out []attr
	for i := 0; i < len(s); i++ {
		if strings.HasPrefix(s[i:], "<!--") {
			if j := strings.Index(s[i:], "-->"); j >= 0 {
				i += j + 2
			}
			continue
		}
		if s[i] != '<' || i+1 >= len(s) || s[i+1] < 'a' || s[i+1] > 'z' {
			continue
		}
		j := i + 1
		for j < len(s) && !strings.ContainsRune(" \t\n/>", rune(s[j])) {
			j++
		}
		tag := s[i+1 : j]
		for j < len(s) && s[j] != '>' {
			if strings.ContainsRune(" \t\n/", rune(s[j])) {
				j++
				continue
			}
			k := j
			for k < len(s) && !strings.ContainsRune(" \t\n/>=", rune(s[k])) {
				k++
			}
			a := attr{tag: tag, name: s[j:k]}
			j = k
			if j < len(s) && s[j] == '=' {
				j++
				if j < len(s) && (s[j] == '"' || s[j] == '\'') {
					q := s[j]
					e := strings.IndexByte(s[j+1:], q)
					if e < 0 {
						e = len(s) - j - 1
					}
					a.value, j = s[j+1:j+1+e], j+2+e
				} else {
					k = j
					for k < len(s) && !strings.ContainsRune(" \t\n>", rune(s[k])) {
						k++
					}
					a.value, j = s[j:k], k
				}
			}
			out = append(out, a)
		}
		i = j
	}
	return out
}

func TestMarkdownIsSanitized(t *testing.T) {
	out := string(renderMarkdown(hostileDescription))
	assertInert(t, out, 0, "description")
	assert.Empty(t, loader.FindAllString(strings.ToLower(out), -1))
	low := strings.ToLower(out)
	for _, bad := range []string{"<script", "onerror", "onclick", "onmouseover", "evil.example", `href=""`} {
		assert.NotContains(t, low, bad)
	}
	assert.Contains(t, out, `<a href="https://example.com/docs">ok</a>`)
	assert.Contains(t, out, "<strong>world</strong>")
	assert.Contains(t, out, "remote", "an image keeps its alt text")
}

// A definition file whose UI strings carry markup: the page escapes or sanitizes every one.
func TestDefinitionStringsAreEscaped(t *testing.T) {
	ui := map[string]any{"id": "X", "title": `<script>alert("title")</script>Evil`, "publisher": `<b onclick=alert(1)>pub</b>`,
		"descriptionMarkdown": hostileDescription, "dataTypes": []any{map[string]any{"name": `<img src=x onerror=alert(2)>`}},
		"sampleQueries":    []any{map[string]any{"description": "q", "query": "T </code></pre><script>alert(3)</script>"}},
		"permissions":      map[string]any{"customs": []any{map[string]any{"name": "<script>p</script>", "description": "<i onclick=x>"}}},
		"instructionSteps": []any{map[string]any{"title": "<script>s</script>", "description": "<img src=x onerror=alert(4)>"}}}
	def := map[string]any{"pollingConfig": map[string]any{"auth": map[string]any{"authType": "APIKey"},
		"request": map[string]any{"apiEndpoint": "https://127.0.0.1:1/x"}}, "connectorUiConfig": ui}
	path := filepath.Join(t.TempDir(), "hostile.json")
	raw, err := json.Marshal(def)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o600))

	reg := connstate.NewRegistry()
	reg.Register(connstate.Identity{ID: "ccp/hostile", Name: "hostile", Kind: "APIPolling", Source: path})
	_, base := startExt(t, reg, nil, nil)
	for p, scripts := range map[string]int{"/": 0, "/connectors/ccp%2Fhostile": 1} {
		body := get(t, base+p).body
		assert.Contains(t, body, "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;Evil", p)
		assertInert(t, body, scripts, p)
		low := strings.ToLower(body)
		counts := map[string]int{}
		for _, el := range loader.FindAllString(low, -1) {
			counts[el]++
		}
		assert.Equal(t, 3, counts["<meta"], p)
		assert.Equal(t, 2, counts["<link"], "%s: the icon and the style sheet", p)
		delete(counts, "<meta")
		delete(counts, "<link")
		delete(counts, "<svg")
		assert.Empty(t, counts, "%s: only the layout's elements and the chart load or style anything", p)
		assert.NotContains(t, low, "<b onclick", p)
		assert.NotContains(t, low, "<i onclick", p)
	}
	page := get(t, base+"/connectors/ccp%2Fhostile").body
	assert.Contains(t, page, "T &lt;/code&gt;&lt;/pre&gt;&lt;script&gt;alert(3)&lt;/script&gt;", "the sample query is text")
	assert.Contains(t, page, `<a href="https://example.com/docs">ok</a>`)
}

// The checker itself finds what it looks for (so a passing page test means something).
func TestAttributesCheckerFindsHandlersAndURLs(t *testing.T) {
	got := attributes(`<p>x</p><img src=x onerror=alert(1)><!-- <a onclick=y> --><a href='javascript:x' title="a > b">`)
	assert.Equal(t, []attr{{"img", "src", "x"}, {"img", "onerror", "alert(1)"}, {"a", "href", "javascript:x"}, {"a", "title", "a > b"}}, got)
	ft := &testing.T{}
	assertInert(ft, `<img src=x onerror=alert(1)>`, 0, "bad")
	assert.True(t, ft.Failed())
}
