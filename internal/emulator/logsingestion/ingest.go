package logsingestion

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIVersions are the api-version values the emulator accepts.
var APIVersions = []string{"2023-01-01", "2021-11-01-preview", "2023-04-01-preview"}

func (e *Emulator) writeAzureError(w http.ResponseWriter, status int, code, msg, _ string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("x-ms-error-code", code)
	h.Set("x-ms-request-id", newGUID())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
	_, _ = w.Write(b)
}

func (e *Emulator) finish(rec *Request, status int, code string) {
	rec.Status = status
	rec.ErrorCode = code
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats.Requests++
	e.stats.RequestsByStatus[status]++
	if code != "" {
		e.stats.ErrorsByCode[code]++
	}
	if rec.WireBytes > e.stats.MaxWireBytesSeen {
		e.stats.MaxWireBytesSeen = rec.WireBytes
	}
	if status == http.StatusNoContent {
		e.stats.accountWireLocked(rec)
	}
	e.requests = append(e.requests, *rec)
}

func (e *Emulator) fail(w http.ResponseWriter, rec *Request, status int, code, msg string) {
	e.finish(rec, status, code)
	e.writeAzureError(w, status, code, msg, "")
}

// ingestCall is one ingestion request on its way through the checks.
type ingestCall struct {
	w           http.ResponseWriter
	r           *http.Request
	rec         *Request
	dcr, stream string
	rawStream   string // the stream segment as sent, for messages
	claims      tokenClaims
	plain       []byte // the body after Content-Encoding
	rows        []map[string]any
	nonObject   int    // array elements that were not objects (dropped)
	bareObject  bool   // a top-level object: answered 204, data dropped
	skipFaults  bool   // Faults.SkipRequests let this one through
	faults      Faults // as they were when the faults were drawn
}

func (e *Emulator) serveIngest(w http.ResponseWriter, r *http.Request, _ []string) {
	c := &ingestCall{w: w, r: r, rec: &Request{Time: time.Now(), ContentEncoding: r.Header.Get("Content-Encoding"),
		ClientRequestID: r.Header.Get("x-ms-client-request-id"), ContentLength: r.ContentLength,
		APIVersion: r.URL.Query().Get("api-version")}}
	// Each step answers the request itself when it refuses it.
	steps := []func(*ingestCall) bool{e.route, e.authenticate, e.checkDestination, e.readBody,
		e.parseRows, e.injectFaults, e.checkRows}
	for _, step := range steps {
		if !step(c) {
			return
		}
	}
	e.store(c)
}

// failCall answers c with an Azure error; it returns false, for the steps to return.
func (e *Emulator) failCall(c *ingestCall, status int, code, msg string) bool {
	e.fail(c.w, c.rec, status, code, msg)
	return false
}

