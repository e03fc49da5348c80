// Package poller is the CCP polling engine: for one query window it builds the requests a
// definition describes, applies auth, rate limits and retries, walks every page with the
// definition's paging type, extracts the events with Json.NET JSONPaths and hands each page
// to the caller, which delivers it before the next page is fetched.
//
// Hostile or broken APIs are bounded: credentials and configured headers go only to the
// apiEndpoint's scheme, host and port (internal/origin; a paging link elsewhere is followed
// bare, a redirect elsewhere is refused); error bodies and logged content are scrubbed of every
// secret the auth layer knows and the request carried; a page over MaxEventsPerPage (or an
// eventsJsonPaths step selecting more) is refused, never truncated; and data skipped on purpose
// (max_pages_per_window) is an error log plus a SkipObserver report.
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
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/origin"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller/internal/decode"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/jsonpath"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/timefmt"
	"github.com/otelcol-ccp/otelcol-ccp/internal/pdatajson/jsonscan"
	"github.com/otelcol-ccp/otelcol-ccp/internal/retryafter"
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

// Trace is one HTTP exchange of the engine, safe to show: the URL has no user info and every
// query value that holds a secret the request carried is masked.
type Trace struct {
	Time     time.Time
	Method   string
	URL      string
	Status   int // 0 when no answer came
	Duration time.Duration
	Bytes    int // response body bytes after decompression (0 on failure)
	Error    string
}

// TraceObserver is implemented by observers that keep the last requests of a connector (the
// status page shows them).
type TraceObserver interface {
	Traced(Trace)
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
	// Secrets are masked wherever the engine reports (errors, logs, traces) besides the auth's
	// own: the receiver passes the configured parameter values a definition may put in a
	// query string or a body, where the engine cannot tell them from other data.
	Secrets []string
	// MaxEventsPerPage caps the events of one page (the receiver's max_events_per_page); a
	// bigger page is refused with an error naming the cap, never truncated. It also caps the
	// matches of each eventsJsonPaths step.
	MaxEventsPerPage int
}

// DefaultMaxEventsPerPage is the MaxEventsPerPage used when it is zero.
const DefaultMaxEventsPerPage = 100_000

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

// WindowPoller polls one query window, handing each page to deliver in order, and returns the
// persistent cursor to save. *Engine implements it; decorators (nested steps) wrap it.
type WindowPoller interface {
	PollWindow(ctx context.Context, w window.Window, cursor, resume string, deliver func(context.Context, Page) error) (string, error)
}

var _ WindowPoller = (*Engine)(nil)

