package corpustest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/timefmt"
)

// defaultPageSize is the server-side page size when the definition sends none: small, so every
// window spans several pages and the poller's stop rule (short or empty page, no token, no
// link) is exercised.
const defaultPageSize = 7

// shape is an API emulator's configuration, derived from one parsed definition: where it
// lives, how it authenticates, how a window is expressed in a request, how pages are chained
// and where the events, token, flags and status go in a response.
type shape struct {
	def    *definition.Definition
	api    *url.URL
	wins   [2]window.Window
	rend   [2][2]string // rendered start/end of each window
	timeIn struct{ start, end bool }

	windowed   bool // the request carries the window (attribute or builtin)
	persistent bool // PersistentToken: the cursor continues across windows
	paging     string
	ps         int // page size served
	perWin     int // events per window
	sizeParam  string

	evPrefix   []step // where the events go (empty: root)
	evWrap     []step // names inside each element ($[*].event, edges[*].node)
	childProps bool
	jsonlines  bool
	docEvent   bool // events path "$" and other fields in the body: the document is the one event

	tokPath   []step // body token (names)
	tokHeader string
	tokEvent  []step // token is a field of the last event ("$.[-1:].log_id")
	flagPath  []step
	status    []step
	linkMode  string // header, named, body
	linkHdr   string
	linkPath  []step
	linkPre   string
	urlPath   []step // NextPageUrl
	pageNum   []step
	totalPath []step
	pageCount []step

	auth *authShape
}

