package nested

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/kql"
)

var placeholderRE = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)\$`)

func collectRefs(v any, into map[string]bool, depth int) {
	if depth > 64 {
		return
	}
	switch x := v.(type) {
	case string:
		for _, m := range placeholderRE.FindAllStringSubmatch(x, -1) {
			into[m[1]] = true
		}
	case map[string]any:
		for k, e := range x {
			collectRefs(k, into, depth+1)
			collectRefs(e, into, depth+1)
		}
	case []any:
		for _, e := range x {
			collectRefs(e, into, depth+1)
		}
	}
}

// substituteField replaces $name$ in one request field, escaping each value for where it
// lands: the URL (substituteURL: path-escaped in the path, query-escaped in the query; next to
// the host, a relative URL as Salesforce's $logFileUrl$ keeps its delimiters), header
// values (CR/LF become spaces), the body template (JSON-string escaping inside a quoted
// string) and everything else verbatim (query parameters are encoded by the engine).
func substituteField(key string, v any, row kql.Row, used []string) any {
	if len(used) == 0 {
		return v
	}
	k := strings.ToLower(strings.TrimSpace(key))
	switch k {
	case "apiendpoint":
		if s, ok := v.(string); ok {
			return substituteURL(s, row, used)
		}
	case "queryparameterstemplate":
		if s, ok := v.(string); ok {
			return substituteTemplate(s, row, used)
		}
	case "headers":
		return substituteTree(v, row, used, headerSafe, 0)
	}
	return substituteTree(v, row, used, verbatim, 0)
}

func substituteTree(v any, row kql.Row, used []string, esc func(string) string, depth int) any {
	if depth > 64 {
		return v
	}
	switch x := v.(type) {
	case string:
		return replacePlaceholders(x, row, used, esc)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[replacePlaceholders(k, row, used, esc)] = substituteTree(e, row, used, esc, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substituteTree(e, row, used, esc, depth+1)
		}
		return out
	}
	return v
}

func isUsed(used []string, name string) bool {
	for _, u := range used {
		if u == name {
			return true
		}
	}
	return false
}

func replacePlaceholders(s string, row kql.Row, used []string, esc func(string) string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		if !isUsed(used, name) {
			return m
		}
		return esc(row[name])
	})
}

// urlSafe percent-encodes what cannot stand in a URL (controls, space, non-ASCII, "<>\^`{|}#
// and a '%' that does not start an escape) and keeps the URL delimiters.
func urlSafe(s string) string {
	return percentEncode(s, func(c byte) bool {
		return c > 0x20 && c < 0x7f && strings.IndexByte("\"<>\\^`{|}#%", c) < 0
	})
}

// percentEncode writes every byte keep refuses as %XX; an existing %XX escape is kept as is.
func percentEncode(s string, keep func(c byte) bool) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		case keep(c):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func headerSafe(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// substituteTemplate substitutes in a body template. When the template is (lenient) JSON, a
// placeholder inside a '...' or "..." string gets the value escaped for that string; outside
// strings (a number position) the value is inserted as is.
func substituteTemplate(s string, row kql.Row, used []string) string {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return replacePlaceholders(s, row, used, func(v string) string { return v })
	}
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '$' {
			if loc := placeholderRE.FindStringIndex(s[i:]); loc != nil && loc[0] == 0 {
				name := s[i+1 : i+loc[1]-1]
				if isUsed(used, name) {
					v := row[name]
					if quote != 0 {
						v = jsonStringEscape(v, quote)
					}
					b.WriteString(v)
					i += loc[1] - 1
					continue
				}
			}
		}
		switch {
		case quote != 0 && c == '\\' && i+1 < len(s):
			b.WriteByte(c)
			i++
			c = s[i]
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		}
		b.WriteByte(c)
	}
	return b.String()
}

func jsonStringEscape(v string, quote byte) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' || c == quote:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// filler substitutes the used placeholders of row in one request field (see substituteField),
// for definition.Step.Props.
func filler(row kql.Row, used []string) func(key string, v any) any {
	return func(key string, v any) any { return substituteField(key, v, row, used) }
}
