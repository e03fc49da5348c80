package nested

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
)

func propsFrom(t *testing.T, text string) map[string]any {
	t.Helper()
	v, err := connectorfile.ParseJSON([]byte(text))
	require.NoError(t, err)
	return v.(map[string]any)
}

// orgServer is a strict parent/child API: GET /orgs lists orgs, GET /orgs/{id}/events lists
// an org's events (404 for unknown ids), every call needs the API key. It tracks the
// maximum number of concurrent child calls.
type orgServer struct {
	*httptest.Server
	orgs     []string
	events   map[string][]string
	delay    time.Duration
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	calls    atomic.Int32
	fail     string // an org id whose events answer 500
}

func newOrgServer(t *testing.T, orgs []string, events map[string][]string) *orgServer {
	s := &orgServer{orgs: orgs, events: events}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Key") != "secret" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/orgs" {
			var parts []string
			for _, o := range s.orgs {
				parts = append(parts, fmt.Sprintf(`{"id":%q,"meta":{"region":"eu"}}`, o))
			}
			writeJSON(w, "["+strings.Join(parts, ",")+"]")
			return
		}
		id, ok := strings.CutPrefix(r.URL.Path, "/orgs/")
		id, ok2 := strings.CutSuffix(id, "/events")
		evs, known := s.events[id]
		if !ok || !ok2 || !known {
			t.Errorf("unexpected request %s", r.URL)
			http.NotFound(w, r)
			return
		}
		s.calls.Add(1)
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for {
			m := s.maxSeen.Load()
			if n <= m || s.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		if s.delay > 0 {
			time.Sleep(s.delay)
		}
		if id == s.fail {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		writeJSON(w, "["+strings.Join(evs, ",")+"]")
	}))
	t.Cleanup(s.Close)
	return s
}

// orgProps is a poller over orgServer with one child step; child is the step's extra JSON.
func orgProps(t *testing.T, url, kql, child string) map[string]any {
	return propsFrom(t, fmt.Sprintf(`{
	  "auth": {"type": "APIKey", "ApiKey": "secret", "ApiKeyName": "X-Key"},
	  "request": {"apiEndpoint": %q, "httpMethod": "GET"},
	  "response": {"eventsJsonPaths": ["$"]},
	  "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "events", "stepPlaceholdersParsingKql": %q}]},
	  "stepCollectorConfigs": {"events": {
	    "request": {"apiEndpoint": %q, "httpMethod": "GET"},
	    "response": {"eventsJsonPaths": ["$"]}%s}}
	}`, url+"/orgs", kql, url+"/orgs/$orgId$/events", child))
}

const orgKQL = "source | project orgId = tostring(parse_json(data).id)"

func TestJoinShapes(t *testing.T) {
	srv := newOrgServer(t, []string{"none", "one", "two"}, map[string][]string{
		"none": {}, "one": {`{"e":1}`}, "two": {`{"e":2}`, `{"e":3}`},
	})
	props := orgProps(t, srv.URL, orgKQL, `, "shouldJoinNestedData": true, "joinedDataStepName": "events.v1"`)
	out, _, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		`{"id":"none","meta":{"region":"eu"}}`,
		`{"id":"one","meta":{"region":"eu"},"events.v1":{"e":1}}`,
		`{"id":"two","meta":{"region":"eu"},"events.v1":[{"e":2},{"e":3}]}`,
	}, out)
}

func TestMixedJoinAndEmit(t *testing.T) {
	srv := newOrgServer(t, []string{"a"}, map[string][]string{"a": {`{"e":1}`, `{"e":2}`}})
	props := propsFrom(t, fmt.Sprintf(`{
	  "auth": {"type": "APIKey", "ApiKey": "secret", "ApiKeyName": "X-Key"},
	  "request": {"apiEndpoint": %q},
	  "response": {"eventsJsonPaths": ["$"]},
	  "stepInfo": {"stepType": "Nested", "nextSteps": [
	    {"stepId": "joined", "stepPlaceholdersParsingKql": %q},
	    {"stepId": "emitted", "stepPlaceholdersParsingKql": %q}]},
	  "stepCollectorConfigs": {
	    "joined": {"shouldJoinNestedData": true, "joinedDataStepName": "ev",
	      "request": {"apiEndpoint": %q}, "response": {"eventsJsonPaths": ["$"]}},
	    "emitted": {"shouldJoinNestedData": false,
	      "request": {"apiEndpoint": %q}, "response": {"eventsJsonPaths": ["$"]}}}
	}`, srv.URL+"/orgs", orgKQL, orgKQL, srv.URL+"/orgs/$orgId$/events", srv.URL+"/orgs/$orgId$/events"))
	out, _, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{`{"id":"a","meta":{"region":"eu"},"ev":[{"e":1},{"e":2}]}`, `{"e":1}`, `{"e":2}`}, out)
}

