package jsonpath

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// explosiveDoc is 1.2 KB: 200 nested objects {"a":{"a":...}}. "$..*..*..*" selects every
// ordered triple of nested nodes from it: about 1.3 million matches.
func explosiveDoc() string {
	return strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200)
}

// A small document must not turn into millions of matches: Select stops at the cap with an
// error that names it, and the memory it used stays small.
func TestMatchCap(t *testing.T) {
	doc := explosiveDoc()
	require.Less(t, len(doc), 2000)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	rs, err := MustCompile("$..*..*..*").SelectString(doc)
	runtime.ReadMemStats(&m1)
	require.True(t, errors.Is(err, ErrTooManyMatches), "%v", err)
	assert.Nil(t, rs, "nothing is truncated: no partial result")
	assert.Contains(t, err.Error(), "100000")
	assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(64<<20), "bounded by the cap, not by the product")

	// A lower cap holds for every step form.
	arr := "[" + strings.TrimSuffix(strings.Repeat("0,", 20), ",") + "]"
	for p, d := range map[string]string{"$..*": doc, "$.a..*": doc, "$..a": doc, "$..[?(@.a)]": doc,
		"$..['a','b']": doc, "$.a.a.a..*": doc, "$[*]": arr, "$[0:]": arr, "$[::-1]": arr, "$[?(@ == 0)]": arr} {
		rs, err := MustCompile(p).SelectStringMax(d, 10)
		require.True(t, errors.Is(err, ErrTooManyMatches), "%s: %v (%d matches)", p, err, len(rs))
	}
	rs, err = MustCompile("$.a.a").SelectStringMax(doc, 10)
	require.NoError(t, err)
	assert.Len(t, rs, 1)
}

func TestSliceForms(t *testing.T) {
	doc := `[0,1,2,3,4,5,6]`
	for path, want := range map[string]string{
		"$[1::3]":    "1 4",
		"$[3:0:-1]":  "3 2 1",
		"$[-1::-3]":  "6 3 0",
		"$[5:2]":     "",
		"$[-100:2]":  "0 1",
		"$[::-1]":    "6 5 4 3 2 1 0",
		"$[2:-2:2]":  "2 4",
		"$[10::-2]":  "6 4 2 0",
		"$[:-10:-1]": "6 5 4 3 2 1 0",
	} {
		rs, err := MustCompile(path).SelectString(doc)
		require.NoError(t, err, path)
		assert.Equal(t, want, strings.Join(raws(rs), " "), path)
	}
}
