package retryafter

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	future := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	for _, c := range []struct {
		name string
		h    http.Header
		want time.Duration
		ok   bool
	}{
		{"none", http.Header{}, 0, false},
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second, true},
		{"fractional seconds", http.Header{"Retry-After": {" 1.5 "}}, 1500 * time.Millisecond, true},
		{"milliseconds first", http.Header{"Retry-After": {"7"}, "Retry-After-Ms": {"250"}}, 250 * time.Millisecond, true},
		{"azure milliseconds", http.Header{"X-Ms-Retry-After-Ms": {"40"}}, 40 * time.Millisecond, true},
		{"past date", http.Header{"Retry-After": {"Mon, 02 Jan 2006 15:04:05 GMT"}}, 0, true},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0, false},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0, false},
	} {
		d, ok := Parse(c.h)
		assert.Equal(t, c.ok, ok, c.name)
		assert.Equal(t, c.want, d, c.name)
	}
	d, ok := Parse(http.Header{"Retry-After": {future}})
	assert.True(t, ok)
	assert.InDelta(t, 90, d.Seconds(), 2, "an HTTP date in the future")
}
