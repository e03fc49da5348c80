package vendorapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
)

const maxRequestBody = 1 << 20

// params looks parameters up in the query string, then a form body, then a
// JSON body (by gjson path; a leading "$." is stripped).
type params struct {
	q    url.Values
	form url.Values
	json []byte
}

func (p *params) get(name string) (string, bool) {
	if v, ok := p.q[name]; ok && len(v) > 0 {
		return v[0], true
	}
	return p.getBody(name)
}

// getBody looks a parameter up in the form or JSON body only.
func (p *params) getBody(name string) (string, bool) {
	if v, ok := p.form[name]; ok && len(v) > 0 {
		return v[0], true
	}
	if p.json != nil {
		res := gjson.GetBytes(p.json, strings.TrimPrefix(name, "$."))
		if res.Exists() && res.Type != gjson.Null {
			if res.Type == gjson.String {
				return res.Str, true
			}
			return res.Raw, true
		}
	}
	return "", false
}

// badRequest is a 400 with a message.
type badRequest struct{ code, msg string }

func (e *badRequest) Error() string { return e.msg }

func bad(code, format string, a ...any) error {
	return &badRequest{code: code, msg: fmt.Sprintf(format, a...)}
}

func (s *Server) readParams(r *http.Request) (*params, error) {
	p := &params{q: r.URL.Query()}
	if r.Method != http.MethodPost {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return nil, bad("invalid_request", "cannot read request body: %v", err)
	}
	if len(body) > maxRequestBody {
		return nil, bad("invalid_request", "request body larger than %d bytes", maxRequestBody)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		f, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, bad("invalid_request", "malformed form body: %v", err)
		}
		p.form = f
		return p, nil
	}
	if !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
		return nil, bad("invalid_request", "POST body must be a JSON object or a form (Content-Type %q)", ct)
	}
	p.json = body
	return p, nil
}

func (s *Server) parseTime(name, v string) (int64, error) {
	switch s.cfg.TimeFormat {
	case TimeUnixSeconds, TimeUnixMillis:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, bad("invalid_time", "parameter %s=%q is not an integer unix timestamp (%s)", name, v, s.cfg.TimeFormat)
		}
		if s.cfg.TimeFormat == TimeUnixSeconds {
			if n > math.MaxInt64/1_000_000_000 || n < math.MinInt64/1_000_000_000 {
				return 0, bad("invalid_time", "parameter %s=%q out of range", name, v)
			}
			return n * 1e9, nil
		}
		if n > math.MaxInt64/1_000_000 || n < math.MinInt64/1_000_000 {
			return 0, bad("invalid_time", "parameter %s=%q out of range", name, v)
		}
		return n * 1e6, nil
	case TimeLayout:
		t, err := time.Parse(s.cfg.TimeLayout, v)
		if err != nil {
			return 0, bad("invalid_time", "parameter %s=%q does not match layout %q", name, v, s.cfg.TimeLayout)
		}
		return t.UnixNano(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, bad("invalid_time", "parameter %s=%q is not an ISO 8601 / RFC 3339 time like 2006-01-02T15:04:05Z", name, v)
	}
	return t.UnixNano(), nil
}

// window is the requested time window in unix ns.
type window struct {
	since, until       int64
	hasSince, hasUntil bool
	rawSince, rawUntil string
}

func (s *Server) readWindow(p *params) (window, error) {
	w := window{since: math.MinInt64, until: math.MaxInt64}
	var err error
	if v, ok := p.get(s.cfg.SinceParam); ok {
		if w.since, err = s.parseTime(s.cfg.SinceParam, v); err != nil {
			return w, err
		}
		w.hasSince, w.rawSince = true, v
	}
	if v, ok := p.get(s.cfg.UntilParam); ok {
		if w.until, err = s.parseTime(s.cfg.UntilParam, v); err != nil {
			return w, err
		}
		w.hasUntil, w.rawUntil = true, v
	}
	if w.since > w.until {
		return w, bad("invalid_time", "%s is after %s", s.cfg.SinceParam, s.cfg.UntilParam)
	}
	return w, nil
}

func (s *Server) requireWindow(w window) error {
	if s.cfg.WindowOptional {
		return nil
	}
	if !w.hasSince {
		return bad("invalid_time", "missing required parameter %s", s.cfg.SinceParam)
	}
	if !w.hasUntil {
		return bad("invalid_time", "missing required parameter %s", s.cfg.UntilParam)
	}
	return nil
}

func (s *Server) readPageSize(p *params) (int, error) {
	v, ok := p.get(s.cfg.PageSizeParam)
	if !ok {
		return s.cfg.PageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, bad("invalid_request", "parameter %s=%q must be a positive integer", s.cfg.PageSizeParam, v)
	}
	if n > s.cfg.MaxPageSize {
		return 0, bad("invalid_request", "parameter %s=%d exceeds the maximum %d", s.cfg.PageSizeParam, n, s.cfg.MaxPageSize)
	}
	return n, nil
}

func (s *Server) readIntParam(p *params, name string, def int) (int, error) {
	v, ok := p.get(name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, bad("invalid_request", "parameter %s=%q must be a non-negative integer", name, v)
	}
	return n, nil
}