// route checks the path, the method and the api-version (steps 1 and 2).
func (e *Emulator) route(c *ingestCall) bool {
	// Segments are compared after percent-decoding; messages use the raw form.
	notFound := "The requested resource was not found: " + c.r.URL.EscapedPath()
	raw := strings.Split(strings.Trim(c.r.URL.EscapedPath(), "/"), "/")
	if len(raw) != 4 || !strings.EqualFold(raw[0], "dataCollectionRules") || !strings.EqualFold(raw[2], "streams") {
		return e.failCall(c, http.StatusNotFound, "NotFound", notFound)
	}
	dcr, err1 := url.PathUnescape(raw[1])
	stream, err2 := url.PathUnescape(raw[3])
	if err1 != nil || err2 != nil || dcr == "" || stream == "" {
		return e.failCall(c, http.StatusNotFound, "NotFound", notFound)
	}
	c.dcr, c.stream, c.rawStream = dcr, stream, raw[3]
	c.rec.DCR, c.rec.Stream = dcr, stream
	if c.r.Method != http.MethodPost {
		c.w.Header().Set("Allow", http.MethodPost)
		return e.failCall(c, http.StatusMethodNotAllowed, "MethodNotAllowed", fmt.Sprintf("The requested HTTP method '%s' is not supported.", c.r.Method))
	}
	if !c.r.URL.Query().Has("api-version") {
		return e.failCall(c, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
	}
	if !slices.Contains(APIVersions, c.rec.APIVersion) {
		return e.failCall(c, http.StatusBadRequest, "UnsupportedApiVersion",
			fmt.Sprintf("The HTTP resource that matches the request URI does not support the API version '%s'. Supported versions: %s.", c.rec.APIVersion, strings.Join(APIVersions, ", ")))
	}
	return true
}

// authenticate checks the bearer token (step 3).
func (e *Emulator) authenticate(c *ingestCall) bool {
	tok, ok := strings.CutPrefix(c.r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return e.failCall(c, http.StatusUnauthorized, "InvalidAuthenticationToken", "Authentication failed: the request does not carry a bearer token in the Authorization header.")
	}
	claims, err := e.verify(strings.TrimSpace(tok))
	if err != nil {
		return e.failCall(c, http.StatusUnauthorized, "InvalidAuthenticationToken", "Authentication failed: "+err.Error())
	}
	if strings.TrimRight(claims.Aud, "/") != e.opts.Audience {
		return e.failCall(c, http.StatusUnauthorized, "InvalidAudience",
			fmt.Sprintf("The audience '%s' of the access token is invalid; expected '%s'.", claims.Aud, e.opts.Audience))
	}
	if claims.IDTyp != "app" {
		return e.failCall(c, http.StatusUnauthorized, "UnsupportedAccessTokenType",
			"S2S17001: SAL was able to validate the protocol, but validation failed as none of the inbound policies were satisfied. Validation failures: 'UnsupportedAccessTokenType'.")
	}
	c.claims = claims
	c.rec.Principal = claims.AppID
	return true
}

// checkDestination checks the DCR, the principal's role on it, the stream and the per-DCR
// request limit (steps 4 to 7).
func (e *Emulator) checkDestination(c *ingestCall) bool {
	notFound, forbidden, _ := e.incidentFaults()
	streams, ok := e.opts.DCRs[c.dcr]
	if !ok || notFound {
		return e.failCall(c, http.StatusNotFound, "NotFound", fmt.Sprintf("Data collection rule with immutable Id '%s' not found.", c.dcr))
	}
	if e.opts.Publishers != nil || forbidden {
		if allowed, restricted := e.opts.Publishers[c.dcr]; forbidden || (restricted && !slices.Contains(allowed, c.claims.AppID)) {
			return e.failCall(c, http.StatusForbidden, "OperationFailed", fmt.Sprintf(
				"The authentication token provided does not have access to ingest data for the data collection rule with immutable Id '%s' PipelineAccessResult: AccessGranted: False, IsRbacPresent: False, IsDcrDceBindingValid: , DcrArmId: , Message: Required authorization action was not found for tenantId %s objectId %s on resourceId %s ConfigurationId: %s.",
				c.dcr, c.claims.Tid, c.claims.Oid, c.dcr, c.dcr))
		}
	}
	if !slices.Contains(streams, c.stream) {
		return e.failCall(c, http.StatusBadRequest, "InvalidStream",
			fmt.Sprintf("The stream %s was not configured in the data collection rule with immutable Id %s.", c.rawStream, c.dcr))
	}
	// Bytes are accounted after reading.
	if wait := e.admit(c.dcr); wait > 0 {
		secs := max(int(math.Ceil(wait.Seconds())), 1)
		c.w.Header().Set("Retry-After", strconv.Itoa(secs))
		return e.failCall(c, http.StatusTooManyRequests, "TooManyRequests",
			fmt.Sprintf("Rate limit of data collection rule '%s' exceeded. Retry after %d seconds.", c.dcr, secs))
	}
	return true
}

// readBody reads at most MaxWireBytes on the wire, applies Content-Encoding with the
// decompressed limit and checks Content-Type (steps 8 to 10).
func (e *Emulator) readBody(c *ingestCall) bool {
	limit := e.opts.MaxWireBytes
	tooLarge := func(provided string) bool {
		return e.failCall(c, http.StatusRequestEntityTooLarge, "ContentLengthLimitExceeded", fmt.Sprintf(
			"Maximum allowed content length: %d bytes (%d MB). Provided content length: %s bytes.", limit, limit>>20, provided))
	}
	if c.r.ContentLength > limit {
		c.rec.WireBytes = c.r.ContentLength
		return tooLarge(strconv.FormatInt(c.r.ContentLength, 10))
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, limit+1))
	c.rec.WireBytes = int64(len(body))
	if err != nil {
		e.finish(c.rec, 499, "ClientConnectionAbort")
		return false
	}
	if int64(len(body)) > limit {
		return tooLarge(fmt.Sprintf("more than %d", limit))
	}
	e.account(c.dcr, int64(len(body)))

	plain, code, msg := e.decode(c.r.Header.Get("Content-Encoding"), body)
	if code != "" {
		status := http.StatusBadRequest
		if code == "PayloadSizeLimitExceeded" {
			status = http.StatusRequestEntityTooLarge
		}
		return e.failCall(c, status, code, msg)
	}
	c.rec.DecompressedBytes = int64(len(plain))
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.r.Header.Get("Content-Type"), ";")[0]))
	if ct != "application/json" {
		return e.failCall(c, http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			fmt.Sprintf("Content-Type '%s' is not supported; use application/json.", c.r.Header.Get("Content-Type")))
	}
	c.plain = plain
	return true
}

