package jsonscan

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tidwall/gjson"
)

var samples = []string{
	``, ` `, `{}`, `[]`, ` {"a":1} `, `{"a":1,}`, `[1,]`, `[,1]`, `{"a" 1}`, `{"a":}`, `{,}`, `{"a":1 "b":2}`,
	`"x"`, `"\u00e9\n\t\"\\\/\b\f\r"`, `"\u00g0"`, `"\x"`, `"a` + "\x01" + `"`, "\"a\x7f\xff\"", `"abc`, `"\`, `"\u12`,
	`0`, `-0`, `01`, `-`, `-a`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-7`, `1e5x`, `12345678901234567890`, `+1`,
	`true`, `tru`, `truex`, `false`, `fals`, `null`, `nul`, `nullnull`, `[true,false,null]`, `{"a":[{"b":{}}]}`,
	`[[[]]]`, `[[[]]`, `[]]`, `{"a":1}}`, `{"a":{"b":[1,2,{"c":"d"}]},"e":"` + strings.Repeat("y", 37) + `"}`,
	"{\"a\"\n:\r\t1 }", `{"a":1}x`, `[1 2]`, `{"\"":"\\"}`, `"` + strings.Repeat(`a\"`, 9) + `"`,
}

func TestValidAgreesWithGJSON(t *testing.T) {
	for _, s := range samples {
		ok, deep := Valid(s, 0)
		assert.Equal(t, gjson.Valid(s), ok, "%q", s)
		assert.Equal(t, -1, deep, "%q", s)
		okb := gjson.ValidBytes([]byte(s))
		assert.Equal(t, okb, ok, "%q as bytes", s)
	}
}

func TestValidDepth(t *testing.T) {
	ok, deep := Valid(`[[1],{"a":[2]}]`, 3)
	assert.True(t, ok)
	assert.Equal(t, -1, deep)
	ok, deep = Valid(`[[1],{"a":[2]}]`, 2)
	assert.False(t, ok)
	assert.Equal(t, 10, deep, "the third level opens at offset 10")
	ok, deep = Valid(`[{"a"}, [[[]]]]`, 2)
	assert.False(t, ok)
	assert.Equal(t, -1, deep, "a syntax error before the deep part is a syntax error")
	deepDoc := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	ok, _ = Valid(deepDoc, 0)
	assert.True(t, ok, "no recursion: any depth is scanned")
}

func TestSkipAndElements(t *testing.T) {
	for _, s := range []string{`[1, "a,]", {"b":[2,{"c":"}"}]}, true , null,-1.5e3,[]]`, `{"k":"v" , "o":{"x":[1]},"e":"\"}"}`, `[]`, `{ }`} {
		var got, want []string
		assert.True(t, Elements(s, 0, func(a, b int) bool { got = append(got, s[a:b]); return true }), s)
		gjson.Parse(s).ForEach(func(_, v gjson.Result) bool { want = append(want, v.Raw); return true })
		assert.Equal(t, want, got, s)
		assert.Equal(t, len(s), Skip(s, 0), s)
	}
	n := 0
	assert.True(t, Elements(`[1,2,3]`, 0, func(int, int) bool { n++; return n < 2 }), "stopping early is not an error")
	assert.Equal(t, 2, n)
	for _, bad := range []string{`[1,`, `[1 2]`, `{"a" 1}`, `{1:2}`, `x`, `["abc]`} {
		assert.False(t, Elements(bad, 0, func(int, int) bool { return true }), bad)
	}
	assert.Equal(t, -1, Skip(`{"a":[1}`, 0), "a container never closed")
}

func FuzzValid(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok, deep := Valid(s, 0)
		if ok != gjson.Valid(s) || deep != -1 {
			t.Fatalf("Valid(%q) = %v, %d; gjson says %v", s, ok, deep, gjson.Valid(s))
		}
		if !ok {
			return
		}
		i := SkipSpace(s, 0)
		if end := Skip(s, i); SkipSpace(s, end) != len(s) {
			t.Fatalf("Skip(%q) = %d", s, end)
		}
		r := gjson.Parse(s)
		if r.IsArray() || r.IsObject() {
			var got, want []string
			Elements(s, i, func(a, b int) bool { got = append(got, s[a:b]); return true })
			r.ForEach(func(_, v gjson.Result) bool { want = append(want, v.Raw); return true })
			assert.Equal(t, want, got, s)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	doc := `{"data":[` + strings.Repeat(`{"id":"evt-0000000042","time":"2024-01-01T00:00:02.52Z","user":"bob@example.com","seq":42,"message":"`+strings.Repeat("lorem ipsum ", 70)+`"},`, 999) + `{}]}`
	b.SetBytes(int64(len(doc)))
	b.Run("jsonscan", func(b *testing.B) {
		for b.Loop() {
			if ok, _ := Valid(doc, 512); !ok {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("gjson", func(b *testing.B) {
		for b.Loop() {
			if !gjson.Valid(doc) {
				b.Fatal("invalid")
			}
		}
	})
}

func TestStringEnd(t *testing.T) {
	for _, c := range []struct {
		s       string
		end     int
		escaped bool
	}{
		{`"abc",`, 5, false}, {`"a\"b"`, 6, true}, {`"a\\"x"`, 5, true}, {`"a\\\"b"`, 8, true},
		{`"\u0041"`, 8, true}, {`""`, 2, false}, {`"abc`, -1, false}, {`"a\"`, -1, true},
		// Long enough for the word-at-a-time path: the quote in the first or second word, a
		// backslash first, or neither within 16 bytes.
		{`"abc", "padding padding"`, 5, false}, {`"abcdefghijk", "padding"`, 13, false},
		{`"ab\"cdefgh", "padding"`, 12, true}, {`"abcdefghijklmnopqrstu", "pad"`, 23, false},
		{`"abcdefghijklmnopq\\rs", "pad"`, 23, true},
	} {
		end, escaped := StringEnd(c.s, 1)
		assert.Equal(t, c.end, end, c.s)
		if end > 0 {
			assert.Equal(t, c.escaped, escaped, c.s)
			vEnd, vEsc, ok := String(c.s, 1)
			assert.True(t, ok, c.s)
			assert.Equal(t, vEnd, end, "String and StringEnd agree on valid strings: %s", c.s)
			assert.Equal(t, vEsc, escaped, c.s)
		}
	}
}

func TestMembers(t *testing.T) {
	s := `{"a":1, "b\u0041" : [2,3] ,"a":{"c":"}"}}`
	type m struct{ name, raw string }
	var got, want []m
	assert.True(t, Members(s, 0, func(name string, a, b int) bool { got = append(got, m{name, s[a:b]}); return true }))
	gjson.Parse(s).ForEach(func(k, v gjson.Result) bool { want = append(want, m{k.Str, v.Raw}); return true })
	assert.Equal(t, want, got)
	assert.Equal(t, "bA", got[1].name, "escaped names are decoded")
	assert.False(t, Members(`[1]`, 0, func(string, int, int) bool { return true }), "an array has no members")
}
