package poller

// Classifying an answer: success or a RequestError (retryable or not, credentials at fault or
// not), and how long the server asks the engine to wait.

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/retryafter"
)

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