func TestParallelismBounded(t *testing.T) {
	var orgs []string
	events := map[string][]string{}
	for i := range 24 {
		id := fmt.Sprintf("o%02d", i)
		orgs = append(orgs, id)
		events[id] = []string{fmt.Sprintf(`{"org":%q}`, id)}
	}
	srv := newOrgServer(t, orgs, events)
	srv.delay = 20 * time.Millisecond
	props := orgProps(t, srv.URL, orgKQL, `, "request": {"apiEndpoint": "`+srv.URL+`/orgs/$orgId$/events", "maxParallelism": 15}`)
	out, _, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{MaxParallelism: 3})
	require.NoError(t, err)
	require.Len(t, out, 24)
	for i, ev := range out {
		assert.Equal(t, fmt.Sprintf(`{"org":"o%02d"}`, i), ev, "output keeps the parent order")
	}
	assert.LessOrEqual(t, srv.maxSeen.Load(), int32(3))
	assert.GreaterOrEqual(t, srv.maxSeen.Load(), int32(2), "calls do run in parallel")

	// the step's own maxParallelism wins when lower
	srv.maxSeen.Store(0)
	props = orgProps(t, srv.URL, orgKQL, `, "request": {"apiEndpoint": "`+srv.URL+`/orgs/$orgId$/events", "maxParallelism": 1}`)
	_, _, err = pollNested(t, props, srv.Client(), auth.Credentials{}, Options{MaxParallelism: 3})
	require.NoError(t, err)
	assert.Equal(t, int32(1), srv.maxSeen.Load())
}

func TestMaxChildCallsWarns(t *testing.T) {
	var orgs []string
	events := map[string][]string{}
	for i := range 10 {
		id := fmt.Sprintf("o%d", i)
		orgs = append(orgs, id)
		events[id] = []string{fmt.Sprintf(`{"org":%q}`, id)}
	}
	srv := newOrgServer(t, orgs, events)
	core, logs := observer.New(zap.WarnLevel)
	props := orgProps(t, srv.URL, orgKQL, "")
	out, _, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{MaxChildCalls: 4, Engine: poller0(zap.New(core))})
	require.NoError(t, err)
	assert.Len(t, out, 4)
	assert.Equal(t, int32(4), srv.calls.Load())
	w := logs.FilterMessageSnippet("too many child calls").All()
	require.Len(t, w, 1)
	assert.Equal(t, int64(6), w[0].ContextMap()["skipped"])
}

func TestChildFailureFailsThePage(t *testing.T) {
	srv := newOrgServer(t, []string{"a", "b", "c"}, map[string][]string{"a": {`{}`}, "b": {`{}`}, "c": {`{}`}})
	srv.fail = "b"
	props := orgProps(t, srv.URL, orgKQL, `, "request": {"apiEndpoint": "`+srv.URL+`/orgs/$orgId$/events", "retryCount": 1}`)
	out, _, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{})
	require.Error(t, err)
	assert.Nil(t, out)
	assert.Contains(t, err.Error(), `nested step events ($orgId$="b")`)
	assert.Contains(t, err.Error(), "HTTP 500")
}

func TestCancelStopsChildren(t *testing.T) {
	srv := newOrgServer(t, []string{"a", "b", "c", "d", "e", "f"}, map[string][]string{"a": {}, "b": {}, "c": {}, "d": {}, "e": {}, "f": {}})
	srv.delay = 300 * time.Millisecond
	props := orgProps(t, srv.URL, orgKQL, "")
	run, err := New(props, apiKeyAuth(t), Options{MaxParallelism: 1, Engine: poller0(nil)})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = run.Expand(ctx, testWindow, []string{`{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`, `{"id":"d"}`, `{"id":"e"}`, `{"id":"f"}`})
	require.Error(t, err)
	assert.Less(t, time.Since(start), time.Second)
}

