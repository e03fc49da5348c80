package poller

// Reading a page: decode the successful answer, check its status path and cut out its events.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller/internal/decode"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/jsonpath"
	"github.com/otelcol-ccp/otelcol-ccp/internal/pdatajson/jsonscan"
)

// sizeHint is the size to read a body into: its Content-Length, or for a body sent in chunks a
// little more than the previous page's, as the pages of one API are alike in size (the body is
// then read into one buffer, not grown and copied step by step).
func (e *Engine) sizeHint(contentLength int64) int64 {
	if contentLength >= 0 {
		return contentLength
	}
	return e.lastBody + e.lastBody/8
}

// readPage decodes a successful answer and extracts its events. The events alias the decoded
// body (no copy of it, none per event).
func (e *Engine) readPage(rctx context.Context, resp *http.Response, x *exchange) (pageResult, []string, error) {
	doc, err := e.decodeBody(rctx, resp, x)
	if err != nil {
		return pageResult{}, nil, err
	}
	pg := pageResult{header: resp.Header, bytes: len(doc)}
	if resp.StatusCode == http.StatusNoContent || strings.TrimSpace(doc) == "" {
		return pg, nil, nil
	}
	pg.doc = &pageDoc{text: doc}
	fail := func(msg string) (pageResult, []string, error) {
		return pageResult{}, nil, &RequestError{Status: resp.StatusCode, Endpoint: x.endpoint, Msg: msg}
	}
	if r := e.def.Response; e.status != nil {
		if v, _ := e.status.scalar(pg.doc); v != r.SuccessStatusValue {
			return fail(fmt.Sprintf("response.successStatusJsonPath %s is %q, want %q", r.SuccessStatusJSONPath, v, r.SuccessStatusValue))
		}
	}
	events, err := e.extract(pg.doc)
	if err != nil {
		return fail(err.Error())
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

// decodeBody reads the answer into one strict JSON document (decompressed, converted from
// JSON lines, CSV or XML, validated) and logs it when the definition asks for it.
func (e *Engine) decodeBody(rctx context.Context, resp *http.Response, x *exchange) (string, error) {
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
		SizeHint:        e.sizeHint(resp.ContentLength),
	})
	if err != nil {
		retry := !errors.Is(err, decode.ErrBodyTooLarge) && rctx.Err() != nil
		return "", &RequestError{Status: resp.StatusCode, Endpoint: x.endpoint, Msg: "reading response: " + err.Error(), Retryable: retry}
	}
	e.lastBody = int64(len(doc))
	e.o.Observer.ResponseBytes(len(doc))
	if e.def.Request.LogResponseContent && e.o.Logger.Core().Enabled(zap.DebugLevel) {
		// The definition asked for response bodies in diagnostics (Sentinel's health log);
		// here they go to the debug log, truncated and scrubbed, with the URL's query left out.
		e.o.Logger.Debug("response content (logResponseContent)", zap.String("endpoint", x.endpoint),
			zap.Int("status", resp.StatusCode), zap.Int("bytes", len(doc)),
			zap.String("body", excerpt([]byte(doc[:min(len(doc), contentLogLen)]), len(doc) > contentLogLen, contentLogLen, x.scrub)))
	}
	return doc, nil
}

// extract applies every eventsJsonPaths entry and concatenates the results (§5.2 step 6) into
// one exactly sized slice. A page no bigger than the previous one is filled in one pass, in a
// slice of the previous page's size; otherwise it counts first and refuses a page over
// MaxEventsPerPage before building anything, then fills: a page of millions of tiny events
// costs 16 bytes per event.
func (e *Engine) extract(doc *pageDoc) ([]string, error) {
	picked, err := e.pick(doc)
	if err != nil {
		return nil, err
	}
	if out, ok := e.fill(picked, e.lastEvents); ok {
		e.lastEvents = len(out)
		return out, nil
	}
	limit := e.o.MaxEventsPerPage
	n := 0
	for _, r := range picked {
		if n += e.eventsIn(r, limit-n); n > limit {
			return nil, e.tooManyEvents("the page holds")
		}
	}
	out, _ := e.fill(picked, n)
	e.lastEvents = len(out)
	return out, nil
}

// fill appends the events of picked to a slice of capacity size; false when they do not fit
// (size 0 never fits a page with events). A slice less than half used is clipped.
func (e *Engine) fill(picked []gjson.Result, size int) ([]string, bool) {
	out := make([]string, 0, size)
	for _, r := range picked {
		var ok bool
		if out, ok = e.appendEvents(out, r); !ok {
			return nil, false
		}
	}
	if 2*len(out) < cap(out) {
		out = append(make([]string, 0, len(out)), out...)
	}
	return out, true
}

// pick evaluates every eventsJsonPaths entry on the page; an entry that selects more tokens
// than MaxEventsPerPage refuses the page.
func (e *Engine) pick(doc *pageDoc) ([]gjson.Result, error) {
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
	return picked, nil
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

// appendEvents appends the events of token r, its elements (each aliasing the body) when it
// spreads, else r itself, as far as out's capacity allows: false when one did not fit.
func (e *Engine) appendEvents(out []string, r gjson.Result) ([]string, bool) {
	fits := true
	add := func(ev string) bool {
		if fits = len(out) < cap(out); fits {
			out = append(out, ev)
		}
		return fits
	}
	switch {
	case e.spreads(r):
		n := len(out)
		raw := r.Raw
		if jsonscan.Elements(raw, 0, func(a, b int) bool { return add(raw[a:b]) }) {
			return out, fits
		}
		out, fits = out[:n], true // not well-formed (never after validation): split as gjson does
		r.ForEach(func(_, v gjson.Result) bool { return add(v.Raw) })
	case r.Exists() && r.Type != gjson.Null:
		add(r.Raw)
	}
	return out, fits
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
