// Package linkheader reads RFC 8288 (formerly 5988) Link header values, which CCP's LinkHeader
// paging follows: `<https://api/x?after=1>; rel="next", <...>; rel="prev"`.
package linkheader

import "strings"

// Next returns the target of the first link whose rel includes "next" across all given header
// values, or "" when there is none. Malformed entries are skipped, never fatal.
func Next(values []string) string {
	for _, v := range values {
		if u := nextIn(v); u != "" {
			return u
		}
	}
	return ""
}

func nextIn(v string) string {
	for len(v) > 0 {
		lt := strings.IndexByte(v, '<')
		if lt < 0 {
			return ""
		}
		gt := strings.IndexByte(v[lt:], '>')
		if gt < 0 {
			return ""
		}
		target := strings.TrimSpace(v[lt+1 : lt+gt])
		rest := v[lt+gt+1:]
		// Parameters run until the next comma that is outside quotes.
		params, tail := splitOutsideQuotes(rest, ',')
		if hasNextRel(params) && target != "" {
			return target
		}
		v = tail
	}
	return ""
}

// splitOutsideQuotes cuts s at the first sep that is not inside a quoted string.
func splitOutsideQuotes(s string, sep byte) (head, tail string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case sep:
			if !inQuote {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// hasNextRel reports whether the link's rel parameter lists "next". Only the first rel counts:
// RFC 8288 §3.3 says "The rel parameter MUST NOT appear more than once in a given link-value;
// occurrences after the first MUST be ignored by parsers", so `<a>; rel="x"; rel="next"` is not
// a next link. The value is a space-separated list of relation types (`rel="last next"`).
func hasNextRel(params string) bool {
	for params != "" {
		var p string
		p, params = splitOutsideQuotes(params, ';')
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		val = strings.Trim(strings.TrimSpace(val), `"'`)
		for _, r := range strings.Fields(val) {
			if strings.EqualFold(r, "next") {
				return true
			}
		}
		return false // the first rel decides
	}
	return false
}
