package nested

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
)

const (
	parentSecret = "parent-s3cret-key"
	childSecret  = "child-s3cret-key"
	headerSecret = "configured-header-s3cret"
	querySecret  = "configured-query-s3cret"
)

// recorder is an HTTP server on 127.0.0.1 that records every request (URL, headers, body) and
// answers each with one event naming its path.
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	seen   []*seenRequest
	parent string // the answer to /parent
}

type seenRequest struct {
	url    string
	header http.Header
	body   string
}

func (s *seenRequest) String() string { return fmt.Sprintf("%s %v %s", s.url, s.header, s.body) }

func newRecorder(t *testing.T, parentEvents string) *recorder {
	rec := &recorder{parent: parentEvents}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.seen = append(rec.seen, &seenRequest{url: r.URL.String(), header: r.Header.Clone(), body: string(b)})
		parent := rec.parent
		rec.mu.Unlock()
		if r.URL.Path == "/parent" {
			writeJSON(w, parent)
			return
		}
		writeJSON(w, fmt.Sprintf(`{"path":%q}`, r.URL.EscapedPath()))
	}))
	t.Cleanup(rec.Close)
	require.True(t, strings.HasPrefix(rec.URL, "http://127.0.0.1:"), rec.URL)
	return rec
}

func (rec *recorder) requests() []*seenRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]*seenRequest(nil), rec.seen...)
}

// childProps builds a poller whose parent lists {"v": ...} records at api/parent and whose
// child step calls endpoint with $v$ filled in; stepAuth is the step's own auth JSON or "".
func credProps(t *testing.T, api, endpoint, stepAuth string) map[string]any {
	if stepAuth != "" {
		stepAuth = `"auth": ` + stepAuth + `,`
	}
	return propsFrom(t, fmt.Sprintf(`{
	  "auth": {"type": "APIKey", "ApiKey": %q, "ApiKeyName": "Authorization", "ApiKeyIdentifier": "SSWS"},
	  "request": {"apiEndpoint": %q},
	  "response": {"eventsJsonPaths": ["$"]},
	  "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "child", "stepPlaceholdersParsingKql": "source | project v = tostring(parse_json(data).v)"}]},
	  "stepCollectorConfigs": {"child": {%s
	    "request": {"apiEndpoint": %q, "headers": {"X-Configured": %q, "Accept": "application/json"},
	      "queryParameters": {"api_key": %q}},
	    "response": {"eventsJsonPaths": ["$"]}}}
	}`, parentSecret, api+"/parent", stepAuth, endpoint, headerSecret, querySecret))
}

func pollLogged(t *testing.T, props map[string]any, client *http.Client) ([]string, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.WarnLevel)
	out, _, err := pollNested(t, props, client, auth.Credentials{}, Options{Engine: poller0(zap.New(core))})
	require.NoError(t, err)
	return out, logs
}

// assertClean fails when a request carries any credential or configured header.
func assertClean(t *testing.T, reqs []*seenRequest) {
	t.Helper()
	for _, r := range reqs {
		for _, s := range []string{parentSecret, childSecret, headerSecret, querySecret} {
			assert.NotContains(t, r.String(), s, "a credential reached another origin")
		}
		assert.Empty(t, r.header.Get("Authorization"), r.url)
		assert.Empty(t, r.header.Get("X-Configured"), r.url)
	}
}

