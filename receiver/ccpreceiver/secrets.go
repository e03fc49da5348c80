package ccpreceiver

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// paramSecrets are the configured parameter values the engine must mask in errors, logs and
// traces: a definition may put any of them in a query string or a body, where the engine cannot
// tell a token from other data. Values that name the API's host (a domain parameter) stay
// readable; so do values too short or too common to mask without garbling messages.
func (r *ccpReceiver) paramSecrets() []string {
	origin := "" // scheme://host[:port] of the API
	if u, err := url.Parse(r.loaded.Def.Request.APIEndpoint); err == nil {
		origin = strings.ToLower(u.Scheme + "://" + u.Host)
	}
	var out []string
	for _, v := range r.cfg.params() {
		for _, leaf := range paramLeaves(v) {
			if len(leaf) < 4 || strings.Contains(origin, strings.ToLower(leaf)) {
				continue
			}
			switch strings.ToLower(leaf) {
			case "true", "false", "null":
				continue
			}
			out = append(out, leaf)
		}
	}
	return out
}

// paramLeaves returns the scalar values inside a parameter: itself, or the leaves of the JSON
// object or array a map or list parameter became.
func paramLeaves(v string) []string {
	t := strings.TrimSpace(v)
	if !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[") {
		return []string{v}
	}
	var tree any
	if json.Unmarshal([]byte(t), &tree) != nil {
		return []string{v}
	}
	var out []string
	var walk func(any)
	walk = func(n any) {
		switch x := n.(type) {
		case map[string]any:
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		case nil:
		default:
			out = append(out, fmt.Sprint(x))
		}
	}
	walk(tree)
	return out
}
