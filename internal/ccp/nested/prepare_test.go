package nested

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/kql"
)

// A step with placeholders in every field the template fills (URL path and query, header name
// and value, query parameter name and value, body template).
const fillStep = `{
  "auth": {"type": "None"}, "request": {"apiEndpoint": "https://h.example/p"}, "response": {"eventsJsonPaths": ["$"]},
  "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "s", "stepPlaceholdersParsingKql": "source | project r = parse_json(data) | project id = tostring(r.id), q = tostring(r.q)"}]},
  "stepCollectorConfigs": {"s": {
    "request": {"apiEndpoint": " https://h.example/a/$id$/b?x=$q$ ", "httpMethod": "POST", "rateLimitQPS": 2,
      "headers": {"X-$id$": "v $q$", "A": "1"}, "queryParameters": {"n": "$q$", "$id$": {"deep": ["$q$"]}},
      "queryParametersTemplate": "{'q': '$q$', \"n\": $id$}"},
    "response": {"eventsJsonPaths": ["$"]}}}}`

// The step is parsed once at construction and each call only fills the parsed definition;
// the result must equal what parsing the filled step gives.
func TestTemplateFillsLikeParsing(t *testing.T) {
	r, err := New(propsFrom(t, fillStep), nil, Options{})
	require.NoError(t, err)
	n := r.root[0]
	require.NotNil(t, n.tmpl, "every placeholder stands in a field the template fills")
	for _, row := range []kql.Row{
		{"id": "7", "q": "a b"},
		{"id": "x/y?z#w", "q": "it's \"q\"\r\nX-Evil: 1"},
		{"id": "Z", "q": "%41&b=c"},
	} {
		got, err := childDef(n, row)
		require.NoError(t, err)
		want, err := childDef(&node{step: n.step, used: n.used}, row)
		require.NoError(t, err)
		assert.Equal(t, want.Request, got.Request, "row %v", row)
		assert.Zero(t, got.Request.RateLimitQPS, "the step's rate is kept by its transport")
	}
	assert.Equal(t, "https://h.example/a/$id$/b?x=$q$", n.tmpl.Request.APIEndpoint, "the template is not changed by calls")
}

// A placeholder where the parsed definition holds no text (a number) keeps the parse per call.
func TestTemplateFallsBackToParsing(t *testing.T) {
	srv := newOrgServer(t, []string{"1"}, map[string][]string{"1": {`{"e":1}`}})
	props := orgProps(t, srv.URL, "source | project orgId = tostring(parse_json(data).id), n = '2'", "")
	props["stepCollectorConfigs"].(map[string]any)["events"].(map[string]any)["request"].(map[string]any)["retryCount"] = "$n$"
	r, err := New(props, apiKeyAuth(t), Options{Engine: poller0(nil)})
	require.NoError(t, err)
	assert.Nil(t, r.root[0].tmpl)
	out, err := r.Expand(context.Background(), testWindow, []string{`{"id":"1"}`})
	require.NoError(t, err)
	assert.Equal(t, []string{`{"e":1}`}, out)
}

// Child steps are parsed when the Runner is built, not once per child call.
func TestStepsParsedOncePerStep(t *testing.T) {
	var parses atomic.Int64
	parseStep = func(raw map[string]any, path string) (*definition.Definition, error) {
		parses.Add(1)
		return definition.Parse(raw, path)
	}
	defer func() { parseStep = definition.Parse }()
	orgs := []string{"a", "b", "c", "d", "e", "f"}
	events := map[string][]string{}
	for _, o := range orgs {
		events[o] = []string{`{"org":"` + o + `"}`}
	}
	srv := newOrgServer(t, orgs, events)
	r, err := New(orgProps(t, srv.URL, orgKQL, ""), apiKeyAuth(t), Options{Engine: poller0(nil)})
	require.NoError(t, err)
	built := parses.Load()
	require.EqualValues(t, 1, built)
	for range 3 {
		var recs []string
		for _, o := range orgs {
			recs = append(recs, `{"id":"`+o+`"}`)
		}
		out, err := r.Expand(context.Background(), testWindow, recs)
		require.NoError(t, err)
		require.Len(t, out, len(orgs))
	}
	assert.Equal(t, built, parses.Load(), "18 child calls, no parse")
}

// BenchmarkChildDefinition compares preparing one child call from the template with parsing
// the filled step (the fallback, and what every call did before).
func BenchmarkChildDefinition(b *testing.B) {
	props, err := connectorfile.ParseJSON([]byte(fillStep))
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(props.(map[string]any), nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	n := r.root[0]
	row := kql.Row{"id": "12345", "q": "some value"}
	for _, c := range []struct {
		name string
		n    *node
	}{{"template", n}, {"parse per call", &node{step: n.step, used: n.used}}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := childDef(c.n, row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