// parseRows checks the body is UTF-8 JSON (step 11) and collects its object rows.
func (e *Emulator) parseRows(c *ingestCall) bool {
	invalid := func(msg string) bool { return e.failCall(c, http.StatusBadRequest, "InvalidJson", msg) }
	if !utf8.Valid(c.plain) {
		return invalid("The request body is not valid UTF-8 encoded JSON.")
	}
	dec := json.NewDecoder(bytes.NewReader(c.plain))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return invalid("The request body is not valid JSON: " + err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("The request body is not valid JSON: unexpected data after the top-level value.")
	}
	arr, ok := doc.([]any)
	if !ok {
		// The real service answers 204 to a non-array body and drops the data.
		c.bareObject = true
		return true
	}
	c.rows = make([]map[string]any, 0, len(arr))
	for _, el := range arr {
		if m, ok := el.(map[string]any); ok {
			c.rows = append(c.rows, m)
		} else {
			c.nonObject++
		}
	}
	return true
}

// injectFaults answers the injected 429 and 503 and waits the injected latency.
func (e *Emulator) injectFaults(c *ingestCall) bool {
	e.mu.Lock()
	f := e.faults
	c.faults = f
	inject := ""
	c.skipFaults = e.faults.SkipRequests > 0
	switch {
	case c.skipFaults:
		e.faults.SkipRequests--
	case e.faults.Throttle429Next > 0:
		e.faults.Throttle429Next--
		inject = "429"
	case e.faults.Fail503Next > 0:
		e.faults.Fail503Next--
		inject = "503"
	case e.faults.Fail503Rate > 0 && e.rng.Float64() < e.faults.Fail503Rate:
		inject = "503"
	}
	e.mu.Unlock()

	if f.Latency > 0 && !c.skipFaults && e.takeSlow() {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			t.Stop()
			e.finish(c.rec, 499, "ClientConnectionAbort")
			return false
		}
	}
	if inject == "" {
		return true
	}
	setRetryAfter(c.w.Header(), f.RetryAfter)
	if inject == "429" {
		return e.failCall(c, http.StatusTooManyRequests, "TooManyRequests", "Rate limit exceeded (injected). Retry after the period in the Retry-After header.")
	}
	return e.failCall(c, http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable (injected).")
}

// takeSlow reports whether this request gets the injected latency (always, unless SlowNext
// limited it to a number of requests, which it counts down).
func (e *Emulator) takeSlow() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.slowLimited {
		return true
	}
	if e.faults.SlowNext > 0 {
		e.faults.SlowNext--
		return true
	}
	return false
}

// checkRows applies the Auxiliary-plan time span and Faults.RejectRow (steps 12 and 13).
func (e *Emulator) checkRows(c *ingestCall) bool {
	if e.opts.AuxiliaryStreams[c.stream] {
		if span, ok := timeSpan(c.rows); ok && span > 30*time.Minute {
			return e.failCall(c, http.StatusBadRequest, "RecordsTimeRangeIsMoreThan30Minutes", fmt.Sprintf(
				"The TimeGenerated values of the records in one request span %s, more than 30 minutes.", span))
		}
	}
	reject := c.faults.RejectRow
	if reject == nil {
		return true
	}
	for i, row := range c.rows {
		if reject(row) {
			return e.failCall(c, http.StatusBadRequest, "InvalidPayload", fmt.Sprintf(
				"The request payload is invalid: record %d does not match the declaration of stream %s.", i, c.rawStream))
		}
	}
	return true
}

