package nested

import (
	"net/url"
	"strings"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/kql"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/origin"
)

// Credentials (the step's own auth or the parent's) and configured headers go only to the
// scheme, host and port that the definition writes literally: a $placeholder$ filled from
// response data must not choose where they are sent.

// staticOrigin is the origin a child apiEndpoint names before its first $placeholder$. ok is
// false when a placeholder is part of the scheme or authority (the host comes from data).
// A placeholder right after a complete host ("https://h.example$path$", Salesforce's
// $logFileUrl$) carries a relative URL: the origin is the host written before it, and a value
// that changes the host (".evil.example", "@evil.example", ":8443") lands elsewhere.
func staticOrigin(tmpl string) (o origin.Origin, ok bool) {
	t := strings.TrimSpace(tmpl)
	prefix, after := t, ""
	if loc := placeholderRE.FindStringIndex(t); loc != nil {
		prefix, after = t[:loc[0]], t[loc[1]:]
	}
	i := strings.Index(prefix, "://")
	if i <= 0 {
		return origin.Origin{}, false
	}
	scheme := strings.ToLower(prefix[:i])
	authority := prefix[i+3:]
	if j := strings.IndexAny(authority, "/?#"); j >= 0 {
		authority = authority[:j]
	} else if len(prefix) < len(t) && !relativeAfterHost(authority, after) {
		return origin.Origin{}, false
	}
	if authority == "" || (scheme != "http" && scheme != "https") {
		return origin.Origin{}, false
	}
	o, err := origin.Parse(scheme + "://" + authority)
	if err != nil || o.Host() == "" {
		return origin.Origin{}, false
	}
	return o, true
}

// relativeAfterHost reports whether a placeholder that directly follows authority starts a
// relative URL rather than continuing the host or port: the authority looks complete and the
// static text after the placeholder does not continue it.
func relativeAfterHost(authority, after string) bool {
	if authority == "" || strings.ContainsAny(authority[len(authority)-1:], ".:@-[") {
		return false
	}
	return after == "" || strings.ContainsAny(after[:1], "/?#$")
}

// urlPart is where in a URL template a placeholder stands.
type urlPart int

const (
	partAuthority urlPart = iota // before the authority is closed by '/', '?' or '#'
	partPath
	partQuery
	partFragment
)

// partAt classifies a position by the static text before it (earlier placeholders removed).
func partAt(static string) urlPart {
	if i := strings.Index(static, "://"); i >= 0 {
		static = static[i+3:]
	}
	j := strings.IndexAny(static, "/?#")
	switch {
	case j < 0:
		return partAuthority
	case strings.Contains(static[j:], "#"):
		return partFragment
	case strings.Contains(static[j:], "?"):
		return partQuery
	}
	return partPath
}

// substituteURL fills the placeholders of an apiEndpoint, each escaped for its position: in
// the path nothing but '/' can structure the URL (so a value can neither start a query nor
// reach the authority), in the query a value is one query-escaped value, and a value next to
// the host keeps its URL delimiters (a relative URL; the origin check decides its credentials).
func substituteURL(s string, row kql.Row, used []string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var out, static strings.Builder
	last := 0
	for _, loc := range placeholderRE.FindAllStringSubmatchIndex(s, -1) {
		out.WriteString(s[last:loc[0]])
		static.WriteString(s[last:loc[0]])
		last = loc[1]
		name := s[loc[2]:loc[3]]
		if !isUsed(used, name) {
			out.WriteString(s[loc[0]:loc[1]])
			continue
		}
		v := row[name]
		switch partAt(static.String()) {
		case partPath:
			out.WriteString(pathSafe(v))
		case partQuery:
			out.WriteString(url.QueryEscape(v))
		default:
			out.WriteString(urlSafe(v))
		}
	}
	out.WriteString(s[last:])
	return out.String()
}

// pathSafe percent-encodes everything a path segment may not hold literally (RFC 3986 pchar),
// '?' and '#' included; '/' stays (a value may name a sub-path) and so does an existing %XX.
func pathSafe(s string) string {
	return percentEncode(s, func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0
	})
}

// confine reports whether the child request of def may carry credentials: its URL is on the
// step's static origin. Otherwise it removes the configured headers and any user info from
// def and warns once per step.
func (r *Runner) confine(st *step, def *definition.Definition) bool {
	u, err := url.Parse(def.Request.APIEndpoint)
	if err == nil && st.origin.Allows(u) {
		return true
	}
	// Off its origin the call goes bare: configured headers, query parameters and body
	// templates may hold keys as much as the auth does.
	q := &def.Request
	q.Headers, q.QueryParameters, q.QueryParametersTemplate, q.HasTemplate = nil, nil, "", false
	def.Paging.NextPageURLQueryParameters, def.Paging.NextPageURLQueryParametersTemplate = nil, ""
	landed := "(unparsable URL)"
	if err == nil {
		if u.User != nil {
			u.User = nil
			def.Request.APIEndpoint = u.String()
		}
		landed = origin.Of(u).String()
	}
	if st.warnedOff.CompareAndSwap(false, true) {
		named := "none: the host is a $placeholder$"
		if !st.origin.IsZero() {
			named = st.origin.String()
		}
		r.log.Warn("nested step: the URL built from response data is not on the origin the definition names; "+
			"calling it without credentials, configured headers, query parameters or body",
			zap.String("step", st.Path), zap.String("url_origin", landed), zap.String("definition_origin", named))
	}
	return false
}
