package poller

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tidwall/sjson"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/jsonpath"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/lenientjson"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/sjsonkey"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/timefmt"
)

// kv is one ordered name/value pair of a query string, form body or header set.
type kv struct{ name, value string }

// reqSpec is a request before it becomes an *http.Request: paging strategies edit it between
// pages (a token into the query, the body or a header; a whole new URL).
type reqSpec struct {
	method  string
	base    string // URL without the parameters below (it keeps apiEndpoint's own query)
	query   []kv
	headers []kv
	// Exactly one body form is used: JSON (jsonBody non-nil), form fields, or raw text.
	jsonBody []byte
	form     []kv
	rawBody  []byte
	ctype    string // Content-Type chosen by the body rules; a configured header wins
	// pagingNames are the query names paging owns, kept by pagingQueryParamOnly.
	pagingNames map[string]bool
}

func (r *reqSpec) clone() *reqSpec {
	c := *r
	c.query = append([]kv(nil), r.query...)
	c.headers = append([]kv(nil), r.headers...)
	c.form = append([]kv(nil), r.form...)
	c.jsonBody = append([]byte(nil), r.jsonBody...)
	if r.jsonBody == nil {
		c.jsonBody = nil
	}
	c.pagingNames = map[string]bool{}
	for k := range r.pagingNames {
		c.pagingNames[k] = true
	}
	return &c
}

func setKV(list []kv, name, value string) []kv {
	for i := range list {
		if list[i].name == name {
			list[i].value = value
			return list
		}
	}
	return append(list, kv{name, value})
}

// addKV appends unless the same name already carries the same value (AzureDevOps and Workday
// set both the time attributes and identical queryParameters).
func addKV(list []kv, name, value string) []kv {
	for _, e := range list {
		if e.name == name && e.value == value {
			return list
		}
	}
	return append(list, kv{name, value})
}

// URL renders the full request URL.
func (r *reqSpec) URL() string {
	if len(r.query) == 0 {
		return r.base
	}
	var b strings.Builder
	b.WriteString(r.base)
	if strings.Contains(r.base, "?") {
		if !strings.HasSuffix(r.base, "?") && !strings.HasSuffix(r.base, "&") {
			b.WriteByte('&')
		}
	} else {
		b.WriteByte('?')
	}
	for i, p := range r.query {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escape(p.name))
		b.WriteByte('=')
		b.WriteString(escape(p.value))
	}
	return b.String()
}

// escape is RFC 3986 percent-encoding: a literal '+' in an FQL filter must reach the server
// as %2B, and spaces as %20.
func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// Body renders the request body and its content type.
func (r *reqSpec) Body() ([]byte, string) {
	switch {
	case r.jsonBody != nil:
		return r.jsonBody, "application/json"
	case len(r.form) > 0:
		v := make([]string, 0, len(r.form))
		for _, p := range r.form {
			v = append(v, url.QueryEscape(p.name)+"="+url.QueryEscape(p.value))
		}
		return []byte(strings.Join(v, "&")), "application/x-www-form-urlencoded"
	case r.rawBody != nil:
		ct := r.ctype
		if ct == "" {
			ct = "text/plain"
		}
		return r.rawBody, ct
	}
	return nil, ""
}

// builtins are the request-time substitutions of §4.5, as raw text.
type builtins struct {
	start, end      string
	apiKeyName, key string
	hasKey          bool
	// startT and endT render the older {datetime:FORMAT} (window start) and {now:FORMAT}
	// (window end) placeholders that legacy examples use, each with its own .NET format.
	startT, endT time.Time
}

// legacyTime matches {datetime:FORMAT} and {now:FORMAT}.
var legacyTime = regexp.MustCompile(`\{(datetime|now):([^{}]+)\}`)

func (b builtins) apply(s string, template bool) string {
	if !strings.Contains(s, "{") {
		return s
	}
	if strings.Contains(s, "{_") {
		pairs := []string{"{_QueryWindowStartTime}", b.start, "{_QueryWindowEndTime}", b.end}
		if template && b.hasKey {
			pairs = append(pairs, "{_APIKeyName}", b.apiKeyName, "{_APIKey}", b.key)
		}
		s = strings.NewReplacer(pairs...).Replace(s)
	}
	if strings.Contains(s, "{datetime:") || strings.Contains(s, "{now:") {
		s = legacyTime.ReplaceAllStringFunc(s, func(m string) string {
			sub := legacyTime.FindStringSubmatch(m)
			f, err := timefmt.Compile(sub[2])
			if err != nil {
				return m // not a format: leave the text as written
			}
			if sub[1] == "now" {
				return f.Format(b.endT)
			}
			return f.Format(b.startT)
		})
	}
	return s
}

