// Package poller is the CCP polling engine: for one query window it builds the requests a
// definition describes, applies auth, rate limits and retries, walks every page with the
// definition's paging type, extracts the events with Json.NET JSONPaths and hands each page
// to the caller, which delivers it before the next page is fetched.
package poller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/decode"
	"github.com/otelcol-ccp/otelcol-ccp/internal/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonpath"
	"github.com/otelcol-ccp/otelcol-ccp/internal/origin"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ratelimit"
	"github.com/otelcol-ccp/otelcol-ccp/internal/timefmt"
	"github.com/otelcol-ccp/otelcol-ccp/internal/window"
)

// Observer receives the engine's counters; the receiver forwards them to its telemetry.
type Observer interface {
	Request(statusClass string)
	Retry()
	Throttle()
	ResponseBytes(n int)
}

// SkipObserver is implemented by observers that want to know when data is skipped on purpose
// (a page cap, a child-call budget): the receiver logs it at error level and counts it with the
// connector and window. reason is a short stable token (e.g. "max_pages_per_window",
// "nested_child_budget"); detail is a human sentence naming the setting to change.
type SkipObserver interface {
	Skipped(reason, detail string)
}

// ReportSkip tells o about skipped data when it implements SkipObserver.
func ReportSkip(o Observer, reason, detail string) {
	if s, ok := o.(SkipObserver); ok {
		s.Skipped(reason, detail)
	}
}

type nopObserver struct{}

func (nopObserver) Request(string)    {}
func (nopObserver) Retry()            {}
func (nopObserver) Throttle()         {}
func (nopObserver) ResponseBytes(int) {}

// Options configure an Engine. Zero values get safe defaults.
type Options struct {
	HTTPClient        *http.Client
	Auth              auth.Authenticator
	Logger            *zap.Logger
	Observer          Observer
	MaxBodySize       int64
	MaxPages          int
	DefaultTimeFormat string
	OffsetMode        string
	OffsetSendZero    bool
	// BaseBackoff and MaxBackoff bound the exponential retry delay; MaxRetryAfter caps how long
	// a server's Retry-After is honoured.
	BaseBackoff, MaxBackoff, MaxRetryAfter time.Duration
	// Limiter, when set, spaces every request of this engine instead of a limiter built from
	// request.rateLimitQPS: the parent engine and the nested child engines of one connector get
	// the same Limiter, so all of its calls share the connector's rateLimitQPS.
	Limiter *ratelimit.Limiter
}

// Page is one delivered page: its events as raw JSON texts, the cursor to persist once the
// events are safely in the pipeline ("" = keep the previous cursor), and Resume, the position
// of the window's next page ("" when this was the last page), which lets an interrupted window
// continue after its delivered pages instead of from the start.
type Page struct {
	Number int
	Events []string
	Cursor string
	Resume string
}

// Engine polls one definition. It is not safe for concurrent PollWindow calls; the receiver
// runs one poll at a time per connector, as CCP does.
type Engine struct {
	def       *definition.Definition
	o         Options
	client    *http.Client
	apiHost   string
	origin    origin.Origin // the only scheme, host and port credentials are sent to
	tf        timefmt.Formatter
	events    []*jsonpath.Path
	rootPath  []bool
	wholeBody bool // every events path is "": one record per response
	status    *jsonpath.Path
	pager     pager
	limiter   *ratelimit.Limiter
	pageLim   *ratelimit.Limiter
	warnOnce  sync.Map
}

// RequestError is a failed request: the status (0 for transport errors) and a message that
// never carries the query string, headers or body of the request (they may hold secrets).
type RequestError struct {
	Status    int
	Endpoint  string
	Msg       string
	Retryable bool
	Auth      bool // 401/403: credentials are wrong or lack permission
}

