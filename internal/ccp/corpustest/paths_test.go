package corpustest

import (
	"strings"
)

// step is one step of a "simple" JSONPath: a member name, "*" (every element), or "-1:" (the
// last element, as a slice). Anything else (filters, indexes, unions) is not simple: the
// emulator cannot build a document for it.
type step struct {
	name string
	star bool
	last bool
}

// parseSimple splits a Json.NET path made only of member names, [*] and [-1:] steps. A leading
// recursive descent ("$..records", "..response_metadata.next_cursor") is read as a top-level
// member: a document built that way is matched by the recursive path too.
func parseSimple(p string) ([]step, bool) {
	s := strings.TrimSpace(p)
	s = strings.TrimPrefix(s, "$")
	var out []step
	first := true
	for s != "" {
		switch {
		case strings.HasPrefix(s, ".."):
			if !first {
				return nil, false
			}
			s = s[2:]
			n := memberEnd(s)
			if n == 0 {
				return nil, false
			}
			out = append(out, step{name: s[:n]})
			s = s[n:]
		case strings.HasPrefix(s, ".["):
			s = s[1:] // "$.[-1:]" is "$[-1:]" in Json.NET
		case strings.HasPrefix(s, "."):
			s = s[1:]
			n := memberEnd(s)
			if n == 0 {
				return nil, false
			}
			out = append(out, step{name: s[:n]})
			s = s[n:]
		case strings.HasPrefix(s, "[*]"):
			out = append(out, step{star: true})
			s = s[3:]
		case strings.HasPrefix(s, "[-1:]"):
			out = append(out, step{last: true})
			s = s[5:]
		case strings.HasPrefix(s, "['"):
			end := strings.Index(s[2:], "']")
			if end < 0 {
				return nil, false
			}
			out = append(out, step{name: s[2 : 2+end]})
			s = s[2+end+2:]
		default:
			if !first {
				return nil, false
			}
			// a path without "$" (Prisma "null", Slack "..x"): relative to the root
			n := memberEnd(s)
			if n == 0 {
				return nil, false
			}
			out = append(out, step{name: s[:n]})
			s = s[n:]
		}
		first = false
	}
	return out, true
}

func memberEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', '[', ']', '(', ')', '?', '@', '\'', ' ':
			return i
		}
	}
	return len(s)
}

// names reports whether every step is a member name.
func names(steps []step) bool {
	for _, s := range steps {
		if s.star || s.last {
			return false
		}
	}
	return true
}

// sjsonPath renders member steps as an sjson path, escaping its special characters.
func sjsonPath(steps []step) string {
	r := strings.NewReplacer(".", `\.`, "*", `\*`, "?", `\?`, "|", `\|`, "#", `\#`, "@", `\@`, ":", `\:`)
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = r.Replace(s.name)
	}
	return strings.Join(parts, ".")
}

func sameNames(a, b []step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
