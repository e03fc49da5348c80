package poller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// Paths of member names go through the page's index; they must select what jsonpath selects.
func TestDocPathMatchesJSONPath(t *testing.T) {
	docs := []string{
		`{"data":[1,2],"next":"t1","data":[3],"meta":{"next":"t2","n":{"k":5},"n":7},"flag":true}`,
		` {"d\u0061ta":[{"a":1}],"x":null,"s":"a\"b"} `, `[{"data":[1]}]`, `"data"`, `{}`, `5`,
		`{"meta":[{"next":"x"}],"list":["a","b"],"obj":{"a":{"b":{"c":"deep"}}}}`,
	}
	paths := []string{"$.data", "$.next", "$.meta.next", "$.meta.n", "$.meta.n.k", "$['data']", "$.flag", "$.x",
		"$.s", "$.list", "$.obj.a.b.c", "$.obj.a.b", "$.missing", "$.meta.next.more", "data"}
	for _, doc := range docs {
		for _, src := range paths {
			p, err := compilePath(src)
			require.NoError(t, err)
			require.NotNil(t, p.fields, src)
			want, werr := p.SelectStringWarn(doc, 100, nil)
			got, gerr := p.selectWarn(&pageDoc{text: doc}, 100, nil)
			assert.Equal(t, werr, gerr)
			assert.Equal(t, raws(want), raws(got), "%s on %s", src, doc)
			ws, wok := p.ScalarString(doc)
			gs, gok := p.scalar(&pageDoc{text: doc})
			assert.Equal(t, wok, gok, "%s on %s", src, doc)
			assert.Equal(t, ws, gs, "%s on %s", src, doc)
		}
	}
	var none *pageDoc
	s, ok := (&docPath{Path: mustPath(t, "$.a").Path, fields: []string{"a"}}).scalar(none)
	assert.False(t, ok, "no body, no value")
	assert.Empty(t, s)
}

func mustPath(t *testing.T, src string) *docPath {
	p, err := compilePath(src)
	require.NoError(t, err)
	return p
}

func raws(rs []gjson.Result) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Raw)
	}
	return out
}
