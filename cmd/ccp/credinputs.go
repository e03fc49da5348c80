package main

import (
	"regexp"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
)

// A parameter is a secret when its value reaches a credential, whatever its name: convert
// writes it as ${env:...} instead of the value given on the command line.

var (
	rawPlaceholderRE = regexp.MustCompile(`\{\{\s*([^{}\s]+)\s*\}\}`)
	rawParameterRE   = regexp.MustCompile(`(?i)parameters\(\s*['"]([^'"]+)['"]\s*\)`)
)

// credentialInputs returns the lower-case names of the inputs whose value ends up in a
// credential field: any field of an auth object (the poller's or a nested step's) and any
// request header. An address field (TokenEndpoint, SessionLoginRequestUri, ...) counts only
// for what stands in its query. resolved is p with every input set to its dummy (all): a
// dummy found in such a field names its input; the unresolved text is searched too
// ({{name}}, parameters('name')), for values an ARM function transforms (base64).
func credentialInputs(p, resolved connectorfile.Poller, all []connectorfile.Missing) map[string]bool {
	var resolvedTexts, rawTexts []string
	credentialTexts(resolved.Properties, false, 0, &resolvedTexts)
	credentialTexts(p.Properties, false, 0, &rawTexts)
	out := map[string]bool{}
	for _, m := range all {
		d, ok := m.Value.(string)
		if !ok || !strings.HasPrefix(strings.ToLower(d), "dummy-") {
			continue // numbers, booleans, allowed values: not distinctive enough to look for
		}
		for _, s := range resolvedTexts {
			if containsToken(s, d) {
				out[strings.ToLower(m.Name)] = true
			}
		}
	}
	for _, s := range rawTexts {
		for _, re := range []*regexp.Regexp{rawPlaceholderRE, rawParameterRE} {
			for _, g := range re.FindAllStringSubmatch(s, -1) {
				out[strings.ToLower(g[1])] = true
			}
		}
	}
	return out
}

// credentialTexts collects the strings of the credential fields under v (inCred: v is
// inside one already).
func credentialTexts(v any, inCred bool, depth int, into *[]string) {
	if depth > 64 {
		return
	}
	switch x := v.(type) {
	case string:
		if inCred {
			*into = append(*into, x)
		}
	case []any:
		for _, e := range x {
			credentialTexts(e, inCred, depth+1, into)
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			n := normKey(k)
			cred := inCred || n == "auth" || n == "headers"
			if cred && harmlessHeaderKey(n) {
				continue // User-Agent: "...{{_solutionVersion}}" carries no secret
			}
			if s, ok := x[k].(string); ok && cred && addressKey(n) {
				if i := strings.IndexByte(s, '?'); i >= 0 {
					*into = append(*into, s[i:]) // a key in the query is still a key
				}
				continue
			}
			credentialTexts(x[k], cred, depth+1, into)
		}
	}
}

// addressKey reports whether a normalised auth key holds a URL (where to log in, not what
// to log in with).
func addressKey(n string) bool {
	return strings.HasSuffix(n, "endpoint") || strings.HasSuffix(n, "uri") || strings.HasSuffix(n, "url")
}

func harmlessHeaderKey(n string) bool {
	switch n {
	case "accept", "contenttype", "useragent", "acceptencoding":
		return true
	}
	return false
}

// containsToken reports whether s holds tok not followed by more of a name (dummy-api
// inside dummy-apikey does not count).
func containsToken(s, tok string) bool {
	for i := 0; i+len(tok) <= len(s); {
		j := strings.Index(s[i:], tok)
		if j < 0 {
			return false
		}
		end := i + j + len(tok)
		if end == len(s) || !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", rune(s[end])) {
			return true
		}
		i = end
	}
	return false
}