func (e *RequestError) Error() string {
	if e.Status > 0 {
		return fmt.Sprintf("%s: HTTP %d: %s", e.Endpoint, e.Status, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Endpoint, e.Msg)
}

// New prepares an engine; errors name the definition field at fault.
func New(d *definition.Definition, o Options) (*Engine, error) {
	if err := d.Problems(); err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.MaxBodySize <= 0 {
		o.MaxBodySize = 64 << 20
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 10000
	}
	if o.DefaultTimeFormat == "" {
		o.DefaultTimeFormat = "yyyy-MM-ddTHH:mm:ssZ"
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 5 * time.Minute
	}
	u, err := url.Parse(d.Request.APIEndpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("request.apiEndpoint %q: not an absolute http(s) URL", redactURL(d.Request.APIEndpoint))
	}
	if strings.Contains(u.Path, "/.") {
		// Remove dot segments ("https://api.github.com/../org/audit-log" in Microsoft's own
		// example) as RFC 3986 resolution does; servers would otherwise see a path they 404.
		clean := u.ResolveReference(&url.URL{Path: u.Path, RawQuery: u.RawQuery})
		dd := *d
		dd.Request.APIEndpoint = clean.String()
		d = &dd
	}
	e := &Engine{def: d, o: o, apiHost: strings.ToLower(u.Host), origin: origin.Of(u)}
	// Credentials never follow a redirect to another scheme, host or port (never https to http).
	c := *o.HTTPClient
	c.CheckRedirect = origin.CheckRedirect(e.origin, 10)
	e.client = &c
	format := d.Request.QueryTimeFormat
	if strings.TrimSpace(format) == "" {
		format = o.DefaultTimeFormat
	}
	if e.tf, err = timefmt.Compile(format); err != nil {
		return nil, fmt.Errorf("request.queryTimeFormat %q: %w", format, err)
	}
	e.wholeBody = len(d.Response.EventsJSONPaths) > 0
	for _, p := range d.Response.EventsJSONPaths {
		if strings.TrimSpace(p) != "" {
			e.wholeBody = false
		}
	}
	for _, p := range d.Response.EventsJSONPaths {
		if strings.TrimSpace(p) == "" {
			e.events = append(e.events, nil)
			e.rootPath = append(e.rootPath, true)
			continue
		}
		c, err := jsonpath.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("response.eventsJsonPaths %q: %w", p, err)
		}
		e.events = append(e.events, c)
		e.rootPath = append(e.rootPath, false)
	}
	if d.Response.SuccessStatusJSONPath != "" && d.Response.SuccessStatusValue != "" {
		if e.status, err = jsonpath.Compile(d.Response.SuccessStatusJSONPath); err != nil {
			return nil, fmt.Errorf("response.successStatusJsonPath %q: %w", d.Response.SuccessStatusJSONPath, err)
		}
	}
	if e.pager, err = newPager(d, pagingOptions{OffsetMode: o.OffsetMode, OffsetSendZero: o.OffsetSendZero}); err != nil {
		return nil, err
	}
	e.limiter = o.Limiter
	if e.limiter == nil {
		e.limiter = ratelimit.New(d.Request.RateLimitQPS)
	}
	e.pageLim = ratelimit.New(d.Request.PaginatedCallsPerSecond)
	return e, nil
}

// warnedOnce reports whether key was seen before, remembering it.
func (e *Engine) warnedOnce(key string) bool {
	_, seen := e.warnOnce.LoadOrStore(key, true)
	return seen
}

// APIHost is the only host credentials are sent to.
func (e *Engine) APIHost() string { return e.apiHost }

// PollWindow fetches every page of w, calling deliver for each page in order, and returns the
// cursor to persist. It stops at the first error: the caller must not advance its checkpoint.
// resume, a Page.Resume of an earlier attempt at the same window, continues after the pages
// that attempt delivered; "" starts at the window's first page.
func (e *Engine) PollWindow(ctx context.Context, w window.Window, cursor, resume string, deliver func(context.Context, Page) error) (string, error) {
	b := builtins{start: e.tf.Format(w.Start), end: e.tf.Format(w.End), startT: w.Start, endT: w.End}
	if tp, ok := e.o.Auth.(auth.TemplateProvider); ok && e.o.Auth != nil {
		vals := tp.TemplateValues()
		if k, ok := vals["{_APIKey}"]; ok {
			b.hasKey, b.key, b.apiKeyName = true, k, vals["{_APIKeyName}"]
		}
	}
	spec := e.pager.start(buildFirst(e.def, b), cursor)
	if resume != "" {
		var err error
		if spec, err = e.pager.seek(spec, resume); err != nil {
			return cursor, &RequestError{Endpoint: redactURL(e.def.Request.APIEndpoint), Msg: "cannot resume the window: " + err.Error()}
		}
	}
	for page := 1; spec != nil; page++ {
		if page > e.o.MaxPages {
			e.o.Logger.Warn("max_pages_per_window reached; the rest of this window is skipped",
				zap.Int("max_pages_per_window", e.o.MaxPages), zap.Time("window_start", w.Start))
			break
		}
		pg, events, err := e.fetch(ctx, spec, page > 1)
		if err != nil {
			return cursor, err
		}
		next, c, err := e.pager.next(spec, pg)
		if err != nil {
			return cursor, err
		}
		resumeAt := ""
		if next != nil {
			resumeAt = e.pager.position()
		}
		if err := deliver(ctx, Page{Number: page, Events: events, Cursor: c, Resume: resumeAt}); err != nil {
			return cursor, err
		}
		if c != "" {
			cursor = c
		}
		spec = next
	}
	return cursor, nil
}

