package jsonpath

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFields(t *testing.T) {
	for src, want := range map[string][]string{
		"$.data": {"data"}, "$['a'].b": {"a", "b"}, "data.items": {"data", "items"}, "$page": {"$page"},
		"$": nil, "": nil, "$.a[0]": nil, "$..a": nil, "$.*": nil, "$['a','b']": nil, "$.a[?(@.x)]": nil,
	} {
		names, ok := MustCompile(src).Fields()
		assert.Equal(t, want != nil, ok, src)
		assert.Equal(t, want, names, src)
	}
}