// newShape derives the emulator from a definition; a non-empty reason says why the poller
// cannot be emulated honestly.
func newShape(d *definition.Definition, creds auth.Credentials, end time.Time) (*shape, string) {
	s := &shape{def: d, paging: d.Paging.Type}
	u, err := url.Parse(d.Request.APIEndpoint)
	if err != nil || u.Host == "" || u.Scheme != "https" {
		return nil, fmt.Sprintf("apiEndpoint %q is not an https URL", d.Request.APIEndpoint)
	}
	s.api = u
	format := d.Request.QueryTimeFormat
	if strings.TrimSpace(format) == "" {
		format = "yyyy-MM-ddTHH:mm:ssZ"
	}
	tf, err := timefmt.Compile(format)
	if err != nil {
		return nil, fmt.Sprintf("queryTimeFormat %q: %v", format, err)
	}
	w := time.Duration(d.Request.QueryWindowInMin) * time.Minute
	s.wins[0] = window.Window{Start: end.Add(-2 * w), End: end.Add(-w)}
	s.wins[1] = window.Window{Start: end.Add(-w), End: end}
	for i, win := range s.wins {
		s.rend[i] = [2]string{tf.Format(win.Start), tf.Format(win.End)}
	}
	if s.rend[0][0] == s.rend[1][0] || s.rend[0][1] == s.rend[1][1] {
		return nil, fmt.Sprintf("queryTimeFormat %q renders both windows alike", format)
	}

	// Where the window appears in requests.
	q := d.Request
	texts := []string{q.APIEndpoint, q.QueryParametersTemplate}
	for _, p := range q.QueryParameters {
		texts = append(texts, p.ValueString())
	}
	for _, h := range q.Headers {
		texts = append(texts, h.ValueString())
	}
	all := strings.Join(texts, "\n")
	s.timeIn.start = q.StartTimeAttributeName != "" || q.QueryTimeIntervalAttributeName != "" ||
		strings.Contains(all, "{_QueryWindowStartTime}") || strings.Contains(all, "{datetime:")
	s.timeIn.end = q.EndTimeAttributeName != "" || q.QueryTimeIntervalAttributeName != "" ||
		strings.Contains(all, "{_QueryWindowEndTime}") || strings.Contains(all, "{now:")
	s.windowed = s.timeIn.start || s.timeIn.end
	p := d.Paging
	switch p.Type {
	case definition.PagingPersistentToken:
		s.persistent = true
	case definition.PagingPersistentLinkHeader:
		return nil, "PersistentLinkHeader is not emulated (no corpus poller uses it)"
	}
	if !s.windowed && !s.persistent {
		return nil, "no time window and no persistent cursor in the definition: every poll re-reads the whole list by design, so events cannot come out exactly once"
	}

	// Auth.
	a, why := newAuthShape(d.Auth, creds)
	if why != "" {
		return nil, why
	}
	s.auth = a

	// Page size.
	s.ps = defaultPageSize
	if p.PageSize > 0 {
		s.ps = p.PageSize
		if p.PageSizeParameterName != "" {
			s.sizeParam = p.PageSizeParameterName
		}
	}

	// Response layout.
	r := d.Response
	if len(r.EventsJSONPaths) == 0 {
		return nil, "no eventsJsonPaths"
	}
	ev := strings.TrimSpace(r.EventsJSONPaths[0])
	steps, ok := parseSimple(ev)
	if !ok || ev == "" {
		return nil, fmt.Sprintf("eventsJsonPaths %q cannot be inverted (filter or index)", ev)
	}
	star := -1
	for i, st := range steps {
		switch {
		case st.last:
			return nil, fmt.Sprintf("eventsJsonPaths %q slices the events", ev)
		case st.star && star >= 0:
			return nil, fmt.Sprintf("eventsJsonPaths %q has two wildcards", ev)
		case st.star:
			star = i
		}
	}
	if star >= 0 {
		s.evPrefix, s.evWrap = steps[:star], steps[star+1:]
	} else {
		s.evPrefix = steps
	}
	s.childProps = r.ConvertChildPropertiesToArray
	if s.childProps && (star >= 0 || len(s.evPrefix) == 0) {
		return nil, fmt.Sprintf("convertChildPropertiesToArray with eventsJsonPaths %q", ev)
	}
	switch r.Format {
	case "json":
	case "jsonlines":
		s.jsonlines = true
		if len(steps) != 0 && !(len(steps) == 1 && steps[0].star) {
			return nil, fmt.Sprintf("jsonlines with eventsJsonPaths %q", ev)
		}
	default:
		return nil, "response format " + r.Format + " is not emulated"
	}
	if r.IsGzipCompressed || r.CompressionAlgo != "" {
		return nil, "compressed responses are not emulated"
	}
	bodyPath := func(field, path string) ([]step, string) {
		st, ok := parseSimple(path)
		if !ok || !names(st) || len(st) == 0 {
			return nil, fmt.Sprintf("%s %q cannot be built", field, path)
		}
		if len(s.evPrefix) == 0 && star >= 0 {
			return nil, fmt.Sprintf("%s %q needs an object body but the events are the root array", field, path)
		}
		if len(s.evPrefix) > 0 && len(st) > len(s.evPrefix) && sameNames(st[:len(s.evPrefix)], s.evPrefix) {
			return nil, fmt.Sprintf("file bug: %s %q lies inside the events %q, so it can never be read", field, path, ev)
		}
		return st, ""
	}
	if r.SuccessStatusJSONPath != "" && r.SuccessStatusValue != "" {
		if s.status, why = bodyPath("successStatusJsonPath", r.SuccessStatusJSONPath); why != "" {
			return nil, why
		}
	}
	switch p.Type {
	case definition.PagingNone:
	case definition.PagingNextPageToken, definition.PagingPersistentToken:
		if p.NextPageTokenJSONPath != "" {
			st, ok := parseSimple(p.NextPageTokenJSONPath)
			last := -1
			for i, x := range st {
				if x.last {
					last = i
				}
			}
			switch {
			case !ok:
				return nil, fmt.Sprintf("nextPageTokenJsonPath %q cannot be built", p.NextPageTokenJSONPath)
			case last >= 0:
				// the token is a field of the last event: "$.[-1:].log_id" over events at "$"
				if star >= 0 || len(s.evWrap) > 0 || !sameNames(st[:last], s.evPrefix) || !names(st[last+1:]) || len(st) == last+1 {
					return nil, fmt.Sprintf("nextPageTokenJsonPath %q slices something else than the events", p.NextPageTokenJSONPath)
				}
				s.tokEvent = st[last+1:]
			default:
				if s.tokPath, why = bodyPath("nextPageTokenJsonPath", p.NextPageTokenJSONPath); why != "" {
					return nil, why
				}
			}
		} else {
			s.tokHeader = p.NextPageTokenResponseHeader
		}
		if p.HasNextFlagJSONPath != "" {
			if s.flagPath, why = bodyPath("hasNextFlagJsonPath", p.HasNextFlagJSONPath); why != "" {
				return nil, why
			}
		}
	case definition.PagingLinkHeader:
		lp := strings.TrimSpace(p.LinkHeaderTokenJSONPath)
		switch i := strings.IndexByte(lp, '$'); {
		case lp == "":
			s.linkMode = "header"
		case i < 0:
			s.linkMode, s.linkHdr = "named", lp
		default:
			s.linkMode, s.linkPre = "body", lp[:i]
			if s.linkPath, why = bodyPath("linkHeaderTokenJsonPath", lp[i:]); why != "" {
				return nil, why
			}
		}
	case definition.PagingNextPageURL:
		if s.urlPath, why = bodyPath("nextPageTokenJsonPath", p.NextPageTokenJSONPath); why != "" {
			return nil, why
		}
		if p.HasNextFlagJSONPath != "" {
			if s.flagPath, why = bodyPath("hasNextFlagJsonPath", p.HasNextFlagJSONPath); why != "" {
				return nil, why
			}
		}
	case definition.PagingOffset:
	case definition.PagingCountBased:
		for _, x := range []struct {
			dst   *[]step
			field string
			path  string
		}{{&s.pageNum, "pageNumberJsonPath", p.PageNumberJSONPath}, {&s.totalPath, "totalResultsJsonPath", p.TotalResultsJSONPath},
			{&s.pageCount, "pageCountJsonPath", p.PageCountJSONPath}, {&s.flagPath, "hasNextFlagJsonPath", p.HasNextFlagJSONPath}} {
			if x.path != "" {
				if *x.dst, why = bodyPath(x.field, x.path); why != "" {
					return nil, why
				}
			}
		}
	default:
		return nil, "paging type " + p.Type + " is not emulated"
	}
	extras := len(s.tokPath) > 0 || len(s.flagPath) > 0 || len(s.status) > 0 || s.linkMode == "body" ||
		len(s.urlPath) > 0 || len(s.pageNum) > 0 || len(s.totalPath) > 0 || len(s.pageCount) > 0
	if extras && len(steps) == 0 {
		if s.jsonlines || s.persistent {
			return nil, fmt.Sprintf("eventsJsonPaths %q with other fields in the body", ev)
		}
		// "$" selects the whole document, an object: one event per page (Snowflake's
		// statement result carries its own statementStatusUrl).
		s.docEvent = true
		s.ps = 1
	}
	if s.jsonlines && (extras || len(s.tokEvent) > 0) {
		return nil, "jsonlines body with paging fields in it"
	}

	// Events per window: one page without paging; otherwise two full pages and a short one.
	switch {
	case p.Type == definition.PagingNone:
		s.perWin = 5
		s.ps = s.perWin
	case s.docEvent:
		s.perWin = 3
	default:
		s.perWin = 2*s.ps + (s.ps+1)/2
	}
	return s, ""
}