// fetch sends one request with retries and returns the decoded page and its events.
func (e *Engine) fetch(ctx context.Context, spec *reqSpec, followUp bool) (pageResult, []string, error) {
	q := e.def.Request
	endpoint := redactURL(spec.base)
	attempts := q.RetryCount + 1
	reauthed := false
	var lastErr error
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			e.o.Observer.Retry()
		}
		if err := e.limiter.Wait(ctx); err != nil {
			return pageResult{}, nil, err
		}
		if followUp {
			if err := e.pageLim.Wait(ctx); err != nil {
				return pageResult{}, nil, err
			}
		}
		pg, events, wait, err := e.once(ctx, spec)
		if err == nil {
			return pg, events, nil
		}
		lastErr = err
		var re *RequestError
		if !errors.As(err, &re) {
			return pageResult{}, nil, err
		}
		if re.Status == http.StatusUnauthorized && !reauthed && e.o.Auth != nil {
			// One fresh login per request, then the 401 is final.
			reauthed = true
			e.o.Auth.Invalidate()
			attempt--
			continue
		}
		if !re.Retryable || attempt == attempts-1 {
			break
		}
		if wait <= 0 {
			wait = e.backoff(attempt)
		}
		if err := ratelimit.Sleep(ctx, wait); err != nil {
			return pageResult{}, nil, err
		}
	}
	if lastErr == nil {
		lastErr = &RequestError{Endpoint: endpoint, Msg: "no attempt made"}
	}
	return pageResult{}, nil, lastErr
}

