// Package retryafter reads how long a server asks a client to wait: the millisecond headers
// Azure and others send, then the standard Retry-After in seconds or as an HTTP date.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Parse returns the delay the response asks for; ok is false when it asks for none. A date in
// the past is a delay of zero. Fractional seconds and milliseconds are kept.
func Parse(h http.Header) (d time.Duration, ok bool) {
	for _, k := range []string{"retry-after-ms", "x-ms-retry-after-ms"} {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get(k)), 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}