// TestSubstitutedValueCannotMoveCredentials: a placeholder right after the host (Salesforce's
// relative-URL pattern) whose value starts with "@" moves the child call to another origin;
// that call goes without the inherited or own credentials and without configured headers,
// with one warning naming the step, while same-origin values still get them.
func TestSubstitutedValueCannotMoveCredentials(t *testing.T) {
	for _, tc := range []struct{ name, stepAuth, want string }{
		{"inherited auth", "", "SSWS " + parentSecret},
		{"own auth", fmt.Sprintf(`{"type": "APIKey", "ApiKey": %q, "ApiKeyName": "Authorization", "ApiKeyIdentifier": "SSWS"}`, childSecret), "SSWS " + childSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evil := newRecorder(t, `[]`)
			evilHost := strings.TrimPrefix(evil.URL, "http://")
			api := newRecorder(t, fmt.Sprintf(`[{"v":"/items/1"},{"v":"@%s/stolen1"},{"v":"@%s/stolen2"}]`, evilHost, evilHost))
			out, logs := pollLogged(t, credProps(t, api.URL, api.URL+"$v$", tc.stepAuth), api.Client())
			assert.ElementsMatch(t, []string{`{"path":"/items/1"}`, `{"path":"/stolen1"}`, `{"path":"/stolen2"}`}, out)

			require.Len(t, evil.requests(), 2, "the off-origin URLs are still called")
			assertClean(t, evil.requests())
			var child *seenRequest
			for _, r := range api.requests() {
				if strings.HasPrefix(r.url, "/items/1") {
					child = r
				}
			}
			require.NotNil(t, child, "same-origin child call")
			assert.Equal(t, tc.want, child.header.Get("Authorization"))
			assert.Equal(t, headerSecret, child.header.Get("X-Configured"))
			assert.Contains(t, child.url, "api_key="+querySecret, "configured query parameters go to the step's origin")

			warns := logs.FilterMessageSnippet("not on the origin the definition names").All()
			require.Len(t, warns, 1, "one warning per step")
			assert.Equal(t, "properties.stepCollectorConfigs.child", warns[0].ContextMap()["step"])
			assert.Equal(t, evil.URL, warns[0].ContextMap()["url_origin"])
			assert.Equal(t, api.URL, warns[0].ContextMap()["definition_origin"])
		})
	}
}

// TestHostPlaceholderNeverGetsCredentials: when the host itself is a placeholder, the step has
// no static origin: a warning at load names it, and no call carries credentials, not even one
// that lands on the parent's own host.
func TestHostPlaceholderNeverGetsCredentials(t *testing.T) {
	evil := newRecorder(t, `[]`)
	api := newRecorder(t, "")
	apiHost, evilHost := strings.TrimPrefix(api.URL, "http://"), strings.TrimPrefix(evil.URL, "http://")
	api.mu.Lock()
	api.parent = fmt.Sprintf(`[{"v":%q},{"v":%q}]`, evilHost, apiHost)
	api.mu.Unlock()
	props := credProps(t, api.URL, "http://$v$/data", "")
	out, logs := pollLogged(t, props, api.Client())
	assert.Len(t, out, 2)
	require.Len(t, evil.requests(), 1)
	assertClean(t, evil.requests())
	var fromChild []*seenRequest
	for _, r := range api.requests() {
		if r.url != "/parent" {
			fromChild = append(fromChild, r)
		}
	}
	require.Len(t, fromChild, 1)
	assertClean(t, fromChild)

	run, err := New(props, nil, Options{})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(run.Warnings(), "\n"),
		`properties.stepCollectorConfigs.child.request.apiEndpoint: "http://$v$/data" takes its scheme or host from a $placeholder$`)
	w := logs.FilterMessageSnippet("not on the origin").All()
	require.Len(t, w, 1)
	assert.Equal(t, "none: the host is a $placeholder$", w[0].ContextMap()["definition_origin"])
}

// TestSubstitutedValuesAreEscapedForTheirPosition: in the path a value cannot start a query,
// a fragment or reach the authority ("@host" stays a path segment, on the API's origin with
// its credentials); in the query it is one value (it cannot add parameters).
func TestSubstitutedValuesAreEscapedForTheirPosition(t *testing.T) {
	evil := newRecorder(t, `[]`)
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	api := newRecorder(t, fmt.Sprintf(`[{"v":"@%s/x?admin=1#f"},{"v":"a&admin=1 b"}]`, evilHost))
	out, _ := pollLogged(t, credProps(t, api.URL, api.URL+"/items/$v$?name=$v$", ""), api.Client())
	assert.Len(t, out, 2)
	assert.Empty(t, evil.requests())
	var got []string
	for _, r := range api.requests() {
		if r.url == "/parent" {
			continue
		}
		got = append(got, r.url)
		assert.Equal(t, "SSWS "+parentSecret, r.header.Get("Authorization"))
	}
	assert.ElementsMatch(t, []string{
		"/items/@" + evilHost + "/x%3Fadmin=1%23f?name=%40" + strings.ReplaceAll(evilHost, ":", "%3A") + "%2Fx%3Fadmin%3D1%23f&api_key=" + querySecret,
		"/items/a&admin=1%20b?name=a%26admin%3D1+b&api_key=" + querySecret,
	}, got)
}

