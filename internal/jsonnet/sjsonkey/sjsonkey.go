// Package sjsonkey turns a plain JSON member name into an sjson path that sets exactly that
// member, whatever characters it holds.
package sjsonkey

import "strings"

var escaper = strings.NewReplacer(".", `\.`, "*", `\*`, "?", `\?`, "|", `\|`, "#", `\#`, "@", `\@`, ":", `\:`)

// Path escapes sjson's special characters; an all-digit name is forced to be a member (":"
// prefix) rather than an array index, so "0" sets {"0": v} and never [v].
func Path(name string) string {
	p := escaper.Replace(name)
	if name != "" && strings.Trim(name, "0123456789") == "" {
		p = ":" + p
	}
	return p
}
