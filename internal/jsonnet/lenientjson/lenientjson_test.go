package lenientjson

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Templates from /work/shared/ccp-corpus and spec §4.6, after builtin
// substitution.
var corpusTemplates = []struct{ name, in, want string }{
	{"S1 example", `{'cid': 1234567, 'cmd': 'reporting', 'X-Api-Key': 'secret'}`,
		`{"cid":1234567,"cmd":"reporting","X-Api-Key":"secret"}`},
	{"LastPass", `{'cid': '12537091', 'cmd': 'reporting', 'data': { 'from': '2024-01-02 03:04:05', 'to': '2024-01-02 03:09:05' }, 'provhash': 'k'}`,
		`{"cid":"12537091","cmd":"reporting","data":{"from":"2024-01-02 03:04:05","to":"2024-01-02 03:09:05"},"provhash":"k"}`},
	{"Cortex XDR", `{ 'request_data': { 'search_from': 0, 'search_to': 100, 'filters': [ { 'field': 'creation_time', 'operator': 'gte', 'value': 1704164645678 },{ 'field': 'creation_time', 'operator': 'lte', 'value': 1704164945678 }], 'sort': { 'field': 'creation_time', 'keyword': 'asc' } } }`,
		`{"request_data":{"search_from":0,"search_to":100,"filters":[{"field":"creation_time","operator":"gte","value":1704164645678},{"field":"creation_time","operator":"lte","value":1704164945678}],"sort":{"field":"creation_time","keyword":"asc"}}}`},
	{"CrowdStrike step", `{'ids': ['abc123']}`, `{"ids":["abc123"]}`},
	{"CrowdStrike crlf", "{\r\n                    \"filter\": \"created_timestamp:>'2024-01-02T03:04:05Z'+created_timestamp:<='2024-01-02T03:09:05Z'\",\r\n                    \"sort\": \"created_timestamp.asc\"\r\n                }",
		`{"filter":"created_timestamp:>'2024-01-02T03:04:05Z'+created_timestamp:<='2024-01-02T03:09:05Z'","sort":"created_timestamp.asc"}`},
	{"Prisma strict", `{"detailed": true,"filters": [{"name": "timeRange.type","operator": "=","value": "ALERT_STATUS_UPDATED"}],"timeRange": {"type": "absolute","value": {"endTime": 1704164945678,"startTime": 1704164645678}}}`,
		`{"detailed":true,"filters":[{"name":"timeRange.type","operator":"=","value":"ALERT_STATUS_UPDATED"}],"timeRange":{"type":"absolute","value":{"endTime":1704164945678,"startTime":1704164645678}}}`},
	{"1Password", `{"limit": 1000, "start_time": "2024-01-02T03:04:05Z", "end_time": "2024-01-02T03:09:05Z" }`,
		`{"limit":1000,"start_time":"2024-01-02T03:04:05Z","end_time":"2024-01-02T03:09:05Z"}`},
	{"empty object", `{}`, `{}`},
}

func TestNormalize(t *testing.T) {
	tests := append([]struct{ name, in, want string }{}, corpusTemplates...)
	tests = append(tests, []struct{ name, in, want string }{
		{"number literals kept", `[1234567, 1.0, -0, 1e10, 1.5E-3, 0.10]`, `[1234567,1.0,-0,1e10,1.5E-3,0.10]`},
		{"unquoted keys", `{a: 1, $b_2: 'x', ключ: true}`, `{"a":1,"$b_2":"x","ключ":true}`},
		{"trailing commas", `{'a': [1, 2,], 'b': {'c': null,},}`, `{"a":[1,2],"b":{"c":null}}`},
		{"comments", "{/* c */ 'a': 1, // line\n 'b': 2}", `{"a":1,"b":2}`},
		{"double quote inside single", `{'a': 'say "hi"'}`, `{"a":"say \"hi\""}`},
		{"escaped single quote", `{'a': 'it\'s'}`, `{"a":"it's"}`},
		{"escapes kept", `{"a": "x\n\t\u00e9\\\/"}`, `{"a":"x\n\t\u00e9\\\/"}`},
		{"raw control char", "{'a': 'x\ty'}", `{"a":"x\u0009y"}`},
		{"key order kept", `{'z': 1, 'a': 2, 'm': 3}`, `{"z":1,"a":2,"m":3}`},
		{"duplicates kept", `{'a': 1, 'a': 2}`, `{"a":1,"a":2}`},
		{"scalar top", `  'x'  `, `"x"`},
		{"bom", "\ufeff{'a':1}", `{"a":1}`},
		{"nbsp whitespace", "{\u00a0'a':1}", `{"a":1}`},
		{"unicode value", `{'a': '日本'}`, `{"a":"日本"}`},
		{"nested empty", `{'a': [], 'b': {}}`, `{"a":[],"b":{}}`},
		{"literals", `[true, false, null]`, `[true,false,null]`},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Normalize([]byte(tt.in))
			assert.True(t, ok)
			assert.Equal(t, tt.want, string(got))
			assert.True(t, json.Valid(got))
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	for _, in := range []string{
		``, `   `, `{`, `{'a': 1`, `{'a' 1}`, `{'a': }`, `[1,,2]`, `{,}`, `[,]`, `{'a':1}{}`, `{'a':1} x`,
		`{'from': 2024-01-02T03:04:05Z}`, // unquoted ISO time (spec §4.6)
		`{'a': {_QueryWindowStartTime}}`, // unsubstituted builtin
		`{'a': NaN}`, `{'a': Infinity}`, `{'a': undefined}`, `{'a': 0x1F}`, `{'a': 01}`, `{'a': .5}`,
		`{'a': 1.}`, `{'a': 1e}`, `{'a': -}`, `{'a': 'x}`, `{'a': 'x\q'}`, `{'a': '\u12'}`, `{'a': 'x\`,
		`{a-b: 1}`, `{'a': truex}`, `/* open`, `{"a": new Date(1)}`, `'a' 'b'`,
	} {
		got, ok := Normalize([]byte(in))
		assert.False(t, ok, "input %q gave %q", in, got)
		assert.Nil(t, got)
	}
}

func TestDepthBounded(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5)
	_, ok := Normalize([]byte(deep))
	assert.False(t, ok)
	okDeep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	_, ok = Normalize([]byte(okDeep))
	assert.True(t, ok)
}

func TestInvalidUTF8Replaced(t *testing.T) {
	got, ok := Normalize([]byte("{'a': '\xff'}"))
	assert.True(t, ok)
	assert.Equal(t, `{"a":"\ufffd"}`, string(got))
}

func BenchmarkNormalize(b *testing.B) {
	in := []byte(corpusTemplates[2].in)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Normalize(in); !ok {
			b.Fatal("not ok")
		}
	}
}