// store drops undeclared columns (step 14), stores the rows and answers 204, or drops the
// connection after storing when a fault says so.
func (e *Emulator) store(c *ingestCall) {
	colsDropped := 0
	if declared := e.opts.Columns[c.stream]; declared != nil {
		for _, row := range c.rows {
			for k := range row {
				if !slices.Contains(declared, k) {
					delete(row, k)
					colsDropped++
				}
			}
		}
	}
	c.rec.Rows = len(c.rows)
	e.mu.Lock()
	if !e.opts.DiscardRows {
		key := c.dcr + "\x00" + c.stream
		e.rows[key] = append(e.rows[key], c.rows...)
	}
	e.rowCount += len(c.rows)
	e.stats.RowsStored += len(c.rows)
	e.stats.ColumnsDropped += colsDropped
	e.stats.NonObjectRowsDropped += c.nonObject
	if c.bareObject {
		e.stats.SilentlyDroppedBodies++
	}
	drop := e.dropConnLocked(c.skipFaults)
	if drop {
		e.stats.DroppedConnections++
		e.stats.RowsInDroppedConns += len(c.rows)
	}
	e.mu.Unlock()
	if drop {
		c.rec.DroppedConn = true
		e.finish(c.rec, 0, "ConnectionDropped")
		// Aborts the connection (HTTP/1.1) or resets the stream (HTTP/2) without a response.
		panic(http.ErrAbortHandler)
	}
	e.finish(c.rec, http.StatusNoContent, "")
	h := c.w.Header()
	h.Set("x-ms-request-id", newGUID())
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Server", "Microsoft-HTTPAPI/2.0")
	c.w.WriteHeader(http.StatusNoContent)
}

// dropConnLocked decides whether the connection of a stored request is dropped.
func (e *Emulator) dropConnLocked(skip bool) bool {
	switch {
	case skip:
		return false
	case e.faults.DropConnNext > 0:
		e.faults.DropConnNext--
		return true
	default:
		return e.faults.DropConnRate > 0 && e.rng.Float64() < e.faults.DropConnRate
	}
}

func setRetryAfter(h http.Header, d time.Duration) {
	if d < time.Second {
		h.Set("retry-after-ms", strconv.FormatInt(d.Milliseconds(), 10))
		h.Set("Retry-After", "1")
		return
	}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}

// decode applies Content-Encoding with the decompressed-size limit.
func (e *Emulator) decode(enc string, body []byte) ([]byte, string, string) {
	limit := e.opts.MaxDecompressedBytes
	var rd io.Reader
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "identity":
		if int64(len(body)) > limit {
			return nil, "PayloadSizeLimitExceeded", fmt.Sprintf("The decompressed payload exceeds the limit of %d bytes.", limit)
		}
		return body, "", ""
	case "gzip":
		if len(body) >= 2 && body[0] == 0x78 { // zlib framing labelled gzip, which the service tolerates
			zr, err := zlib.NewReader(bytes.NewReader(body))
			if err != nil {
				return nil, "InvalidContentEncoding", "The request body could not be decompressed: " + err.Error()
			}
			rd = zr
		} else {
			gr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				return nil, "InvalidContentEncoding", "The request body could not be decompressed: " + err.Error()
			}
			gr.Multistream(false)
			rd = gr
		}
	default:
		return nil, "InvalidContentEncoding", fmt.Sprintf("Content-Encoding '%s' is not supported; use gzip.", enc)
	}
	out, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, "InvalidContentEncoding", "The request body could not be decompressed: " + err.Error()
	}
	if int64(len(out)) > limit {
		return nil, "PayloadSizeLimitExceeded", fmt.Sprintf("The decompressed payload exceeds the limit of %d bytes.", limit)
	}
	return out, "", ""
}

// admit applies the rolling 60-second request limit of a DCR and returns how long to wait.
func (e *Emulator) admit(dcr string) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	win := e.windows[dcr]
	cut := 0
	for cut < len(win) && now.Sub(win[cut].at) >= time.Minute {
		cut++
	}
	win = win[cut:]
	var total int64
	for _, w := range win {
		total += w.bytes
	}
	if len(win) >= e.opts.RequestsPerMinute {
		e.windows[dcr] = win
		return time.Minute - now.Sub(win[len(win)-e.opts.RequestsPerMinute].at)
	}
	if total >= e.opts.BytesPerMinute && len(win) > 0 {
		e.windows[dcr] = win
		return time.Minute - now.Sub(win[0].at)
	}
	e.windows[dcr] = append(win, windowEntry{at: now})
	return 0
}

func (e *Emulator) account(dcr string, n int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if win := e.windows[dcr]; len(win) > 0 {
		win[len(win)-1].bytes += n
	}
}

// timeSpan returns the span of the rows' TimeGenerated values (rows without one are ignored).
func timeSpan(rows []map[string]any) (time.Duration, bool) {
	var lo, hi time.Time
	for _, r := range rows {
		s, ok := r["TimeGenerated"].(string)
		if !ok {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			continue
		}
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if hi.IsZero() || t.After(hi) {
			hi = t
		}
	}
	return hi.Sub(lo), !lo.IsZero()
}
