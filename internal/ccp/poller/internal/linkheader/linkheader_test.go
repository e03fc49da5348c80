package linkheader

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNext(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"github", `<https://api.github.com/orgs/o/audit-log?after=abc&per_page=100>; rel="next", <https://api.github.com/orgs/o/audit-log?before=x>; rel="prev"`, "https://api.github.com/orgs/o/audit-log?after=abc&per_page=100"},
		{"okta self first", `<https://x.okta.com/api/v1/logs?since=1>; rel="self", <https://x.okta.com/api/v1/logs?after=2>; rel="next"`, "https://x.okta.com/api/v1/logs?after=2"},
		{"unquoted multi rel", `</p?page=2>; rel=next`, "/p?page=2"},
		{"multi-valued rel", `<u2>; rel="last next"`, "u2"},
		{"comma in quoted param", `<u1>; title="a, b"; rel="prev", <u2>; rel="next"`, "u2"},
		{"none", `<u1>; rel="prev"`, ""},
		// RFC 8288 §3.3: "occurrences after the first MUST be ignored by parsers".
		{"second rel ignored", `<a>; rel="x"; rel="next"`, ""},
		{"second rel ignored, next link after it", `<a>; rel="x"; rel="next", <b>; rel="next"`, "b"},
		{"first rel wins over a later one", `<a>; rel="next"; rel="prev"`, "a"},
		// RFC 8288 §3.3: rel holds relation types separated by spaces (relation-types).
		{"space-separated list", `<a>; rel="x next"`, "a"},
		{"semicolon inside a quoted param", `<a>; title="x; rel=next"; rel="prev"`, ""},
		{"garbage", `rel="next"; <`, ""},
		{"empty", ``, ""},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, Next([]string{tc.in})) })
	}
	assert.Equal(t, "b", Next([]string{`<a>; rel="prev"`, `<b>; rel="next"`}), "several header lines")
}

func FuzzNext(f *testing.F) {
	f.Add(`<https://api.github.com/x?after=abc>; rel="next", <y>; rel="prev"`)
	f.Add(`<u1>; title="a, b"; rel="prev", <u2>; rel=next`)
	f.Add(`<<>>;;rel="next"`)
	f.Fuzz(func(t *testing.T, s string) {
		u := Next([]string{s})
		if u != "" && len(u) > len(s) {
			t.Fatalf("result longer than input: %q", u)
		}
	})
}