// readToken returns the token from query/form, JSON body path or header;
// "" when absent. Different values in different places are a 400.
func (s *Server) readToken(p *params, r *http.Request) (string, error) {
	var found []string
	if v, ok := p.q[s.cfg.TokenParam]; ok && len(v) > 0 {
		found = append(found, v[0])
	}
	if v, ok := p.form[s.cfg.TokenParam]; ok && len(v) > 0 {
		found = append(found, v[0])
	}
	if p.json != nil {
		res := gjson.GetBytes(p.json, strings.TrimPrefix(s.cfg.TokenBodyPath, "$."))
		if res.Exists() && res.Type != gjson.Null {
			found = append(found, res.String())
		}
	}
	if v := r.Header.Get(s.cfg.TokenHeader); v != "" {
		found = append(found, v)
	}
	tok := ""
	for _, f := range found {
		if tok != "" && f != tok {
			return "", bad("invalid_token", "different page tokens in query, body and header")
		}
		tok = f
	}
	if len(found) > 0 && tok == "" {
		return "", bad("invalid_token", "empty page token")
	}
	return tok, nil
}

// page is what one 200 response carries.
type page struct {
	idx     []int
	extras  []field // body fields after the events
	headers [][2]string
}

type field struct {
	path string
	raw  string // raw JSON
}

func jsonString(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (pg *page) add(path, raw string) { pg.extras = append(pg.extras, field{path, raw}) }

var idxPool = sync.Pool{New: func() any { s := make([]int, 0, 1024); return &s }}

// collect returns up to limit visible events from [from, hi), the index after
// the last one examined, and whether a further visible event exists before
// hi. With stream=true it stops at the first event not yet visible.
func (s *Server) collect(dst []int, from, hi, limit int, now int64, stream bool) ([]int, int, bool) {
	st := s.store
	i := from
	for ; i < hi && len(dst) < limit; i++ {
		if st.timeNS(i) > now {
			return dst, i, false
		}
		if st.publishNS(i) > now {
			if stream {
				return dst, i, false
			}
			continue
		}
		dst = append(dst, i)
	}
	return dst, i, s.anyVisible(i, hi, now, stream)
}

func (s *Server) anyVisible(from, hi int, now int64, stream bool) bool {
	st := s.store
	for i := from; i < hi; i++ {
		if st.timeNS(i) > now {
			return false
		}
		if st.publishNS(i) <= now {
			return true
		}
		if stream {
			return false
		}
	}
	return false
}

// allVisible reports whether every event in [lo, hi) is visible.
func (s *Server) allVisible(lo, hi int, now int64) bool {
	return hi <= lo || s.store.timeNS(hi-1)+s.store.maxDelay() <= now
}

// nthVisible returns the index of the k-th (0-based) visible event in
// [lo, hi), or hi.
func (s *Server) nthVisible(lo, hi, k int, now int64) int {
	if s.allVisible(lo, hi, now) {
		return min(lo+k, hi)
	}
	for i := lo; i < hi; i++ {
		if s.store.publishNS(i) <= now {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return hi
}

func (s *Server) countVisible(lo, hi int, now int64) int {
	if s.allVisible(lo, hi, now) {
		return hi - lo
	}
	n := 0
	for i := lo; i < hi; i++ {
		if s.store.timeNS(i) > now {
			break
		}
		if s.store.publishNS(i) <= now {
			n++
		}
	}
	return n
}

func (s *Server) serveEvents(w *recorder, r *http.Request) {
	if r.Method != s.cfg.Method {
		w.Header().Set("Allow", s.cfg.Method)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use "+s.cfg.Method)
		return
	}
	// Auth comes before faults, as at a real API whose gateway authenticates
	// before rate limiting: bad credentials are a 401 even when a 429/500 is
	// scheduled, and a refused request does not use up a scheduled fault.
	p, perr := s.readParams(r)
	if !s.checkAuth(w, r, p) {
		return
	}
	d := s.decideFaults()
	if s.writeFault(w, r, d) {
		return
	}
	if perr != nil {
		s.writeBad(w, perr)
		return
	}
	ip := idxPool.Get().(*[]int)
	pg := page{idx: (*ip)[:0]}
	defer func() {
		if cap(pg.idx) <= 1<<16 {
			*ip = pg.idx[:0]
			idxPool.Put(ip)
		}
	}()
	if err := s.selectPage(&pg, p, r); err != nil {
		s.writeBad(w, err)
		return
	}
	if d.statusErr && s.cfg.StatusField != "" {
		var ep page
		ep.add(s.cfg.StatusField, `"error"`)
		ep.add("message", `"injected status error"`)
		s.writePage(w, &ep, d.gzip, false)
		return
	}
	s.writePage(w, &pg, d.gzip, true)
}

// writeFault waits out an injected delay and writes an injected 429 or 500;
// it reports whether the response is written.
func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, d faultDecision) bool {
	if d.delay > 0 {
		t := time.NewTimer(d.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	switch d.status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(d.retryAfter))
		writeError(w, d.status, "rate_limited", "too many requests (injected)")
		return true
	case http.StatusInternalServerError:
		writeError(w, d.status, "internal_error", "internal server error (injected)")
		return true
	}
	return false
}

func (s *Server) writeBad(w http.ResponseWriter, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		writeError(w, http.StatusBadRequest, br.code, br.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, "internal_error", err.Error())
}

// nextURL builds the URL of the next page: the events path with the
// original window parameters, the page size and the token.
func (s *Server) nextURL(r *http.Request, win window, ps int, tok string, relative bool) string {
	q := url.Values{}
	if win.hasSince {
		q.Set(s.cfg.SinceParam, win.rawSince)
	}
	if win.hasUntil {
		q.Set(s.cfg.UntilParam, win.rawUntil)
	}
	q.Set(s.cfg.PageSizeParam, strconv.Itoa(ps))
	q.Set(s.cfg.TokenParam, tok)
	u := s.cfg.Path + "?" + q.Encode()
	if relative {
		return u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + u
}