func (e *Engine) backoff(attempt int) time.Duration {
	d := e.o.BaseBackoff << attempt
	if d > e.o.MaxBackoff || d <= 0 {
		d = e.o.MaxBackoff
	}
	// Full jitter in [d/2, d): spreads retries of many connectors.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// once performs a single HTTP exchange. wait > 0 is a server-requested delay before a retry.
func (e *Engine) once(ctx context.Context, spec *reqSpec) (pageResult, []string, time.Duration, error) {
	q := e.def.Request
	endpoint := redactURL(spec.base)
	rctx, cancel := context.WithTimeout(ctx, time.Duration(q.TimeoutInSeconds)*time.Second)
	defer cancel()
	body, ctype := spec.Body()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	fullURL := spec.URL()
	req, err := http.NewRequestWithContext(rctx, spec.method, fullURL, rd)
	if err != nil {
		return pageResult{}, nil, 0, &RequestError{Endpoint: endpoint, Msg: "cannot build request: " + redactErr(err, fullURL)}
	}
	// Same scheme too: an http:// link on the API's host would carry the credential in clear text.
	sameHost := e.origin.Allows(req.URL)
	hasCT := false
	for _, h := range spec.headers {
		if !sameHost && !harmlessHeader(h.name) {
			continue // configured headers may carry vendor secrets
		}
		req.Header.Set(h.name, h.value)
		if strings.EqualFold(h.name, "Content-Type") {
			hasCT = true
		}
	}
	if body != nil && !hasCT {
		req.Header.Set("Content-Type", ctype)
	}
	if e.o.Auth != nil {
		if sameHost {
			if err := e.o.Auth.Apply(rctx, req); err != nil {
				return pageResult{}, nil, 0, &RequestError{Endpoint: endpoint, Msg: "authentication failed: " + err.Error(), Retryable: !errors.Is(err, context.Canceled), Auth: true}
			}
		} else if linkOrigin := origin.Of(req.URL).String(); !e.warnedOnce(linkOrigin) {
			e.o.Logger.Warn("paging link points to another origin (scheme, host or port); sending it without credentials",
				zap.String("link_origin", linkOrigin), zap.String("api_origin", e.origin.String()))
		}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.o.Observer.Request("error")
		if ctx.Err() != nil {
			return pageResult{}, nil, 0, ctx.Err()
		}
		return pageResult{}, nil, 0, &RequestError{Endpoint: endpoint, Msg: redactErr(err, fullURL), Retryable: true}
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
	}()
	e.o.Observer.Request(statusClass(resp.StatusCode))
	if !e.successCode(resp.StatusCode) {
		msg := errorSnippet(resp.Body)
		re := &RequestError{Status: resp.StatusCode, Endpoint: endpoint, Msg: msg}
		var wait time.Duration
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			e.o.Observer.Throttle()
			re.Retryable = true
			wait = e.retryAfter(resp.Header)
		case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
			re.Retryable = true
			if resp.StatusCode == http.StatusServiceUnavailable {
				wait = e.retryAfter(resp.Header)
			}
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			re.Auth = true
		}
		return pageResult{}, nil, wait, re
	}
	e.proactiveThrottle(resp.Header)
	r := e.def.Response
	doc, err := decode.Decode(resp.Body, decode.Options{
		Format:          r.Format,
		GzipCompressed:  r.IsGzipCompressed,
		CompressionAlgo: r.CompressionAlgo,
		ContentEncoding: resp.Header.Get("Content-Encoding"),
		CSVDelimiter:    r.CSVDelimiter,
		HasCSVHeader:    r.HasCSVHeader,
		CSVEscape:       r.CSVEscape,
		MaxBytes:        e.o.MaxBodySize,
	})
	if err != nil {
		retry := !errors.Is(err, decode.ErrBodyTooLarge) && rctx.Err() != nil
		return pageResult{}, nil, 0, &RequestError{Status: resp.StatusCode, Endpoint: endpoint, Msg: "reading response: " + err.Error(), Retryable: retry}
	}
	e.o.Observer.ResponseBytes(len(doc))
	if e.def.Request.LogResponseContent && e.o.Logger.Core().Enabled(zap.DebugLevel) {
		// The definition asked for response bodies in diagnostics (Sentinel's health log);
		// here they go to the debug log, truncated, with the URL's query left out.
		snippet := doc
		if len(snippet) > 2048 {
			snippet = snippet[:2048]
		}
		e.o.Logger.Debug("response content (logResponseContent)", zap.String("endpoint", endpoint),
			zap.Int("status", resp.StatusCode), zap.Int("bytes", len(doc)), zap.ByteString("body", snippet))
	}
	pg := pageResult{header: resp.Header, reqURL: fullURL}
	if resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(doc)) == 0 {
		return pg, nil, 0, nil
	}
	pg.doc = doc
	if e.status != nil {
		v, _ := e.status.Scalar(doc)
		if v != r.SuccessStatusValue {
			return pageResult{}, nil, 0, &RequestError{Status: resp.StatusCode, Endpoint: endpoint,
				Msg: fmt.Sprintf("response.successStatusJsonPath %s is %q, want %q", r.SuccessStatusJSONPath, v, r.SuccessStatusValue)}
		}
	}
	events, err := e.extract(doc)
	if err != nil {
		return pageResult{}, nil, 0, &RequestError{Status: resp.StatusCode, Endpoint: endpoint, Msg: err.Error()}
	}
	pg.events = len(events)
	if e.wholeBody && len(events) == 1 {
		// With eventsJsonPaths [""] the whole body is one record (nested steps fan it out);
		// paging then counts the items of its largest top-level list (CrowdStrike's
		// "resources"), otherwise Offset paging would stop after the first page.
		pg.events = largestList(doc)
	}
	return pg, events, 0, nil
}

