package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// scrubber removes known secret values from text. Every parameter value is replaced: a
// secret-looking one by [REDACTED], any other by {{name}} so the trace stays readable.
type scrubber struct {
	pairs []string // old, new, ... longest first
}

func newScrubber(params map[string]string, secrets []string) *scrubber {
	type rep struct{ old, new string }
	var reps []rep
	add := func(v, with string) {
		if len(v) < 3 {
			return // "5", "on": replacing them would garble the trace and hide nothing
		}
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			reps = append(reps, rep{form, with})
		}
	}
	for _, s := range secrets {
		add(s, "[REDACTED]")
	}
	for _, k := range sortedKeys(params) {
		v := params[k]
		if secretish(k) || credentialConfKey(k) == "password" || credentialConfKey(k) == "api_key" {
			add(v, "[REDACTED]")
		} else {
			add(v, "{{"+k+"}}")
		}
	}
	// longest first so that a value containing another is replaced whole
	sort.SliceStable(reps, func(i, j int) bool { return len(reps[i].old) > len(reps[j].old) })
	s := &scrubber{}
	for _, r := range reps {
		s.pairs = append(s.pairs, r.old, r.new)
	}
	return s
}

func (s *scrubber) scrub(text string) string {
	if s == nil || len(s.pairs) == 0 {
		return text
	}
	return strings.NewReplacer(s.pairs...).Replace(text)
}

// scrubWriter scrubs everything written through it (the engine's log lines).
type scrubWriter struct {
	mu *sync.Mutex
	w  io.Writer
	s  *scrubber
}

func (sw scrubWriter) Write(p []byte) (int, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if _, err := io.WriteString(sw.w, sw.s.scrub(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (sw scrubWriter) Sync() error { return nil }

// traceTransport prints one redacted line per HTTP exchange: method, URL (values of
// secret-looking query parameters dropped, every parameter value scrubbed), the names (never
// the values) of the request headers, status, duration and response size.
type traceTransport struct {
	next http.RoundTripper
	out  scrubWriter
	now  func() time.Time
}

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := t.now()
	resp, err := t.next.RoundTrip(req)
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	head := fmt.Sprintf("%s %s", req.Method, redactQuery(req.URL.String()))
	if len(names) > 0 {
		head += " [headers: " + strings.Join(names, ", ") + "]"
	}
	if err != nil {
		fmt.Fprintf(t.out, "trace: %s -> error: %v (%s)\n", head, err, t.now().Sub(start).Round(time.Millisecond))
		return nil, err
	}
	resp.Body = &countingBody{rc: resp.Body, done: func(n int64) {
		fmt.Fprintf(t.out, "trace: %s -> %d (%s, %d bytes)\n", head, resp.StatusCode, t.now().Sub(start).Round(time.Millisecond), n)
	}}
	return resp, nil
}

// countingBody reports the bytes read when the body is closed.
type countingBody struct {
	rc   io.ReadCloser
	n    int64
	once sync.Once
	done func(int64)
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingBody) Close() error {
	err := c.rc.Close()
	c.once.Do(func() { c.done(c.n) })
	return err
}