// tokState is what an issued paging token stands for.
type tokState struct {
	pos, end, win int
	stream        bool // PersistentToken: the end is whatever is visible when it is used
	final         bool // issued with has-more=false: following it is a protocol error
}

// emulator serves one shape for two windows. phase (1, then 2) is the server's "now": the
// events of window 2 exist only from phase 2 on.
type emulator struct {
	*shape
	name string

	mu       sync.Mutex
	phase    int
	tokens   map[string]tokState
	counter  int
	served   map[string]int
	problems []string
	apiCalls int
}

func newEmulator(s *shape, name string) *emulator {
	e := &emulator{shape: s, name: name, tokens: map[string]tokState{}, served: map[string]int{}}
	if len(s.tokEvent) > 0 {
		for g := 0; g < 2*s.perWin; g++ {
			st := tokState{pos: g + 1, end: (g/s.perWin + 1) * s.perWin, win: g / s.perWin, stream: s.persistent}
			e.tokens[cursorOf(g)] = st
		}
	}
	return e
}

// letters renders n as 8 lower-case letters: tokens never contain digits, so they cannot be
// mistaken for (or contain) a rendered epoch time, and never prefix one another.
func letters(n int) string {
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = byte('a' + n%26)
		n /= 26
	}
	return string(b)
}

