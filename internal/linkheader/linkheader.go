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
		params, tail := splitParams(rest)
		if hasNextRel(params) && target != "" {
			return target
		}
		v = tail
	}
	return ""
}

func splitParams(s string) (params, tail string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

func hasNextRel(params string) bool {
	for _, p := range strings.Split(params, ";") {
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
	}
	return false
}
