package poller

// Keeping secrets out of what the engine reports: errors, logs and traces.

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
)

// templateKey is the API key the auth puts into request bodies ({_APIKey}), if any.
func (e *Engine) templateKey() string {
	if tp, ok := e.o.Auth.(auth.TemplateProvider); ok && e.o.Auth != nil {
		return tp.TemplateValues()[auth.TemplateAPIKey]
	}
	return ""
}

// scrubber removes from a text what the auth layer knows is secret (auth.Scrub) and what this
// request carried that may be (sent).
func (e *Engine) scrubber(sent []string) func(string) string {
	return func(s string) string {
		s = auth.Scrub(e.o.Auth, s)
		for _, x := range sent {
			s = strings.ReplaceAll(s, x, "[REDACTED]")
		}
		for _, x := range e.o.Secrets {
			if len(x) >= 4 {
				s = strings.ReplaceAll(s, x, "[REDACTED]")
			}
		}
		return s
	}
}

// sentSecrets lists the values a request carries that may be secret, longest first, each also
// in the escaped forms an API may echo: every header an authenticator or the definition set
// (except protocol headers), the credential part of "<scheme> <credential>" values, cookie
// values, query values the authenticator added (query is the query before it ran), and the
// body's API key. Values under 4 characters are left alone: hiding them would garble messages.
func sentSecrets(req *http.Request, query, bodyKey string) []string {
	var vals []string
	for name, vs := range req.Header {
		if harmlessHeader(name) || strings.EqualFold(name, "Date") || strings.EqualFold(name, "Content-Length") {
			continue
		}
		for _, v := range vs {
			vals = append(vals, v)
			if i := strings.LastIndexByte(v, ' '); i > 0 && !strings.EqualFold(name, "Cookie") {
				vals = append(vals, v[i+1:])
			}
			if strings.EqualFold(name, "Cookie") {
				for _, c := range strings.Split(v, ";") {
					if _, cv, ok := strings.Cut(c, "="); ok {
						vals = append(vals, cv)
					}
				}
			}
		}
	}
	if req.URL.RawQuery != query {
		before, _ := url.ParseQuery(query)
		after, _ := url.ParseQuery(req.URL.RawQuery)
		for k, vs := range after {
			if strings.Join(before[k], "\x00") != strings.Join(vs, "\x00") {
				vals = append(vals, vs...)
			}
		}
	}
	vals = append(vals, bodyKey)
	var out []string
	for _, v := range vals {
		if v = strings.TrimSpace(v); len(v) < 4 {
			continue
		}
		q := strconv.Quote(v)
		out = append(out, v, url.QueryEscape(v), url.PathEscape(v), q[1:len(q)-1])
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func harmlessHeader(name string) bool {
	switch strings.ToLower(name) {
	case "accept", "content-type", "user-agent", "accept-encoding":
		return true
	}
	return false
}

// Lengths of the body excerpts in error messages and in the logResponseContent debug log.
const (
	errorReadLen  = 512
	errorShowLen  = 200
	contentLogLen = 2048
)

// errorSnippet keeps a short, single-line, scrubbed excerpt of an error body for messages.
func errorSnippet(r io.Reader, scrub func(string) string) string {
	b, _ := io.ReadAll(io.LimitReader(r, errorReadLen+1))
	cut := len(b) > errorReadLen
	s := strings.Join(strings.Fields(excerpt(b[:min(len(b), errorReadLen)], cut, errorReadLen, scrub)), " ")
	if len(s) > errorShowLen {
		s = s[:errorShowLen] + "..."
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

// excerpt returns b with secrets removed, at most max bytes. cut says b is only the start of
// a longer body: its last word may be the first part of a secret that scrub cannot recognise,
// so it is dropped.
func excerpt(b []byte, cut bool, max int, scrub func(string) string) string {
	if cut {
		if i := bytes.LastIndexAny(b, " \t\r\n\"',{}[]<>"); i >= 0 {
			b = b[:i+1]
		} else {
			b = nil
		}
	}
	s := scrub(string(b))
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// traced hands a finished exchange to a TraceObserver, with a URL safe to show.
func (e *Engine) traced(x *exchange) {
	to, ok := e.o.Observer.(TraceObserver)
	if !ok {
		return
	}
	x.trace.Duration = time.Since(x.trace.Time)
	x.trace.URL = maskedURL(x.req.URL.String(), x.scrub) // as sent: after auth added to it
	to.Traced(x.trace)
}

// maskedURL drops user info and masks every query value the scrubber changes (a secret).
func maskedURL(raw string, scrub func(string) string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactURL(raw)
	}
	u.User = nil
	q := u.Query()
	for k, vs := range q {
		for i, v := range vs {
			if scrub(v) != v {
				vs[i] = "***"
			}
		}
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return scrub(u.String())
}

// endpoint is a URL as errors name it: no query or user info, and no secret in its path (a
// parameter the definition puts there).
func (e *Engine) endpoint(raw string) string { return e.scrubber(nil)(redactURL(raw)) }

// redactURL drops the query string and user info, which may hold credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i]
		}
		return raw
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

func redactErr(err error, fullURL string) string {
	s := err.Error()
	if fullURL != "" {
		s = strings.ReplaceAll(s, fullURL, redactURL(fullURL))
		s = strings.ReplaceAll(s, strconv.Quote(fullURL), strconv.Quote(redactURL(fullURL)))
	}
	return s
}