func cursorOf(g int) string { return "cur" + letters(g) }

func (e *emulator) eventID(g int) string {
	return fmt.Sprintf("ev-w%d-%05d", g/e.perWin+1, g%e.perWin)
}

func (e *emulator) eventJSON(g int) string {
	w := e.wins[g/e.perWin]
	i := g % e.perWin
	t := w.Start.Add(time.Duration(i+1) * w.End.Sub(w.Start) / time.Duration(e.perWin+1))
	doc := fmt.Sprintf(`{"id":%q,"time":%q,"seq":%d}`, e.eventID(g), t.Format(time.RFC3339Nano), g)
	if len(e.tokEvent) > 0 {
		doc, _ = sjson.Set(doc, sjsonPath(e.tokEvent), cursorOf(g))
	}
	return doc
}

func (e *emulator) mint(prefix string) string {
	e.counter++
	return prefix + letters(e.counter)
}

func (e *emulator) fail(w http.ResponseWriter, status int, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	e.problems = append(e.problems, msg)
	http.Error(w, msg, status)
}

// samePath compares URL paths, "" being "/".
func samePath(a, b string) bool {
	if a == "" {
		a = "/"
	}
	if b == "" {
		b = "/"
	}
	return a == b
}

func hostOnly(h string) string {
	if x, _, err := net.SplitHostPort(h); err == nil {
		return x
	}
	return h
}

func (e *emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	defer e.mu.Unlock()
	host := hostOnly(r.Host)
	if tu := e.auth.tokenURL; tu != nil && strings.EqualFold(host, tu.Hostname()) && samePath(r.URL.Path, tu.Path) {
		if p := e.auth.serveToken(w, r, body, e.mint); p != "" {
			e.fail(w, http.StatusUnauthorized, "%s", p)
		}
		return
	}
	if !strings.EqualFold(host, e.api.Hostname()) || !samePath(r.URL.Path, e.api.Path) {
		e.fail(w, http.StatusNotFound, "request to an unknown endpoint %s %s%s", r.Method, host, r.URL.Path)
		return
	}
	e.apiCalls++
	if r.Method == http.MethodGet && len(body) > 0 {
		// servers ignore a GET body: whatever the client put there is lost
		e.fail(w, http.StatusBadRequest, "GET request with a body (%.120s)", body)
		return
	}
	if !e.auth.check(r, body) {
		// A client is expected to log in again once; the emulator records nothing for that.
		http.Error(w, `{"error":"invalid credentials"}`, http.StatusUnauthorized)
		return
	}
	e.serveAPI(w, r, body)
}

// rawText is everything of a request a window or token may be written in: the decoded query,
// the body (raw and form-decoded) and the header values.
func rawText(r *http.Request, body []byte) string {
	var b strings.Builder
	if q, err := url.QueryUnescape(r.URL.RawQuery); err == nil {
		b.WriteString(q)
	} else {
		b.WriteString(r.URL.RawQuery)
	}
	b.WriteByte('\n')
	b.Write(body)
	b.WriteByte('\n')
	if q, err := url.QueryUnescape(string(body)); err == nil {
		b.WriteString(q)
	}
	for _, vs := range r.Header {
		for _, v := range vs {
			b.WriteByte('\n')
			b.WriteString(v)
		}
	}
	return b.String()
}

