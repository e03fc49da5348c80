package jsonpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

const storeDoc = `{
  "data": [{"id": 1, "type": "a", "n": 5}, {"id": 2, "type": "b", "n": 10}, {"id": 3, "type": "a", "n": 15, "flag": null}],
  "null": "nullprop",
  "a b": {"c": "space"},
  "*": "star",
  "$page": 7,
  "nested": {"events": [1, 2], "inner": {"events": {"x": 1}}},
  "pagination": {"nextCursor": "abc"},
  "empty": "",
  "nothing": null,
  "arr1": ["only"],
  "arrs": ["x", 2, true],
  "dup": 1, "dup": 2
}`

func raws(rs []gjson.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Raw
	}
	return out
}

// assertRaws checks the raw JSON of each result; want nil means no result.
func assertRaws(t *testing.T, want []string, got []gjson.Result) {
	t.Helper()
	if want == nil {
		assert.Empty(t, got)
		return
	}
	assert.Equal(t, want, raws(got))
}

var selectCases = []struct {
	name string
	doc  string
	path string
	want []string
}{
	{"root empty", `{"a":1}`, "", []string{`{"a":1}`}},
	{"root dollar", `{"a":1}`, "$", []string{`{"a":1}`}},
	{"root array", `[1,2]`, "$", []string{`[1,2]`}},
	{"root scalar", `5`, "", []string{`5`}},
	{"dot", storeDoc, "$.pagination.nextCursor", []string{`"abc"`}},
	{"no dollar", storeDoc, "pagination.nextCursor", []string{`"abc"`}},
	{"leading dot", storeDoc, ".pagination.nextCursor", []string{`"abc"`}},
	{"bracket", storeDoc, "$['pagination']['nextCursor']", []string{`"abc"`}},
	{"bracket no dot", storeDoc, "['pagination'].nextCursor", []string{`"abc"`}},
	{"quoted space", storeDoc, "$['a b'].c", []string{`"space"`}},
	{"property named null", storeDoc, "null", []string{`"nullprop"`}},
	{"dollar property", storeDoc, "$page", []string{`7`}},
	{"quoted star is literal", storeDoc, "$['*']", []string{`"star"`}},
	{"missing", storeDoc, "$.nope.deeper", nil},
	{"field on array", storeDoc, "$.data.id", nil},
	{"dup last wins", storeDoc, "$.dup", []string{`2`}},
	{"index", storeDoc, "$.data[1].id", []string{`2`}},
	{"index out of range", storeDoc, "$.data[9]", nil},
	{"index on object", storeDoc, "$.nested[0]", nil},
	{"wildcard", storeDoc, "$.data[*].id", []string{`1`, `2`, `3`}},
	{"wildcard on object no match", storeDoc, "$.nested[*]", nil},
	{"dot star object", `{"a":{"x":1,"y":[2]}}`, "$.a.*", []string{`1`, `[2]`}},
	{"dot star array no match", `{"a":[1,2]}`, "$.a.*", nil},
	{"dollar dot bracket", `[{"log_id":"1"},{"log_id":"2"}]`, "$.[-1:].log_id", []string{`"2"`}},
	{"slice last", `[{"log_id":"1"},{"log_id":"2"}]`, "$[-1:].log_id", []string{`"2"`}},
	{"slice S1 alerts", `{"alerts":[{"_id":"a"},{"_id":"b"},{"_id":"c"}]}`, "$.alerts[-1:]._id", []string{`"c"`}},
	{"slice 0:2", `[0,1,2,3]`, "$[0:2]", []string{`0`, `1`}},
	{"slice step", `[0,1,2,3,4]`, "$[::2]", []string{`0`, `2`, `4`}},
	{"slice neg step", `[0,1,2,3,4]`, "$[::-2]", []string{`4`, `2`, `0`}},
	{"slice -2:", `[0,1,2,3]`, "$[-2:]", []string{`2`, `3`}},
	{"slice :-1", `[0,1,2,3]`, "$[:-1]", []string{`0`, `1`, `2`}},
	{"slice beyond", `[0,1]`, "$[1:10]", []string{`1`}},
	{"slice empty array", `[]`, "$[-1:]", nil},
	{"slice start > len", `[0,1]`, "$[5:]", nil},
	{"slice spaces", `[0,1,2]`, "$[ 1 : 2 ]", []string{`1`}},
	{"union index", `[0,1,2]`, "$[2,0]", []string{`2`, `0`}},
	{"union names", `{"a":1,"b":2,"c":3}`, "$['c','a']", []string{`3`, `1`}},
	{"union names spaces", `{"a":1,"b":2}`, "$['a', 'b']", []string{`1`, `2`}},
	{"recursive", storeDoc, "$..events", []string{`[1, 2]`, `{"x": 1}`}},
	{"recursive no dollar", `{"a":{"response_metadata":{"next_cursor":"c1"}}}`, "..response_metadata.next_cursor", []string{`"c1"`}},
	{"recursive nested same name", `{"a":{"a":{"a":1}}}`, "$..a", []string{`{"a":{"a":1}}`, `{"a":1}`, `1`}},
	{"recursive records", `{"x":[{"records":[1]},{"y":{"records":[2]}}]}`, "$..records", []string{`[1]`, `[2]`}},
	{"recursive star", `{"a":[1,{"b":2}]}`, "$..*", []string{`{"a":[1,{"b":2}]}`, `[1,{"b":2}]`, `1`, `{"b":2}`, `2`}},
	{"recursive quoted", `{"a":{"b c":1}}`, "$..['b c']", []string{`1`}},
	{"recursive multi", `{"a":{"b":1,"c":2}}`, "$..['c','b']", []string{`1`, `2`}},
	{"recursive index ignored", `[[1,2],[3]]`, "$..[0]", []string{`[1,2]`}},
	{"star events", `[{"event":{"a":1}},{"x":1},{"event":2}]`, "$[*].event", []string{`{"a":1}`, `2`}},
	{"filter eq string anvilogic", `[{"TableKind":"PrimaryResult","Rows":[["cur",1]]},{"TableKind":"Other","Rows":[["no"]]}]`,
		"$[?(@.TableKind == 'PrimaryResult')].Rows[0][0]", []string{`"cur"`}},
	{"filter ne", storeDoc, "$.data[?(@.type != 'a')].id", []string{`2`}},
	{"filter lt", storeDoc, "$.data[?(@.n < 10)].id", []string{`1`}},
	{"filter le", storeDoc, "$.data[?(@.n <= 10)].id", []string{`1`, `2`}},
	{"filter gt", storeDoc, "$.data[?(@.n > 10)].id", []string{`3`}},
	{"filter ge float", storeDoc, "$.data[?(@.n >= 10.0)].id", []string{`2`, `3`}},
	{"filter eq int float", storeDoc, "$.data[?(@.n == 5.0)].id", []string{`1`}},
	{"filter and", storeDoc, "$.data[?(@.type == 'a' && @.n > 5)].id", []string{`3`}},
	{"filter or", storeDoc, "$.data[?(@.id == 1 || @.id == 2)].id", []string{`1`, `2`}},
	{"filter exists", storeDoc, "$.data[?(@.flag)].id", []string{`3`}},
	{"filter null literal", storeDoc, "$.data[?(@.flag == null)].id", []string{`3`}},
	{"filter bool", `[{"ok":true,"i":1},{"ok":false,"i":2}]`, "$[?(@.ok == true)].i", []string{`1`}},
	{"filter bool false", `[{"ok":true,"i":1},{"ok":false,"i":2}]`, "$[?(@.ok == false)].i", []string{`2`}},
	{"filter ne missing is false", `[{"a":1},{"b":1}]`, "$[?(@.a != 2)].a", []string{`1`}},
	{"filter string vs number", `[{"a":"1"},{"a":1}]`, "$[?(@.a == 1)]", []string{`{"a":1}`}},
	{"filter root ref", `{"want":"b","xs":[{"k":"a"},{"k":"b"}]}`, "$.xs[?(@.k == $.want)].k", []string{`"b"`}},
	{"filter at self", `[1,2,3]`, "$[?(@ > 1)]", []string{`2`, `3`}},
	{"filter on object no match", `{"a":{"x":1}}`, "$[?(@.x == 1)]", nil},
	{"filter regex", `[{"a":"foo"},{"a":"bar"}]`, "$[?(@.a =~ /^f/)].a", []string{`"foo"`}},
	{"filter json.net grouping", `[{"a":1,"b":0,"c":1},{"a":0,"b":0,"c":1}]`,
		"$[?(@.a == 1 && @.b == 1 || @.c == 1)].a", []string{`1`}},
	{"filter quoted member", `[{"a b":1},{"a b":2}]`, "$[?(@['a b'] == 2)]['a b']", []string{`2`}},
	{"filter scan", `{"x":{"y":[{"t":1},{"t":2}]}}`, "$..[?(@.t == 2)]", []string{`{"t":2}`}},
	{"filter escaped quote", `[{"a":"it's"}]`, `$[?(@.a == 'it\'s')].a`, []string{`"it's"`}},
	{"paren indexer", `{"a":[5,6]}`, "$.a(1)", []string{`6`}},
	{"escaped key in doc", `{"a\"b":1}`, `$['a"b']`, []string{`1`}},
	{"unicode key", `{"ключ":1}`, `$.ключ`, []string{`1`}},
	{"trailing space", `{"a":1}`, "$.a  ", []string{`1`}},
	{"leading space", `{"a":1}`, "  $.a", []string{`1`}},
}

