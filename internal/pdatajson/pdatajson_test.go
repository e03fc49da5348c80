package pdatajson

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestSetValue(t *testing.T) {
	v := pcommon.NewValueEmpty()
	SetValue(v, `{"id":"a","n":9007199254740993,"f":1.5,"b":true,"z":null,"arr":[1,"x",{"k":false}],"id":"b"}`)
	require.Equal(t, pcommon.ValueTypeMap, v.Type())
	m := v.Map()
	id, _ := m.Get("id")
	assert.Equal(t, "b", id.Str(), "last duplicate key wins")
	n, _ := m.Get("n")
	assert.Equal(t, int64(9007199254740993), n.Int(), "integers keep full precision")
	f, _ := m.Get("f")
	assert.Equal(t, 1.5, f.Double())
	z, _ := m.Get("z")
	assert.Equal(t, pcommon.ValueTypeEmpty, z.Type())
	arr, _ := m.Get("arr")
	assert.Equal(t, 3, arr.Slice().Len())
	assert.Equal(t, map[string]any{"k": false}, arr.Slice().At(2).Map().AsRaw())

	SetValue(v, `"plain"`)
	assert.Equal(t, "plain", v.Str())
	SetValue(v, `{broken`)
	assert.Equal(t, "{broken", v.Str(), "invalid JSON kept as text")
}

func TestDeepNestingIsBounded(t *testing.T) {
	raw := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	v := pcommon.NewValueEmpty()
	SetValue(v, raw) // must neither panic nor exhaust the stack
	assert.Equal(t, pcommon.ValueTypeSlice, v.Type())
}

func FuzzSetValue(f *testing.F) {
	f.Add(`{"a":[1,2,{"b":null}],"c":"d"}`)
	f.Add(`[1e400, -0, 12345678901234567890]`)
	f.Fuzz(func(t *testing.T, s string) {
		v := pcommon.NewValueEmpty()
		SetValue(v, s)
	})
}

func BenchmarkSetValue1KB(b *testing.B) {
	ev := `{"id":"evt-000001","time":"2024-01-02T03:04:05.678Z","user":"alice@example.com","src_ip":"10.1.2.3","action":"login","severity":3,"ok":true,"message":"` + strings.Repeat("x", 820) + `"}`
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	for i := 0; i < b.N; i++ {
		v := pcommon.NewValueEmpty()
		SetValue(v, ev)
	}
}

// refSet is the gjson-based conversion this package used before its own parser: the parser
// must give the same value for every valid document.
func refSet(dest pcommon.Value, r gjson.Result, depth int) {
	if depth >= maxDepth && (r.IsObject() || r.IsArray()) {
		dest.SetStr(r.Raw)
		return
	}
	switch r.Type {
	case gjson.True:
		dest.SetBool(true)
	case gjson.False:
		dest.SetBool(false)
	case gjson.String:
		dest.SetStr(r.Str)
	case gjson.Number:
		setNumber(dest, r.Raw)
	case gjson.JSON:
		if r.IsObject() {
			m := dest.SetEmptyMap()
			r.ForEach(func(k, v gjson.Result) bool { refSet(m.PutEmpty(k.Str), v, depth+1); return true })
			return
		}
		s := dest.SetEmptySlice()
		r.ForEach(func(_, v gjson.Result) bool { refSet(s.AppendEmpty(), v, depth+1); return true })
	}
}

var parserSamples = []string{
	`{"a":[1,2,{"b":null}],"c":"d"}`, `[1e400, -0, 12345678901234567890, 1.5e-3, -7]`, ` {"k":"v"} `,
	`{"e":"a\"b\\c\u00e9\ud83d\ude00\ud800x\n","\u006b":1,"k":2}`, `"s"`, `true`, `false`, `null`, `42`, `-1.0`,
	`{}`, `[]`, `[[],{},[{}]]`, strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70),
	strings.Repeat(`[`, 66) + `"x", {"y" : [ 1 ] }` + strings.Repeat(`]`, 66),
}

func TestParserMatchesGJSON(t *testing.T) {
	for _, s := range parserSamples {
		got, want := pcommon.NewValueEmpty(), pcommon.NewValueEmpty()
		SetValidated(got, s)
		refSet(want, gjson.Parse(s), 0)
		assert.True(t, got.Equal(want), "%s:\n got %v\nwant %v", s, got.AsRaw(), want.AsRaw())
	}
}

func TestConverterReservesRoom(t *testing.T) {
	c := Converter{Extra: 2}
	for _, s := range []string{`{"a":1,"b":2,"c":3}`, `{"a":1}`, `{"a":1,"b":2,"c":3,"d":4,"e":5}`, `[1]`} {
		got, want := pcommon.NewValueEmpty(), pcommon.NewValueEmpty()
		c.SetValidated(got, s)
		refSet(want, gjson.Parse(s), 0)
		assert.True(t, got.Equal(want), s)
	}
}

func TestSetMap(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr("keep", "x")
	assert.True(t, SetMap(m, ` {"a":{"b":[1]},"keep":"y"}`))
	assert.Equal(t, map[string]any{"keep": "y", "a": map[string]any{"b": []any{int64(1)}}}, m.AsRaw())
	assert.False(t, SetMap(m, `[1]`))
	assert.False(t, SetMap(m, `{"a":`))
}

func FuzzParser(f *testing.F) {
	for _, s := range parserSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := pcommon.NewValueEmpty()
		SetValidated(got, s) // never panics, valid or not
		if !gjson.Valid(s) {
			return
		}
		want := pcommon.NewValueEmpty()
		refSet(want, gjson.Parse(s), 0)
		if !got.Equal(want) {
			t.Fatalf("%q:\n got %v\nwant %v", s, got.AsRaw(), want.AsRaw())
		}
	})
}