// windowOf finds which window a request is about: -1 when it carries none.
func (e *emulator) windowOf(raw string) (int, string) {
	has := func(w, i int) bool { return strings.Contains(raw, e.rend[w][i]) }
	k := -1
	switch {
	case e.timeIn.start && has(0, 0):
		k = 0
	case e.timeIn.start && has(1, 0):
		k = 1
	case !e.timeIn.start && e.timeIn.end && has(0, 1):
		k = 0
	case !e.timeIn.start && e.timeIn.end && has(1, 1):
		k = 1
	}
	if k < 0 {
		return -1, ""
	}
	if e.timeIn.start && !has(k, 0) || e.timeIn.end && !has(k, 1) {
		return k, fmt.Sprintf("window %d request lacks its rendered start %q or end %q", k+1, e.rend[k][0], e.rend[k][1])
	}
	if k == 0 && e.timeIn.end && has(1, 1) {
		return k, "request carries parts of both windows"
	}
	return k, ""
}

// param reads a request parameter: a JSONPath into a JSON body ("$.request_data.search_from"),
// else a query parameter, a form field or a top-level JSON body field.
func param(r *http.Request, body []byte, name string) (string, bool) {
	if strings.HasPrefix(name, "$.") || strings.HasPrefix(name, "$[") {
		st, ok := parseSimple(name)
		if !ok || !gjson.ValidBytes(body) {
			return "", false
		}
		v := gjson.GetBytes(body, sjsonPath(st))
		return v.String(), v.Exists()
	}
	if vs, ok := r.URL.Query()[name]; ok && len(vs) > 0 {
		return vs[len(vs)-1], true
	}
	if gjson.ValidBytes(body) {
		v := gjson.GetBytes(body, sjsonPath([]step{{name: name}}))
		return v.String(), v.Exists()
	}
	if f, err := url.ParseQuery(string(body)); err == nil {
		if vs, ok := f[name]; ok && len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

func (e *emulator) findToken(raw string) (string, tokState, bool) {
	found := ""
	for t := range e.tokens {
		if strings.Contains(raw, t) {
			if found != "" {
				return "", tokState{}, false
			}
			found = t
		}
	}
	if found == "" {
		return "", tokState{}, false
	}
	return found, e.tokens[found], true
}

// checkFirst verifies a window's first request (GET) carries the definition's parameters.
func (e *emulator) checkFirst(r *http.Request, k int) string {
	q := e.def.Request
	if r.Method != q.HTTPMethod {
		return fmt.Sprintf("first request with method %s, want %s", r.Method, q.HTTPMethod)
	}
	if r.Method != http.MethodGet {
		return ""
	}
	got := r.URL.Query()
	rep := strings.NewReplacer("{_QueryWindowStartTime}", e.rend[k][0], "{_QueryWindowEndTime}", e.rend[k][1])
	want := map[string]string{}
	for _, p := range q.QueryParameters {
		want[p.Name] = rep.Replace(p.ValueString())
	}
	if q.StartTimeAttributeName != "" {
		want[q.StartTimeAttributeName] = e.rend[k][0]
	}
	if q.EndTimeAttributeName != "" {
		want[q.EndTimeAttributeName] = e.rend[k][1]
	}
	if n := q.QueryTimeIntervalAttributeName; n != "" {
		want[n] = q.QueryTimeIntervalPrepend + e.rend[k][0] + q.QueryTimeIntervalDelimiter + e.rend[k][1]
	}
	for k, vs := range e.api.Query() {
		want[k] = vs[0]
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if got.Get(n) != want[n] {
			return fmt.Sprintf("query parameter %s=%q, want %q", n, got.Get(n), want[n])
		}
	}
	return ""
}

func (e *emulator) serveAPI(w http.ResponseWriter, r *http.Request, body []byte) {
	raw := rawText(r, body)
	p := e.def.Paging
	visible := e.phase * e.perWin
	tok, st, hasTok := e.findToken(raw)
	k, bad := e.windowOf(raw)
	if bad != "" {
		e.fail(w, http.StatusBadRequest, "%s", bad)
		return
	}
	if k >= e.phase {
		e.fail(w, http.StatusBadRequest, "request for window %d during poll %d", k+1, e.phase)
		return
	}
	if e.sizeParam != "" {
		if v, _ := param(r, body, e.sizeParam); v != strconv.Itoa(e.ps) {
			e.fail(w, http.StatusBadRequest, "page size %s=%q, want %d", e.sizeParam, v, e.ps)
			return
		}
	}
	var pos, end, pageNo int
	switch {
	case hasTok:
		if st.final {
			e.fail(w, http.StatusBadRequest, "followed the token of a page whose has-more flag was false")
			return
		}
		if tok[:3] == "tok" && (p.Type == definition.PagingNextPageToken || p.Type == definition.PagingPersistentToken) {
			if h := p.NextPageRequestHeader; h != "" {
				if r.Header.Get(h) != tok {
					e.fail(w, http.StatusBadRequest, "token not in request header %s", h)
					return
				}
			} else if v, _ := param(r, body, p.NextPageParaName); v != tok && !(e.auth.typ == "CiscoDuo" && v == "1600000000000,"+tok) {
				e.fail(w, http.StatusBadRequest, "token not sent as %s (got %q)", p.NextPageParaName, v)
				return
			}
		}
		if !st.stream && k >= 0 && k != st.win {
			e.fail(w, http.StatusBadRequest, "token of window %d sent with window %d", st.win+1, k+1)
			return
		}
		pos, end = st.pos, st.end
		if st.stream {
			end = visible
		}
	case !e.windowed:
		// pure cursor API without a cursor: the start of the stream
		if r.Method != e.def.Request.HTTPMethod {
			e.fail(w, http.StatusBadRequest, "first request with method %s", r.Method)
			return
		}
		pos, end = 0, visible
	case k < 0:
		e.fail(w, http.StatusBadRequest, "request carries no window and no known paging token")
		return
	default:
		pos, end = k*e.perWin, (k+1)*e.perWin
		if e.persistent {
			end = visible
		}
		switch p.Type {
		case definition.PagingOffset:
			off := 0
			if v, ok := param(r, body, p.OffsetParaName); ok {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					e.fail(w, http.StatusBadRequest, "offset %s=%q", p.OffsetParaName, v)
					return
				}
				off = n
			}
			if p.OffsetEndParaName != "" {
				if v, ok := param(r, body, p.OffsetEndParaName); ok {
					to, err := strconv.Atoi(v)
					if err != nil || to-off != e.ps {
						e.fail(w, http.StatusBadRequest, "offset end %s=%q with offset %d, want %d", p.OffsetEndParaName, v, off, off+e.ps)
						return
					}
				}
			}
			pos += off
		case definition.PagingCountBased:
			v, ok := param(r, body, p.PageNumberParaName)
			n, err := strconv.Atoi(v)
			base := 1
			if p.ZeroBasedIndexing {
				base = 0
			}
			if !ok || err != nil || n < base {
				e.fail(w, http.StatusBadRequest, "page number %s=%q (present %v)", p.PageNumberParaName, v, ok)
				return
			}
			pageNo = n
			pos += (n - base) * e.ps
		}
		if pos == k*e.perWin {
			if why := e.checkFirst(r, k); why != "" {
				e.fail(w, http.StatusBadRequest, "%s", why)
				return
			}
		}
	}
	n := e.ps
	if pos >= end {
		n = 0
	} else if pos+n > end {
		n = end - pos
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = pos + i
		e.served[e.eventID(pos+i)]++
	}
	more := pos+n < end

	// the next-page pointer
	next := ""
	flag := more
	switch p.Type {
	case definition.PagingNextPageToken, definition.PagingPersistentToken:
		if len(e.tokEvent) > 0 {
			break
		}
		switch {
		case e.persistent && n == 0 && hasTok:
			next = tok
		case e.persistent:
			next = e.mint("tok")
			e.tokens[next] = tokState{pos: pos + n, stream: true}
		case more:
			next = e.mint("tok")
			e.tokens[next] = tokState{pos: pos + n, end: end, win: (pos) / e.perWin}
		case len(e.flagPath) > 0:
			next = e.mint("tok")
			e.tokens[next] = tokState{final: true}
		}
	case definition.PagingLinkHeader, definition.PagingNextPageURL:
		if more {
			t := e.mint("tok")
			e.tokens[t] = tokState{pos: pos + n, end: end, win: pos / e.perWin}
			u := *r.URL
			u.Scheme, u.Host = "https", r.Host
			qv := u.Query()
			qv.Set("emu_cursor", t)
			u.RawQuery = qv.Encode()
			next = u.String()
		}
	}

	// the response
	if e.tokHeader != "" && next != "" {
		w.Header().Set(e.tokHeader, next)
	}
	switch e.linkMode {
	case "header":
		if next != "" {
			w.Header().Set("Link", "<"+next+`>; rel="next"`)
		}
	case "named":
		if next != "" {
			w.Header().Set(e.linkHdr, "<"+next+`>; rel="next"`)
		}
	}
	if n == 0 && (e.docEvent || e.jsonlines) {
		w.WriteHeader(http.StatusOK)
		return
	}
	doc := e.document(idx, next, flag, pageNo, end-e.perWin*(pos/e.perWin))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}

// document builds a response body holding the events idx and the paging fields.
func (e *emulator) document(idx []int, next string, more bool, pageNo, total int) []byte {
	evs := make([]string, len(idx))
	for i, g := range idx {
		evs[i] = e.eventJSON(g)
		if len(e.evWrap) > 0 {
			evs[i], _ = sjson.SetRaw("{}", sjsonPath(e.evWrap), evs[i])
		}
	}
	if e.jsonlines {
		return []byte(strings.Join(evs, "\n") + "\n")
	}
	var doc string
	switch {
	case e.docEvent:
		doc = evs[0]
	case e.childProps:
		obj := "{}"
		for i, g := range idx {
			obj, _ = sjson.SetRaw(obj, sjsonPath([]step{{name: e.eventID(g)}}), evs[i])
		}
		doc, _ = sjson.SetRaw("{}", sjsonPath(e.evPrefix), obj)
	default:
		arr := "[" + strings.Join(evs, ",") + "]"
		if len(e.evPrefix) == 0 {
			doc = arr
		} else {
			doc, _ = sjson.SetRaw("{}", sjsonPath(e.evPrefix), arr)
		}
	}
	set := func(path []step, v any) {
		if len(path) > 0 {
			doc, _ = sjson.Set(doc, sjsonPath(path), v)
		}
	}
	if len(e.tokPath) > 0 && next != "" {
		if e.auth.typ == "CiscoDuo" {
			// Duo's next_offset is [timestamp, txid]; clients send it back joined by ","
			doc, _ = sjson.SetRaw(doc, sjsonPath(e.tokPath), fmt.Sprintf(`["1600000000000",%q]`, next))
		} else {
			set(e.tokPath, next)
		}
	}
	if len(e.urlPath) > 0 && next != "" {
		set(e.urlPath, e.relativeNext(next))
	}
	if e.linkMode == "body" && next != "" {
		v := next
		if e.linkPre != "" {
			if !strings.HasPrefix(next, e.linkPre) {
				v = strings.TrimPrefix(next, "https://"+e.api.Host)
			} else {
				v = strings.TrimPrefix(next, e.linkPre)
			}
		}
		set(e.linkPath, v)
	}
	set(e.flagPath, more)
	if len(e.status) > 0 {
		set(e.status, e.def.Response.SuccessStatusValue)
	}
	if e.paging == definition.PagingCountBased {
		set(e.pageNum, pageNo)
		set(e.totalPath, total)
		set(e.pageCount, (total+e.ps-1)/e.ps)
	}
	return []byte(doc)
}

// relativeNext renders a NextPageUrl token: relative to nextPageUrl when the definition says so.
func (e *emulator) relativeNext(next string) string {
	p := e.def.Paging
	if !p.IsNextPageTokenRelativeURL {
		return next
	}
	base := strings.TrimRight(p.NextPageURL, "/")
	if base != "" && strings.HasPrefix(next, base) {
		return strings.TrimPrefix(next, base)
	}
	u, _ := url.Parse(next)
	return u.RequestURI()
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