// Engine polls one definition. It is not safe for concurrent PollWindow calls; the receiver
// runs one poll at a time per connector, as CCP does.
type Engine struct {
	def       *definition.Definition
	o         Options
	client    *http.Client
	apiHost   string
	origin    origin.Origin // the only scheme, host and port credentials are sent to
	tf        timefmt.Formatter
	events    []*docPath
	rootPath  []bool
	wholeBody bool // every events path is "": one record per response
	status    *docPath
	pager     pager
	limiter   *ratelimit.Limiter
	pageLim   *ratelimit.Limiter
	warnOnce  sync.Map
	cmpWarned map[string]bool // eventsJsonPaths whose non-numeric comparisons were logged this window
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

// setDefaults fills the zero values of o.
func (o *Options) setDefaults() {
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
	if o.MaxEventsPerPage <= 0 {
		o.MaxEventsPerPage = DefaultMaxEventsPerPage
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
}

// New prepares an engine; errors name the definition field at fault.
func New(d *definition.Definition, o Options) (*Engine, error) {
	if err := d.Problems(); err != nil {
		return nil, err
	}
	o.setDefaults()
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
		c, err := compilePath(p)
		if err != nil {
			return nil, fmt.Errorf("response.eventsJsonPaths %q: %w", p, err)
		}
		e.events = append(e.events, c)
		e.rootPath = append(e.rootPath, false)
	}
	if d.Response.SuccessStatusJSONPath != "" && d.Response.SuccessStatusValue != "" {
		if e.status, err = compilePath(d.Response.SuccessStatusJSONPath); err != nil {
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
	e.cmpWarned = nil
	spec := e.pager.start(buildFirst(e.def, b), cursor)
	if resume != "" {
		var err error
		if spec, err = e.pager.seek(spec, resume); err != nil {
			return cursor, &RequestError{Endpoint: e.endpoint(e.def.Request.APIEndpoint), Msg: "cannot resume the window: " + err.Error()}
		}
	}
	for page := 1; spec != nil; page++ {
		if page > e.o.MaxPages {
			detail := fmt.Sprintf("%d pages read; the rest of the window is skipped: raise max_pages_per_window", e.o.MaxPages)
			e.o.Logger.Error("max_pages_per_window reached; the rest of this window is skipped (data lost): raise max_pages_per_window",
				zap.Int("max_pages_per_window", e.o.MaxPages), zap.Time("window_start", w.Start), zap.Time("window_end", w.End))
			ReportSkip(e.o.Observer, "max_pages_per_window", detail)
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
	endpoint := e.endpoint(spec.base)
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
	endpoint := e.endpoint(spec.base)
	rctx, cancel := context.WithTimeout(ctx, time.Duration(e.def.Request.TimeoutInSeconds)*time.Second)
	defer cancel()
	fullURL := spec.URL()
	req, sent, err := e.newRequest(rctx, spec, fullURL, endpoint)
	if err != nil {
		return pageResult{}, nil, 0, err
	}
	tr := Trace{Time: time.Now(), Method: req.Method}
	defer e.trace(&tr, req, sent)
	resp, err := e.client.Do(req)
	if err != nil {
		tr.Error = "no answer"
		e.o.Observer.Request("error")
		if ctx.Err() != nil {
			return pageResult{}, nil, 0, ctx.Err()
		}
		return pageResult{}, nil, 0, &RequestError{Endpoint: endpoint, Msg: e.scrubber(nil)(redactErr(err, fullURL)), Retryable: true}
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
	}()
	e.o.Observer.Request(statusClass(resp.StatusCode))
	tr.Status = resp.StatusCode
	scrub := e.scrubber(sent)
	if !e.successCode(resp.StatusCode) {
		re, wait := e.failure(resp, endpoint, scrub)
		return pageResult{}, nil, wait, re
	}
	e.proactiveThrottle(resp.Header)
	pg, events, err := e.readPage(rctx, resp, endpoint, scrub)
	var re *RequestError
	if errors.As(err, &re) {
		// Messages may quote the body (a status value, a decode error): an API may echo a secret.
		re.Msg = scrub(re.Msg)
	}
	pg.reqURL = fullURL
	tr.Bytes = pg.bytes
	return pg, events, 0, err
}

// newRequest builds the HTTP request for spec with its headers and, for the API's own origin
// only, its credentials. sent lists what the request carries that may be secret, so that an
// echo of it in the answer can be scrubbed.
func (e *Engine) newRequest(ctx context.Context, spec *reqSpec, fullURL, endpoint string) (req *http.Request, sent []string, err error) {
	body, ctype := spec.Body()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err = http.NewRequestWithContext(ctx, spec.method, fullURL, rd)
	if err != nil {
		return nil, nil, &RequestError{Endpoint: endpoint, Msg: "cannot build request: " + e.scrubber(nil)(redactErr(err, fullURL))}
	}
	// Same scheme too: an http:// link on the API's host would carry the credential in clear text.
	sameOrigin := e.origin.Allows(req.URL)
	hasCT := false
	for _, h := range spec.headers {
		if !sameOrigin && !harmlessHeader(h.name) {
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
	query := req.URL.RawQuery
	if e.o.Auth != nil {
		if sameOrigin {
			if err := e.o.Auth.Apply(ctx, req); err != nil {
				return nil, nil, &RequestError{Endpoint: endpoint, Msg: "authentication failed: " + auth.Scrub(e.o.Auth, err.Error()),
					Retryable: !errors.Is(err, context.Canceled), Auth: true}
			}
		} else if linkOrigin := origin.Of(req.URL).String(); !e.warnedOnce(linkOrigin) {
			e.o.Logger.Warn("paging link points to another origin (scheme, host or port); sending it without credentials",
				zap.String("link_origin", linkOrigin), zap.String("api_origin", e.origin.String()))
		}
	}
	return req, sentSecrets(req, query, e.templateKey()), nil
}

// failure turns a non-success answer into a RequestError whose message quotes the start of
// the body with secrets removed; wait is the server-requested delay before a retry.
func (e *Engine) failure(resp *http.Response, endpoint string, scrub func(string) string) (*RequestError, time.Duration) {
	re := &RequestError{Status: resp.StatusCode, Endpoint: endpoint, Msg: errorSnippet(resp.Body, scrub)}
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
	return re, wait
}

// readPage decodes a successful answer and extracts its events. The events alias the decoded
// body (no copy of it, none per event).
func (e *Engine) readPage(rctx context.Context, resp *http.Response, endpoint string, scrub func(string) string) (pageResult, []string, error) {
	r := e.def.Response
	doc, err := decode.DecodeString(resp.Body, decode.Options{
		Format:          r.Format,
		GzipCompressed:  r.IsGzipCompressed,
		CompressionAlgo: r.CompressionAlgo,
		ContentEncoding: resp.Header.Get("Content-Encoding"),
		CSVDelimiter:    r.CSVDelimiter,
		HasCSVHeader:    r.HasCSVHeader,
		CSVEscape:       r.CSVEscape,
		MaxBytes:        e.o.MaxBodySize,
		SizeHint:        max(resp.ContentLength, 0),
	})
	if err != nil {
		retry := !errors.Is(err, decode.ErrBodyTooLarge) && rctx.Err() != nil
		return pageResult{}, nil, &RequestError{Status: resp.StatusCode, Endpoint: endpoint, Msg: "reading response: " + err.Error(), Retryable: retry}
	}
	e.o.Observer.ResponseBytes(len(doc))
	if e.def.Request.LogResponseContent && e.o.Logger.Core().Enabled(zap.DebugLevel) {
		// The definition asked for response bodies in diagnostics (Sentinel's health log);
		// here they go to the debug log, truncated and scrubbed, with the URL's query left out.
		e.o.Logger.Debug("response content (logResponseContent)", zap.String("endpoint", endpoint),
			zap.Int("status", resp.StatusCode), zap.Int("bytes", len(doc)),
			zap.String("body", excerpt([]byte(doc[:min(len(doc), contentLogLen)]), len(doc) > contentLogLen, contentLogLen, scrub)))
	}
	pg := pageResult{header: resp.Header, bytes: len(doc)}
	if resp.StatusCode == http.StatusNoContent || strings.TrimSpace(doc) == "" {
		return pg, nil, nil
	}
	pg.doc = &pageDoc{text: doc}
	if e.status != nil {
		v, _ := e.status.scalar(pg.doc)
		if v != r.SuccessStatusValue {
			return pageResult{}, nil, &RequestError{Status: resp.StatusCode, Endpoint: endpoint,
				Msg: fmt.Sprintf("response.successStatusJsonPath %s is %q, want %q", r.SuccessStatusJSONPath, v, r.SuccessStatusValue)}
		}
	}
	events, err := e.extract(pg.doc)
	if err != nil {
		return pageResult{}, nil, &RequestError{Status: resp.StatusCode, Endpoint: endpoint, Msg: err.Error()}
	}
	pg.events = len(events)
	if e.wholeBody && len(events) == 1 {
		// With eventsJsonPaths [""] the whole body is one record (nested steps fan it out);
		// paging then counts the items of its largest top-level list (CrowdStrike's
		// "resources"), otherwise Offset paging would stop after the first page.
		pg.events = largestList(doc)
	}
	return pg, events, nil
}

// extract applies every eventsJsonPaths entry and concatenates the results (§5.2 step 6). It
// counts first and refuses a page over MaxEventsPerPage before building anything, then fills
// one exactly sized slice: a page of millions of tiny events costs 16 bytes per event.
func (e *Engine) extract(doc *pageDoc) ([]string, error) {
	limit := e.o.MaxEventsPerPage
	var picked []gjson.Result
	for i, p := range e.events {
		if e.rootPath[i] {
			picked = append(picked, gjson.Parse(doc.text))
			continue
		}
		res, err := p.selectWarn(doc, limit, e.warnCompare)
		if errors.Is(err, jsonpath.ErrTooManyMatches) {
			return nil, e.tooManyEvents(fmt.Sprintf("eventsJsonPaths %q selects", p.String()))
		}
		if err != nil {
			if !e.warnedOnce("path:" + p.String()) {
				e.o.Logger.Warn("eventsJsonPaths entry selects nothing", zap.String("path", p.String()), zap.Error(err))
			}
			continue
		}
		picked = append(picked, res...)
	}
	n := 0
	for _, r := range picked {
		if n += e.eventsIn(r, limit-n); n > limit {
			return nil, e.tooManyEvents("the page holds")
		}
	}
	out := make([]string, 0, n)
	for _, r := range picked {
		out = e.appendEvents(out, r)
	}
	return out, nil
}

// warnCompare logs, once per eventsJsonPaths entry and window, a filter that compared a string
// that is not a number with a number: Json.NET would fail the whole selection, here the
// comparison is false (see the receiver README's deliberate differences).
func (e *Engine) warnCompare(w jsonpath.CompareWarning) {
	if e.cmpWarned[w.Path] {
		return
	}
	if e.cmpWarned == nil {
		e.cmpWarned = map[string]bool{}
	}
	e.cmpWarned[w.Path] = true
	e.o.Logger.Warn("eventsJsonPaths filter compares a non-numeric string with a number: the comparison is false "+
		"(Json.NET would fail the whole selection)", zap.String("path", w.Path), zap.String("value", auth.Scrub(e.o.Auth, w.Value)),
		zap.String("operator", w.Op), zap.String("number", w.Number), zap.Int("comparisons_in_page", w.Count))
}

func (e *Engine) tooManyEvents(what string) error {
	return fmt.Errorf("%s more than %d events, the cap on one page; the page is refused, not truncated: "+
		"raise max_events_per_page or make the API send smaller pages (paging.pageSize)", what, e.o.MaxEventsPerPage)
}

// spreads reports whether token r stands for its children (an array, or an object with
// convertChildPropertiesToArray) rather than for one event.
func (e *Engine) spreads(r gjson.Result) bool {
	return r.IsArray() || (r.IsObject() && e.def.Response.ConvertChildPropertiesToArray)
}

// eventsIn counts the events token r yields, stopping once it exceeds limit.
func (e *Engine) eventsIn(r gjson.Result, limit int) int {
	switch {
	case e.spreads(r):
		n := 0
		count := func() bool { n++; return n <= limit }
		if !jsonscan.Elements(r.Raw, 0, func(int, int) bool { return count() }) {
			n = 0 // not well-formed (never after validation): count as gjson does
			r.ForEach(func(_, _ gjson.Result) bool { return count() })
		}
		return n
	case r.Exists() && r.Type != gjson.Null:
		return 1
	}
	return 0
}

// appendEvents appends the events of token r: its elements (each aliasing the body) when it
// spreads, else r itself.
func (e *Engine) appendEvents(out []string, r gjson.Result) []string {
	switch {
	case e.spreads(r):
		n := len(out)
		raw := r.Raw
		if jsonscan.Elements(raw, 0, func(a, b int) bool { out = append(out, raw[a:b]); return true }) {
			return out
		}
		out = out[:n] // not well-formed (never after validation): split as gjson does
		r.ForEach(func(_, v gjson.Result) bool {
			out = append(out, v.Raw)
			return true
		})
	case r.Exists() && r.Type != gjson.Null:
		out = append(out, r.Raw)
	}
	return out
}

// largestList is the length of the largest array directly under the document's root object
// (1 when there is none, so a non-empty body still counts as one record).
func largestList(doc string) int {
	count := func(v gjson.Result) int {
		l := 0
		v.ForEach(func(_, _ gjson.Result) bool { l++; return true })
		return l
	}
	root := gjson.Parse(doc)
	if root.IsArray() {
		return count(root)
	}
	n := 1
	root.ForEach(func(_, v gjson.Result) bool {
		if v.IsArray() {
			if l := count(v); l > n || (l == 0 && n == 1) {
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
		d, _ = retryafter.Parse(h)
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

// trace hands a finished exchange to a TraceObserver, with a URL safe to show.
func (e *Engine) trace(tr *Trace, req *http.Request, sent []string) {
	to, ok := e.o.Observer.(TraceObserver)
	if !ok {
		return
	}
	tr.Duration = time.Since(tr.Time)
	tr.URL = maskedURL(req.URL.String(), e.scrubber(sent)) // as sent: after auth added to it
	to.Traced(*tr)
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