// extract applies every eventsJsonPaths entry and concatenates the results (§5.2 step 6).
func (e *Engine) extract(doc []byte) ([]string, error) {
	var out []string
	add := func(r gjson.Result) {
		switch {
		case r.IsArray():
			r.ForEach(func(_, v gjson.Result) bool {
				out = append(out, v.Raw)
				return true
			})
		case r.IsObject() && e.def.Response.ConvertChildPropertiesToArray:
			r.ForEach(func(_, v gjson.Result) bool {
				out = append(out, v.Raw)
				return true
			})
		case r.Exists() && r.Type != gjson.Null:
			out = append(out, r.Raw)
		}
	}
	for i, p := range e.events {
		if e.rootPath[i] {
			add(gjson.ParseBytes(doc))
			continue
		}
		res, err := p.Select(doc)
		if err != nil {
			if _, warned := e.warnOnce.LoadOrStore("path:"+p.String(), true); !warned {
				e.o.Logger.Warn("eventsJsonPaths entry selects nothing", zap.String("path", p.String()), zap.Error(err))
			}
			continue
		}
		for _, r := range res {
			add(r)
		}
	}
	return out, nil
}

// largestList is the length of the largest array directly under the document's root object
// (1 when there is none, so a non-empty body still counts as one record).
func largestList(doc []byte) int {
	n := 1
	root := gjson.ParseBytes(doc)
	if root.IsArray() {
		return len(root.Array())
	}
	root.ForEach(func(_, v gjson.Result) bool {
		if v.IsArray() {
			if l := len(v.Array()); l > n || (l == 0 && n == 1) {
				n = l
			}
		}
		return true
	})
	return n
}

func (e *Engine) successCode(code int) bool {
	if codes := e.def.Response.SuccessStatusCodes; len(codes) > 0 {
		for _, c := range codes {
			if c == code {
				return true
			}
		}
		return false
	}
	return code >= 200 && code < 300
}

// retryAfter reads Retry-After (seconds or HTTP date), retry-after-ms, and the rateLimitConfig
// reset header; the result is capped by MaxRetryAfter.
func (e *Engine) retryAfter(h http.Header) time.Duration {
	var d time.Duration
	if rl := e.def.Request.RateLimit; rl != nil && rl.CustomHeaders && rl.ResetHeader != "" {
		d = resetDelay(h.Get(rl.ResetHeader), rl.ResetFormat)
	}
	if d <= 0 {
		if v := h.Get("retry-after-ms"); v != "" {
			if ms, err := strconv.ParseFloat(v, 64); err == nil {
				d = time.Duration(ms * float64(time.Millisecond))
			}
		}
	}
	if d <= 0 {
		if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
			if s, err := strconv.ParseFloat(v, 64); err == nil {
				d = time.Duration(s * float64(time.Second))
			} else if t, err := http.ParseTime(v); err == nil {
				d = time.Until(t)
			}
		}
	}
	if d <= 0 {
		if v := h.Get("X-RateLimit-Reset"); v != "" {
			d = resetDelay(v, "UnixTimeSeconds")
		}
	}
	if d > e.o.MaxRetryAfter {
		d = e.o.MaxRetryAfter
	}
	return d
}

// proactiveThrottle waits for the reset when a rateLimitConfig says the budget is spent.
func (e *Engine) proactiveThrottle(h http.Header) {
	rl := e.def.Request.RateLimit
	if rl == nil || rl.OnlyWhen429 || !rl.CustomHeaders || rl.RemainingHeader == "" || rl.ResetHeader == "" {
		return
	}
	if v := strings.TrimSpace(h.Get(rl.RemainingHeader)); v == "0" {
		d := resetDelay(h.Get(rl.ResetHeader), rl.ResetFormat)
		if d > e.o.MaxRetryAfter {
			d = e.o.MaxRetryAfter
		}
		e.limiter.Delay(d)
	}
}

func resetDelay(v, format string) time.Duration {
	n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || n <= 0 {
		return 0
	}
	if strings.EqualFold(format, "UnixTimeSeconds") || n > 1e9 {
		return time.Until(time.Unix(int64(n), 0))
	}
	return time.Duration(n * float64(time.Second))
}

func statusClass(code int) string {
	switch {
	case code >= 200 && code < 300:
		return "2xx"
	case code >= 300 && code < 400:
		return "3xx"
	case code >= 400 && code < 500:
		return "4xx"
	}
	return "5xx"
}

func harmlessHeader(name string) bool {
	switch strings.ToLower(name) {
	case "accept", "content-type", "user-agent", "accept-encoding":
		return true
	}
	return false
}

// errorSnippet keeps a short, single-line excerpt of an error body for messages.
func errorSnippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

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
