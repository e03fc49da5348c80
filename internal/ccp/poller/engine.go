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
//
// Where things are: engine.go polls a window (PollWindow) and retries a request (fetch);
// exchange.go is one request's cycle: build it, send it and classify the answer (classify.go),
// read the page (page.go: decode, status path, events); docpath.go reads the definition's
// JSONPaths on a page; paging.go and request.go build each page's request; redact.go keeps
// secrets out of errors, logs and traces.
package poller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/origin"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/timefmt"
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
	def        *definition.Definition
	o          Options
	client     *http.Client
	apiHost    string
	origin     origin.Origin // the only scheme, host and port credentials are sent to
	tf         timefmt.Formatter
	events     []*docPath
	rootPath   []bool
	wholeBody  bool // every events path is "": one record per response
	status     *docPath
	pager      pager
	limiter    *ratelimit.Limiter
	pageLim    *ratelimit.Limiter
	warnOnce   *sync.Map       // shared by the engines ForCall derives: a warning once per step
	cmpWarned  map[string]bool // eventsJsonPaths whose non-numeric comparisons were logged this window
	lastBody   int64           // size of the last page's decoded body, to read the next one at once
	lastEvents int             // events of the last page, to split the next one in one pass
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
	e := &Engine{o: o, warnOnce: &sync.Map{}}
	if err := e.setRequest(d); err != nil {
		return nil, err
	}
	d = e.def
	format := d.Request.QueryTimeFormat
	if strings.TrimSpace(format) == "" {
		format = o.DefaultTimeFormat
	}
	var err error
	if e.tf, err = timefmt.Compile(format); err != nil {
		return nil, fmt.Errorf("request.queryTimeFormat %q: %w", format, err)
	}
	if err := e.compileResponse(d); err != nil {
		return nil, err
	}
	e.limiter = o.Limiter
	if e.limiter == nil {
		e.limiter = ratelimit.New(d.Request.RateLimitQPS)
	}
	return e, nil
}

// ForCall derives the engine of one call of a nested step from the step's engine e, built
// once: d is the step's definition with this call's request filled in (URL, headers, query,
// body); its response, paging and time format are the step's, so the compiled JSONPaths, time
// format, rate limiter and warn-once memory are shared. a is the call's authenticator (nil
// when the filled URL left the step's origin). The new engine has its own paging state.
func (e *Engine) ForCall(d *definition.Definition, a auth.Authenticator) (*Engine, error) {
	n := &Engine{o: e.o, tf: e.tf, events: e.events, rootPath: e.rootPath, wholeBody: e.wholeBody,
		status: e.status, limiter: e.limiter, warnOnce: e.warnOnce}
	n.o.Auth = a
	if err := n.setRequest(d); err != nil {
		return nil, err
	}
	return n, nil
}

// setRequest takes the definition's endpoint: the origin credentials are confined to, the
// client that refuses redirects off it, and the pager and page rate of its requests.
func (e *Engine) setRequest(d *definition.Definition) error {
	u, err := url.Parse(d.Request.APIEndpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("request.apiEndpoint %q: not an absolute http(s) URL", redactURL(d.Request.APIEndpoint))
	}
	if strings.Contains(u.Path, "/.") {
		// Remove dot segments ("https://api.github.com/../org/audit-log" in Microsoft's own
		// example) as RFC 3986 resolution does; servers would otherwise see a path they 404.
		clean := u.ResolveReference(&url.URL{Path: u.Path, RawQuery: u.RawQuery})
		dd := *d
		dd.Request.APIEndpoint = clean.String()
		d = &dd
	}
	e.def, e.apiHost, e.origin = d, strings.ToLower(u.Host), origin.Of(u)
	// Credentials never follow a redirect to another scheme, host or port (never https to http).
	c := *e.o.HTTPClient
	c.CheckRedirect = origin.CheckRedirect(e.origin, 10)
	e.client = &c
	if e.pager, err = newPager(d, pagingOptions{OffsetMode: e.o.OffsetMode, OffsetSendZero: e.o.OffsetSendZero}); err != nil {
		return err
	}
	e.pageLim = ratelimit.New(d.Request.PaginatedCallsPerSecond)
	return nil
}

// compileResponse compiles the events and success-status JSONPaths.
func (e *Engine) compileResponse(d *definition.Definition) error {
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
			return fmt.Errorf("response.eventsJsonPaths %q: %w", p, err)
		}
		e.events = append(e.events, c)
		e.rootPath = append(e.rootPath, false)
	}
	if d.Response.SuccessStatusJSONPath != "" && d.Response.SuccessStatusValue != "" {
		var err error
		if e.status, err = compilePath(d.Response.SuccessStatusJSONPath); err != nil {
			return fmt.Errorf("response.successStatusJsonPath %q: %w", d.Response.SuccessStatusJSONPath, err)
		}
	}
	return nil
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
