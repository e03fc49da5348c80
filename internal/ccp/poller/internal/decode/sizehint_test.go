package decode

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With the body's size known (Content-Length), a 4 MiB body is read into one buffer of about
// that size, not grown step by step (about 2.4× the body in allocations).
func TestSizeHintReadsIntoOneBuffer(t *testing.T) {
	body := []byte(`{"data":[` + strings.Repeat(`0,`, 2<<20) + `0]}`)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	doc, err := Decode(bytes.NewReader(body), Options{SizeHint: int64(len(body))})
	runtime.ReadMemStats(&m1)
	require.NoError(t, err)
	assert.Equal(t, body, doc)
	alloc := m1.TotalAlloc - m0.TotalAlloc
	assert.Less(t, alloc, uint64(len(body))*5/4, "allocated %d bytes for a %d-byte body", alloc, len(body))

	// A hint never lifts the cap, and a wrong hint changes nothing but the first buffer.
	_, err = Decode(bytes.NewReader(body), Options{SizeHint: 1 << 40, MaxBytes: 1 << 20})
	require.True(t, errors.Is(err, ErrBodyTooLarge), "%v", err)
	doc, err = Decode(bytes.NewReader(body), Options{SizeHint: 10})
	require.NoError(t, err)
	assert.Equal(t, body, doc)

	// A body announced at 1 GiB that never comes costs at most the presize bound.
	runtime.GC()
	runtime.ReadMemStats(&m0)
	_, err = Decode(strings.NewReader(`{}`), Options{SizeHint: 1 << 30, MaxBytes: 1 << 30})
	runtime.ReadMemStats(&m1)
	require.NoError(t, err)
	assert.LessOrEqual(t, m1.TotalAlloc-m0.TotalAlloc, uint64(maxPresize+1<<20))
}