func TestSharedRateLimit(t *testing.T) {
	srv := newOrgServer(t, nil, map[string][]string{"a": {}, "b": {}, "c": {}, "d": {}, "e": {}})
	props := orgProps(t, srv.URL, orgKQL, `, "request": {"apiEndpoint": "`+srv.URL+`/orgs/$orgId$/events", "rateLimitQPS": 20}`)
	run, err := New(props, apiKeyAuth(t), Options{Engine: poller0(nil)})
	require.NoError(t, err)
	start := time.Now()
	_, err = run.Expand(context.Background(), testWindow, []string{`{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`, `{"id":"d"}`, `{"id":"e"}`})
	require.NoError(t, err)
	// five calls at 20 per second across five engines: at least four 50 ms gaps
	assert.GreaterOrEqual(t, time.Since(start), 190*time.Millisecond)
}

func TestChildOwnAuthAndEscaping(t *testing.T) {
	type seen struct{ path, rawQuery, header, body, key string }
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/items" {
			assert.Equal(t, "parent-key", r.Header.Get("X-Key"))
			writeJSON(w, `[{"name":"a b#c/d","q":"it's \"x\"","h":"line1\r\nline2"}]`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("X-Name"), string(b), r.Header.Get("X-Child-Key")})
		mu.Unlock()
		writeJSON(w, `{"ok":true}`)
	}))
	defer srv.Close()
	props := propsFrom(t, fmt.Sprintf(`{
	  "auth": {"type": "APIKey", "ApiKey": "parent-key", "ApiKeyName": "X-Key"},
	  "request": {"apiEndpoint": %q},
	  "response": {"eventsJsonPaths": ["$"]},
	  "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "s", "stepPlaceholdersParsingKql": "source | project r = parse_json(data) | project name = tostring(r.name), q = r.q, h = r.h"}]},
	  "stepCollectorConfigs": {"s": {
	    "auth": {"type": "APIKey", "ApiKey": "child-key", "ApiKeyName": "X-Child-Key"},
	    "request": {"apiEndpoint": %q, "httpMethod": "POST", "isPostPayloadJson": true,
	      "headers": {"X-Name": "$h$"},
	      "queryParameters": {"n": "$name$"},
	      "queryParametersTemplate": "{'q': '$q$', \"d\": \"$q$\", 'lit': '$unknown$'}"},
	    "response": {"eventsJsonPaths": ["$"]}}}
	}`, srv.URL+"/items", srv.URL+"/by/$name$"))
	out, run, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{`{"ok":true}`}, out)
	require.Len(t, got, 1)
	assert.Equal(t, "/by/a%20b%23c/d", got[0].path, "space and # are encoded, / kept")
	assert.Equal(t, "n=a%20b%23c%2Fd", got[0].rawQuery, "query values are encoded by the engine")
	assert.Equal(t, "line1  line2", got[0].header, "CR/LF in a value cannot split the header")
	assert.JSONEq(t, `{"q":"it's \"x\"","d":"it's \"x\"","lit":"$unknown$"}`, got[0].body)
	assert.Equal(t, "child-key", got[0].key, "a step with its own auth uses it")
	assert.Contains(t, strings.Join(run.Warnings(), "\n"), "$unknown$ is not a column")
}