// buildFirst builds a window's first request per §4.2 and §4.6.
func buildFirst(d *definition.Definition, b builtins) *reqSpec {
	q := d.Request
	r := &reqSpec{method: q.HTTPMethod, base: b.apply(q.APIEndpoint, false), pagingNames: map[string]bool{}}
	userCT := ""
	for _, h := range q.Headers {
		v := b.apply(h.ValueString(), false)
		r.headers = append(r.headers, kv{h.Name, v})
		if strings.EqualFold(h.Name, "Content-Type") {
			userCT = v
		}
	}
	jsonWanted := q.IsPostPayloadJSON || strings.Contains(strings.ToLower(userCT), "json")
	hasBody := q.HTTPMethod != "GET" && q.HTTPMethod != "DELETE"
	template := strings.TrimSpace(q.QueryParametersTemplate)

	var params []kv
	for _, p := range q.QueryParameters {
		params = addKV(params, p.Name, b.apply(p.ValueString(), false))
	}
	if q.StartTimeAttributeName != "" {
		params = addKV(params, q.StartTimeAttributeName, b.start)
	}
	if q.EndTimeAttributeName != "" {
		params = addKV(params, q.EndTimeAttributeName, b.end)
	}
	if q.QueryTimeIntervalAttributeName != "" {
		params = addKV(params, q.QueryTimeIntervalAttributeName, q.QueryTimeIntervalPrepend+b.start+q.QueryTimeIntervalDelimiter+b.end)
	}

	switch {
	case hasBody && template != "":
		// Template is the body, parameters go to the URL (Snowflake).
		r.query = params
		text := b.apply(template, true)
		if strict, ok := lenientjson.Normalize([]byte(text)); ok {
			r.jsonBody = strict
		} else {
			r.rawBody = []byte(text)
			r.ctype = userCT
		}
	case hasBody && len(params) > 0:
		// No template: the parameters are the body, JSON or form (Anvilogic).
		if jsonWanted {
			r.jsonBody = paramsJSON(q.QueryParameters, params, b)
		} else {
			r.form = params
		}
	case hasBody && jsonWanted:
		r.jsonBody = []byte("{}")
		r.query = params
	default:
		r.query = params
	}
	if b.hasKey && hasBody && !strings.Contains(q.QueryParametersTemplate, "{_APIKey}") {
		// The key belongs in the payload but the template does not place it: add it (§3.2).
		switch {
		case r.jsonBody != nil:
			r.jsonBody, _ = sjson.SetBytes(r.jsonBody, sjsonkey.Path(b.apiKeyName), b.key)
		default:
			r.form = append(r.form, kv{b.apiKeyName, b.key})
		}
	}
	return r
}

// paramsJSON keeps the parameters' JSON types (numbers stay numbers) in a JSON body.
func paramsJSON(orig []definition.Param, params []kv, b builtins) []byte {
	typed := map[string]any{}
	for _, p := range orig {
		if s, ok := p.Value.(string); ok {
			typed[p.Name] = b.apply(s, false)
		} else {
			typed[p.Name] = p.Value
		}
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, p := range params {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(p.name)
		buf.Write(k)
		buf.WriteByte(':')
		v, ok := typed[p.name]
		if !ok {
			v = p.value
		}
		enc, err := json.Marshal(v)
		if err != nil {
			enc, _ = json.Marshal(p.value)
		}
		buf.Write(enc)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// placement says where a paging value goes (§6.2).
type placement struct {
	requestBody bool   // pagingInfoPlacement RequestBody, or the POST+JSON default
	header      string // nextPageRequestHeader, tokens only
}

// place writes one paging value into the request per §6.2. numeric keeps offsets and page
// numbers as JSON numbers inside JSON bodies.
func (r *reqSpec) place(name, value string, numeric bool, pl placement) {
	if name == "" {
		return
	}
	asValue := func() any {
		if numeric {
			return json.Number(value)
		}
		return value
	}
	switch {
	case jsonpath.IsBodyPath(name): // "$.a.b"; a plain "$page" (Salesforce MC) is a name
		if r.jsonBody == nil {
			r.jsonBody = []byte("{}")
		}
		if nb, err := jsonpath.SetInBody(r.jsonBody, name, asValue()); err == nil {
			r.jsonBody = nb
		}
	case pl.requestBody && r.jsonBody != nil:
		if nb, err := sjson.SetBytes(r.jsonBody, sjsonkey.Path(name), asValue()); err == nil {
			r.jsonBody = nb
		}
	case pl.requestBody && (len(r.form) > 0 || r.method != "GET"):
		if r.jsonBody == nil && r.rawBody == nil && len(r.form) == 0 {
			r.jsonBody, _ = sjson.SetBytes([]byte("{}"), sjsonkey.Path(name), asValue())
			return
		}
		r.form = setKV(r.form, name, value)
	default:
		r.query = setKV(r.query, name, value)
		r.pagingNames[name] = true
	}
}

// onlyPagingQuery applies pagingQueryParamOnly on follow-up pages: every query parameter that
// paging did not write is dropped, including those in apiEndpoint's own query string.
func (r *reqSpec) onlyPagingQuery() {
	kept := r.query[:0]
	for _, p := range r.query {
		if r.pagingNames[p.name] {
			kept = append(kept, p)
		}
	}
	r.query = kept
	if i := strings.IndexByte(r.base, '?'); i >= 0 {
		r.base = r.base[:i]
	}
}