func TestSelect(t *testing.T) {
	for _, tt := range selectCases {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.path)
			require.NoError(t, err)
			got, err := p.Select([]byte(tt.doc))
			require.NoError(t, err)
			assertRaws(t, tt.want, got)
		})
	}
}

func TestNegativeIndex(t *testing.T) {
	for _, path := range []string{"$[-1]", "$.data[-1]", "$[0,-1]", "[-2]"} {
		t.Run(path, func(t *testing.T) {
			p, err := Compile(path)
			require.NoError(t, err)
			got, err := p.Select([]byte(`{"data":[1,2]}`))
			if strings.Contains(path, "data") {
				require.ErrorIs(t, err, ErrIndexOutOfRange)
				assert.Nil(t, got)
				return
			}
			// The root is an object: Json.NET's index filter ignores non-arrays.
			require.NoError(t, err)
			got, err = p.Select([]byte(`[1,2]`))
			require.ErrorIs(t, err, ErrIndexOutOfRange)
			assert.Nil(t, got)
			_, ok := p.Scalar([]byte(`[1,2]`))
			assert.False(t, ok)
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, path := range []string{
		"$.", "$[", "$[0", "$['a'", "$['a", "$[a]", "$[?(@.a == )]", "$[?(@.a == 1]",
		"$[?@.a]", "$[0]x", "$[?(@.a ~ 1)]", "$[::0]", "$['a' x]", `$['\q']`, "$[1 2]",
		"$[?(@.a =~ /(/)]", "$[?(@.a == 'x' & @.b)]", "$[]", "$[,]", "$[99999999999]",
		"a b", "$[?(@.a == 1.2.3)]",
	} {
		_, err := Compile(path)
		assert.ErrorIs(t, err, ErrSyntax, "path %q", path)
	}
}

func TestScalar(t *testing.T) {
	doc := []byte(`{"s":"tok","n":12345678901234567890,"f":1.5,"fi":1500.0,"big":1e20,"small":0.000001,
		"t":true,"fa":false,"nul":null,"e":"","one":["x"],"oneNull":[null],"many":[1,"b",true],
		"obj":{"a":1},"objs":[{"a":1},{"b":2}],"emptyArr":[],"neg":-0,"esc":"a\"b"}`)
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"$.s", "tok", true},
		{"$.n", "12345678901234567890", true},
		{"$.f", "1.5", true},
		{"$.fi", "1500", true},
		{"$.big", "1E+20", true},
		{"$.small", "1E-06", true},
		{"$.t", "true", true},
		{"$.fa", "false", true},
		{"$.nul", "", false},
		{"$.e", "", false},
		{"$.missing", "", false},
		{"$.one", "x", true},
		{"$.oneNull", "", false},
		{"$.many", "1,b,true", true},
		{"$.obj", `{"a":1}`, true},
		{"$.objs", `[{"a":1},{"b":2}]`, true},
		{"$.emptyArr", "", false},
		{"$.neg", "0", true},
		{"$.esc", `a"b`, true},
		{"$.many[*]", "1", true}, // first match
		{"null", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := MustCompile(tt.path).Scalar(doc)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestInvariantNumber(t *testing.T) {
	tests := map[string]string{
		"0.1": "0.1", "1e3": "1000", "123456789012345.5": "123456789012345.5",
		"1e15": "1E+15", "1.25e-7": "1.25E-07", "0.0001": "0.0001", "-2.5": "-2.5", "42": "42",
	}
	for raw, want := range tests {
		r := gjson.Parse(raw)
		assert.Equal(t, want, invariantNumber(r.Raw, r.Num), raw)
	}
}

func TestSetInBody(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		path  string
		value any
		want  string
	}{
		{"graphql after", `{"query":"q","variables":{"first":10}}`, "$.variables.after", "cur1", `{"query":"q","variables":{"first":10,"after":"cur1"}}`},
		{"create intermediate", `{"query":"q"}`, "$.variables.after", "c", `{"query":"q","variables":{"after":"c"}}`},
		{"cortex search_from", `{"request_data":{"search_from":0,"search_to":100}}`, "$.request_data.search_from", 100,
			`{"request_data":{"search_from":100,"search_to":100}}`},
		{"top level plain", `{"a":1}`, "scrollId", "s", `{"a":1,"scrollId":"s"}`},
		{"empty body", ``, "$.a.b", true, `{"a":{"b":true}}`},
		{"numeric key", `{}`, "$.x.0", "v", `{"x":{"0":"v"}}`},
		{"special chars", `{}`, "$['a.b']['c*']", "v", `{"a.b":{"c*":"v"}}`},
		{"replace scalar intermediate", `{"a":5}`, "$.a.b", nil, `{"a":{"b":null}}`},
		{"raw", `{}`, "$.a", json.RawMessage(`[1,2]`), `{"a":[1,2]}`},
		{"string escaping", `{}`, "$.a", "x\"y", `{"a":"x\"y"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetInBody([]byte(tt.body), tt.path, tt.value)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(got))
			// Key order of existing keys is kept.
			assert.True(t, strings.HasPrefix(string(got), tt.want[:1]))
		})
	}
	for _, bad := range []struct{ body, path string }{
		{`{}`, "$"}, {`{}`, "$.a[0]"}, {`{}`, "$..a"}, {`[1]`, "$.a"}, {`{`, "$.a"}, {`{}`, "$["},
	} {
		_, err := SetInBody([]byte(bad.body), bad.path, 1)
		assert.Error(t, err, "%s on %s", bad.path, bad.body)
	}
	assert.True(t, IsBodyPath("$.variables.after"))
	assert.False(t, IsBodyPath("$page"))
	assert.False(t, IsBodyPath("cursor"))
}

func TestOrderPreservedInSet(t *testing.T) {
	got, err := SetInBody([]byte(`{"z":1,"a":{"y":1,"b":2}}`), "$.a.c", "n")
	require.NoError(t, err)
	assert.Equal(t, `{"z":1,"a":{"y":1,"b":2,"c":"n"}}`, string(got))
}

func TestDeepScanBounded(t *testing.T) {
	doc := strings.Repeat(`{"a":`, MaxScanDepth+10) + "1" + strings.Repeat("}", MaxScanDepth+10)
	_, err := MustCompile("$..a").Select([]byte(doc))
	assert.True(t, errors.Is(err, ErrTooDeep))
	_, err = MustCompile("$..[?(@.a)]").Select([]byte(doc))
	assert.True(t, errors.Is(err, ErrTooDeep))
}

func TestConcurrentUse(t *testing.T) {
	p := MustCompile("$.data[?(@.type == 'a')].id")
	done := make(chan []string, 4)
	for i := 0; i < 4; i++ {
		go func() {
			rs, _ := p.Select([]byte(storeDoc))
			done <- raws(rs)
		}()
	}
	for i := 0; i < 4; i++ {
		assert.Equal(t, []string{"1", "3"}, <-done)
	}
}

func bigDoc(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"meta":{"count":`)
	fmt.Fprintf(&sb, "%d", n)
	sb.WriteString(`},"data":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":%d,"ts":"2024-01-02T03:04:05Z","user":{"name":"user%d","email":"u%d@example.com"},"action":"login","detail":"%s","events":[%d]}`,
			i, i, i, strings.Repeat("x", 850), i)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func BenchmarkSelect(b *testing.B) {
	doc := bigDoc(1000)
	for _, path := range []string{"$.data[*]", "$..events", "$.data[-1:].id", "$.meta.count"} {
		p := MustCompile(path)
		b.Run(path, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				rs, err := p.Select(doc)
				if err != nil || len(rs) == 0 {
					b.Fatal(err, len(rs))
				}
			}
		})
	}
}