func TestConfigErrors(t *testing.T) {
	step := `{"request": {"apiEndpoint": "https://h.example/x/$id$"}, "response": {"eventsJsonPaths": ["$"]}%s}`
	mk := func(next, steps string) string {
		return fmt.Sprintf(`{"auth": {"type": "None"}, "request": {"apiEndpoint": "https://h.example/p"}, "response": {"eventsJsonPaths": ["$"]},
		  "stepInfo": {"stepType": "Nested", "nextSteps": %s}, "stepCollectorConfigs": {%s}}`, next, steps)
	}
	one := func(id string) string {
		return fmt.Sprintf(`[{"stepId": %q, "stepPlaceholdersParsingKql": "source | project id = tostring(parse_json(data).id)"}]`, id)
	}
	chain := func(id string) string {
		return fmt.Sprintf(`, "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": %q, "stepPlaceholdersParsingKql": "source"}]}`, id)
	}
	plain := fmt.Sprintf(step, "")
	tests := []struct{ name, props, want string }{
		{"unknown step", mk(one("nope"), `"a": `+plain), `"nope" is not a key of stepCollectorConfigs (keys: a)`},
		{"ambiguous step", mk(one("ab"), `"Ab": `+plain+`, "aB": `+plain), `matches several keys only case-insensitively (Ab, aB)`},
		{"cycle", mk(one("a"), `"a": `+fmt.Sprintf(step, chain("b"))+`, "b": `+fmt.Sprintf(step, chain("a"))), `"a" forms a cycle (a -> b -> a)`},
		{"self cycle", mk(one("a"), `"a": `+fmt.Sprintf(step, chain("A"))), `forms a cycle`},
		{"too many next steps", mk(`[{"stepId":"a"},{"stepId":"a"},{"stepId":"a"},{"stepId":"a"}]`, `"a": `+plain), `4 entries; at most 3`},
		{"too many steps", mk(one("a"), `"a": `+plain+`, "b": `+plain+`, "c": `+plain+`, "d": `+plain+`, "e": `+plain), `5 steps; at most 4`},
		{"join without name", mk(one("a"), `"a": `+fmt.Sprintf(step, `, "shouldJoinNestedData": true`)), `joinedDataStepName: missing`},
		{"bad kql", mk(`[{"stepId": "a", "stepPlaceholdersParsingKql": "source | summarize count()"}]`, `"a": `+plain), `stepPlaceholdersParsingKql "source | summarize count()": at position 10`},
		{"kql unknown column", mk(`[{"stepId": "a", "stepPlaceholdersParsingKql": "source | project id = nope"}]`, `"a": `+plain), `unknown column "nope"`},
		{"step type", strings.Replace(mk(one("a"), `"a": `+plain), `"Nested"`, `"Serial"`, 1), `stepType: "Serial"; only "Nested"`},
		{"child without request", mk(one("a"), `"a": {"response": {}}`), `stepCollectorConfigs.a.request: missing`},
		{"child without events path", mk(one("a"), `"a": {"request": {"apiEndpoint": "https://h.example/$id$"}}`), `response: missing`},
		{"child bad url", mk(one("a"), `"a": {"request": {"apiEndpoint": "ftp://h/$id$"}, "response": {"eventsJsonPaths": ["$"]}}`), `not an absolute http(s) URL`},
		{"child unsupported auth", mk(one("a"), `"a": {"auth": {"type": "AWS"}, "request": {"apiEndpoint": "https://h.example/$id$"}, "response": {"eventsJsonPaths": ["$"]}}`), `auth.type: "AWS" is not supported`},
		{"no stepInfo", `{"auth": {"type": "None"}, "request": {"apiEndpoint": "https://h.example/p"}, "response": {"eventsJsonPaths": ["$"]}, "stepCollectorConfigs": {}}`, `stepInfo: missing`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := propsFrom(t, tc.props)
			assert.True(t, Present(p))
			err := Validate(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			_, err = New(p, nil, Options{})
			require.Error(t, err)
		})
	}
	// a resource wrapper is unwrapped like definition.Parse does
	p := propsFrom(t, `{"kind": "RestApiPoller", "properties": `+mk(one("A"), `"a": `+plain)+`}`)
	require.True(t, Present(p))
	run, err := New(p, nil, Options{})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(run.Warnings(), "\n"), `"A" matches stepCollectorConfigs key "a" only case-insensitively`)
	assert.False(t, Present(propsFrom(t, `{"request": {}}`)))
	assert.NotContains(t, ParentProps(p), "stepInfo")
}

func TestNonObjectParentIsWrappedForJoin(t *testing.T) {
	srv := newOrgServer(t, nil, map[string][]string{"x": {`{"e":1}`}})
	props := orgProps(t, srv.URL, "source | project orgId = tostring(parse_json(data))", `, "shouldJoinNestedData": true, "joinedDataStepName": "ev"`)
	run, err := New(props, apiKeyAuth(t), Options{Engine: poller0(nil)})
	require.NoError(t, err)
	out, err := run.Expand(context.Background(), testWindow, []string{`"x"`})
	require.NoError(t, err)
	assert.Equal(t, []string{`{"data":"x","ev":{"e":1}}`}, out)
}

func apiKeyAuth(t *testing.T) auth.Authenticator {
	p := propsFrom(t, `{"type": "APIKey", "ApiKey": "secret", "ApiKeyName": "X-Key"}`)
	d := definitionAuth(p)
	a, err := auth.New(d, auth.Settings{})
	require.NoError(t, err)
	return a
}

func definitionAuth(p map[string]any) definition.Auth {
	return definition.Auth{Type: p["type"].(string), Fields: definition.NewFields("auth", p)}
}

// poller0 is a child engine template with short backoffs for tests.
func poller0(log *zap.Logger) poller.Options {
	return poller.Options{Logger: log, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}