// offHostTransport answers every request without network and records it, so host names other
// than 127.0.0.1 can be used.
type offHostTransport struct {
	mu   sync.Mutex
	seen map[string]*seenRequest // by host
}

func (tr *offHostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tr.mu.Lock()
	tr.seen[r.URL.Host] = &seenRequest{url: r.URL.String(), header: r.Header.Clone()}
	tr.mu.Unlock()
	body := `[{"v":"/ok"},{"v":".evil.example/steal"}]`
	if r.URL.Path != "/parent" {
		body = `{"ok":true}`
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// TestHostSuffixValueGetsNoCredentials: ".evil.example" appended after a base host makes the
// child call go to "api.example.com.evil.example": without credentials or configured headers.
func TestHostSuffixValueGetsNoCredentials(t *testing.T) {
	tr := &offHostTransport{seen: map[string]*seenRequest{}}
	props := credProps(t, "https://api.example.com", "https://api.example.com$v$", "")
	out, _ := pollLogged(t, props, &http.Client{Transport: tr})
	assert.Len(t, out, 2)
	evil := tr.seen["api.example.com.evil.example"]
	require.NotNil(t, evil)
	assertClean(t, []*seenRequest{evil})
	assert.Equal(t, "SSWS "+parentSecret, tr.seen["api.example.com"].header.Get("Authorization"))
}

func TestStaticOrigin(t *testing.T) {
	for tmpl, want := range map[string]string{
		"https://api.example.com/x/$id$":        "https://api.example.com:443",
		"https://API.example.com:8443?q=$id$":   "https://api.example.com:8443",
		"https://sf.example.com$logFileUrl$":    "https://sf.example.com:443",
		"http://h.example/static":               "http://h.example:80",
		"https://$host$/x":                      "",
		"https://api.$region$.example.com/x":    "",
		"https://api-$region$/x":                "",
		"https://api.example.com:$port$/x":      "",
		"https://h.example$tld$.evil":           "",
		"$base$/x":                              "",
		"ftp://h.example/$x$":                   "",
		"https://user@$host$/x":                 "",
		"https://h.example$a$$b$":               "https://h.example:443",
		"https://[::1]:8080/$x$":                "https://[::1]:8080",
		"https://h.example/$a$/b?c=$d$#e":       "https://h.example:443",
		"  https://h.example/trimmed/$a$  ":     "https://h.example:443",
		"https://h.example$rel$/after":          "https://h.example:443",
		"https://h.example$rel$?q=1":            "https://h.example:443",
		"https://h.example#$frag$":              "https://h.example:443",
		"https://h.example?$q$":                 "https://h.example:443",
		"https://h.example/$x$@evil.example/":   "https://h.example:443",
		"https://h.example$x$@evil.example/":    "",
		"https://h.example:443$rest$":           "https://h.example:443",
		"https://h.example:$port$":              "",
		"https://h.example:443/$p$":             "https://h.example:443",
		"http://h.example:80/":                  "http://h.example:80",
		"https://h.example/$dollar$literal$":    "https://h.example:443",
		"https://h.example.$x$/":                "",
		"HTTPS://H.EXAMPLE/$x$":                 "https://h.example:443",
		"https://h.example/path?x=$a$&y=$b$#$c": "https://h.example:443",
	} {
		o, ok := staticOrigin(tmpl)
		if want == "" {
			assert.False(t, ok, tmpl)
			continue
		}
		if assert.True(t, ok, tmpl) {
			assert.Equal(t, want, o.String(), tmpl)
		}
	}
}
