package sjsonkey

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"
)

func TestPathSetsExactlyTheMember(t *testing.T) {
	for _, c := range []struct{ doc, name, want string }{
		// The case where the two former copies differed: an all-digit key on a new body.
		{`{}`, "0", `{"0":1}`},
		{`{"a":2}`, "12", `{"a":2,"12":1}`},
		{`{}`, "a.b", `{"a.b":1}`},
		{`{}`, "x*?|#@", `{"x*?|#@":1}`},
		{`{}`, "page:size", `{"page:size":1}`},
		{`{}`, "plain", `{"plain":1}`},
	} {
		out, err := sjson.Set(c.doc, Path(c.name), 1)
		require.NoError(t, err, c.name)
		assert.JSONEq(t, c.want, out, c.name)
	}
}
