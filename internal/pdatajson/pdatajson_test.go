package pdatajson

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
