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

func (e *Emulator) serveIngest(w http.ResponseWriter, r *http.Request, _ []string) {
	rec := &Request{Time: time.Now(), ContentEncoding: r.Header.Get("Content-Encoding"),
		ClientRequestID: r.Header.Get("x-ms-client-request-id"), ContentLength: r.ContentLength}
	rec.APIVersion = r.URL.Query().Get("api-version")

	// 1. Route. Segments are compared after percent-decoding; messages use the raw form.
	raw := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	if len(raw) != 4 || !strings.EqualFold(raw[0], "dataCollectionRules") || !strings.EqualFold(raw[2], "streams") {
		e.fail(w, rec, http.StatusNotFound, "NotFound", "The requested resource was not found: "+r.URL.EscapedPath())
		return
	}
	dcr, err1 := url.PathUnescape(raw[1])
	stream, err2 := url.PathUnescape(raw[3])
	if err1 != nil || err2 != nil || dcr == "" || stream == "" {
		e.fail(w, rec, http.StatusNotFound, "NotFound", "The requested resource was not found: "+r.URL.EscapedPath())
		return
	}
	rec.DCR, rec.Stream = dcr, stream
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		e.fail(w, rec, http.StatusMethodNotAllowed, "MethodNotAllowed", fmt.Sprintf("The requested HTTP method '%s' is not supported.", r.Method))
		return
	}

	// 2. api-version.
	if !r.URL.Query().Has("api-version") {
		e.fail(w, rec, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	if !slices.Contains(APIVersions, rec.APIVersion) {
		e.fail(w, rec, http.StatusBadRequest, "UnsupportedApiVersion",
			fmt.Sprintf("The HTTP resource that matches the request URI does not support the API version '%s'. Supported versions: %s.", rec.APIVersion, strings.Join(APIVersions, ", ")))
		return
	}

	// 3. Authentication.
	authz := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		e.fail(w, rec, http.StatusUnauthorized, "InvalidAuthenticationToken", "Authentication failed: the request does not carry a bearer token in the Authorization header.")
		return
	}
	claims, err := e.verify(strings.TrimSpace(tok))
	if err != nil {
		e.fail(w, rec, http.StatusUnauthorized, "InvalidAuthenticationToken", "Authentication failed: "+err.Error())
		return
	}
	if strings.TrimRight(claims.Aud, "/") != e.opts.Audience {
		e.fail(w, rec, http.StatusUnauthorized, "InvalidAudience",
			fmt.Sprintf("The audience '%s' of the access token is invalid; expected '%s'.", claims.Aud, e.opts.Audience))
		return
	}
	if claims.IDTyp != "app" {
		e.fail(w, rec, http.StatusUnauthorized, "UnsupportedAccessTokenType",
			"S2S17001: SAL was able to validate the protocol, but validation failed as none of the inbound policies were satisfied. Validation failures: 'UnsupportedAccessTokenType'.")
		return
	}
	rec.Principal = claims.AppID

	// 4. DCR lookup.
	notFound, forbidden, _ := e.incidentFaults()
	streams, ok := e.opts.DCRs[dcr]
	if !ok || notFound {
		e.fail(w, rec, http.StatusNotFound, "NotFound", fmt.Sprintf("Data collection rule with immutable Id '%s' not found.", dcr))
		return
	}
	// 5. Authorization.
	if e.opts.Publishers != nil || forbidden {
		if allowed, restricted := e.opts.Publishers[dcr]; forbidden || (restricted && !slices.Contains(allowed, claims.AppID)) {
			e.fail(w, rec, http.StatusForbidden, "OperationFailed", fmt.Sprintf(
				"The authentication token provided does not have access to ingest data for the data collection rule with immutable Id '%s' PipelineAccessResult: AccessGranted: False, IsRbacPresent: False, IsDcrDceBindingValid: , DcrArmId: , Message: Required authorization action was not found for tenantId %s objectId %s on resourceId %s ConfigurationId: %s.",
				dcr, claims.Tid, claims.Oid, dcr, dcr))
			return
		}
	}
	// 6. Stream.
	if !slices.Contains(streams, stream) {
		e.fail(w, rec, http.StatusBadRequest, "InvalidStream",
			fmt.Sprintf("The stream %s was not configured in the data collection rule with immutable Id %s.", raw[3], dcr))
		return
	}
	// 7. Per-DCR throttling (requests); bytes are accounted after reading.
	if wait := e.admit(dcr); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		e.fail(w, rec, http.StatusTooManyRequests, "TooManyRequests",
			fmt.Sprintf("Rate limit of data collection rule '%s' exceeded. Retry after %d seconds.", dcr, max(secs, 1)))
		return
	}

	// 8. Wire size.
	if r.ContentLength > e.opts.MaxWireBytes {
		rec.WireBytes = r.ContentLength
		e.fail(w, rec, http.StatusRequestEntityTooLarge, "ContentLengthLimitExceeded", fmt.Sprintf(
			"Maximum allowed content length: %d bytes (%d MB). Provided content length: %d bytes.",
			e.opts.MaxWireBytes, e.opts.MaxWireBytes>>20, r.ContentLength))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, e.opts.MaxWireBytes+1))
	rec.WireBytes = int64(len(body))
	if err != nil {
		e.finish(rec, 499, "ClientConnectionAbort")
		return
	}
	if int64(len(body)) > e.opts.MaxWireBytes {
		e.fail(w, rec, http.StatusRequestEntityTooLarge, "ContentLengthLimitExceeded", fmt.Sprintf(
			"Maximum allowed content length: %d bytes (%d MB). Provided content length: more than %d bytes.",
			e.opts.MaxWireBytes, e.opts.MaxWireBytes>>20, e.opts.MaxWireBytes))
		return
	}
	e.account(dcr, int64(len(body)))

	// 9. Content-Encoding and the decompressed limit.
	plain, code, msg := e.decode(r.Header.Get("Content-Encoding"), body)
	if code != "" {
		status := http.StatusBadRequest
		if code == "PayloadSizeLimitExceeded" {
			status = http.StatusRequestEntityTooLarge
		}
		e.fail(w, rec, status, code, msg)
		return
	}
	rec.DecompressedBytes = int64(len(plain))

	// 10. Content-Type.
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	if ct != "application/json" {
		e.fail(w, rec, http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			fmt.Sprintf("Content-Type '%s' is not supported; use application/json.", r.Header.Get("Content-Type")))
		return
	}

	// 11. JSON.
	if !utf8.Valid(plain) {
		e.fail(w, rec, http.StatusBadRequest, "InvalidJson", "The request body is not valid UTF-8 encoded JSON.")
		return
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		e.fail(w, rec, http.StatusBadRequest, "InvalidJson", "The request body is not valid JSON: "+err.Error())
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		e.fail(w, rec, http.StatusBadRequest, "InvalidJson", "The request body is not valid JSON: unexpected data after the top-level value.")
		return
	}
	var rows []map[string]any
	silentlyDropped := false
	nonObject := 0
	switch v := doc.(type) {
	case []any:
		rows = make([]map[string]any, 0, len(v))
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				rows = append(rows, m)
			} else {
				nonObject++
			}
		}
	default:
		// The real service answers 204 to a non-array body and drops the data.
		silentlyDropped = true
	}

	e.mu.Lock()
	f := e.faults
	inject := ""
	skip := e.faults.SkipRequests > 0
	if skip {
		e.faults.SkipRequests--
	}
	switch {
	case skip:
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

	slow := f.Latency > 0 && !skip
	if slow && e.slowLimited {
		e.mu.Lock()
		if e.faults.SlowNext > 0 {
			e.faults.SlowNext--
		} else {
			slow = false
		}
		e.mu.Unlock()
	}
	if slow {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			e.finish(rec, 499, "ClientConnectionAbort")
			return
		}
	}
	if inject != "" {
		setRetryAfter(w.Header(), f.RetryAfter)
		if inject == "429" {
			e.fail(w, rec, http.StatusTooManyRequests, "TooManyRequests", "Rate limit exceeded (injected). Retry after the period in the Retry-After header.")
		} else {
			e.fail(w, rec, http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable (injected).")
		}
		return
	}
	if e.opts.AuxiliaryStreams[stream] {
		if span, ok := timeSpan(rows); ok && span > 30*time.Minute {
			e.fail(w, rec, http.StatusBadRequest, "RecordsTimeRangeIsMoreThan30Minutes", fmt.Sprintf(
				"The TimeGenerated values of the records in one request span %s, more than 30 minutes.", span))
			return
		}
	}
	if f.RejectRow != nil {
		for i, row := range rows {
			if f.RejectRow(row) {
				e.fail(w, rec, http.StatusBadRequest, "InvalidPayload", fmt.Sprintf(
					"The request payload is invalid: record %d does not match the declaration of stream %s.", i, raw[3]))
				return
			}
		}
	}

	// Store.
	declared := e.opts.Columns[stream]
	colsDropped := 0
	if declared != nil {
		for _, row := range rows {
			for k := range row {
				if !slices.Contains(declared, k) {
					delete(row, k)
					colsDropped++
				}
			}
		}
	}
	rec.Rows = len(rows)
	e.mu.Lock()
	if !e.opts.DiscardRows {
		key := dcr + "\x00" + stream
		e.rows[key] = append(e.rows[key], rows...)
	}
	e.rowCount += len(rows)
	e.stats.RowsStored += len(rows)
	e.stats.ColumnsDropped += colsDropped
	e.stats.NonObjectRowsDropped += nonObject
	if silentlyDropped {
		e.stats.SilentlyDroppedBodies++
	}
	drop := false
	if skip {
	} else if e.faults.DropConnNext > 0 {
		e.faults.DropConnNext--
		drop = true
	} else if e.faults.DropConnRate > 0 && e.rng.Float64() < e.faults.DropConnRate {
		drop = true
	}
	if drop {
		e.stats.DroppedConnections++
		e.stats.RowsInDroppedConns += len(rows)
	}
	e.mu.Unlock()
	if drop {
		rec.DroppedConn = true
		e.finish(rec, 0, "ConnectionDropped")
		// Aborts the connection (HTTP/1.1) or resets the stream (HTTP/2) without a response.
		panic(http.ErrAbortHandler)
	}
	e.finish(rec, http.StatusNoContent, "")
	h := w.Header()
	h.Set("x-ms-request-id", newGUID())
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Server", "Microsoft-HTTPAPI/2.0")
	w.WriteHeader(http.StatusNoContent)
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
