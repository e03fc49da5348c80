package logsingestion

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonOfSize is an uncompressed JSON array of one row, exactly n bytes long.
func jsonOfSize(n int) []byte {
	const head, tail = `[{"pad":"`, `"}]`
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

// postChunked sends body without a Content-Length (chunked transfer encoding).
func postChunked(t *testing.T, e *Emulator, tok string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.IngestURL()+path(testDCR, testStream),
		io.MultiReader(bytes.NewReader(body))) // not a *bytes.Reader: the length stays unknown
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	return do(t, e, req).status
}

func TestWireStatsCountAcceptedRequestsOnly(t *testing.T) {
	e := startEmu(t, nil)
	tok := e.MintToken(TokenSpec{})
	plain := map[string]string{"Content-Encoding": ""}
	smallJSON := []byte(`[{"id":"1"},{"id":"2"}]`)
	midJSON := []byte(`[` + strings.Repeat(`{"id":"3","msg":"hello"},`, 50) + `{"id":"4"}]`)
	small, mid := gz(t, smallJSON), gz(t, midJSON)
	atLimit := jsonOfSize(DefaultMaxWireBytes)

	require.Equal(t, http.StatusNoContent, post(t, e, path(testDCR, testStream), tok, small, nil).status)
	require.Equal(t, http.StatusNoContent, post(t, e, path(testDCR, testStream), tok, mid, nil).status)
	require.Equal(t, http.StatusNoContent, post(t, e, path(testDCR, testStream), tok, gz(t, []byte(`[]`)), nil).status)
	// Exactly 1,048,576 bytes is accepted; one byte more is refused, declared or chunked.
	require.Equal(t, http.StatusNoContent, post(t, e, path(testDCR, testStream), tok, atLimit, plain).status)
	over := post(t, e, path(testDCR, testStream), tok, jsonOfSize(DefaultMaxWireBytes+1), plain)
	assert.Equal(t, http.StatusRequestEntityTooLarge, over.status)
	assert.Equal(t, "ContentLengthLimitExceeded", over.code)
	assert.Equal(t, http.StatusRequestEntityTooLarge, postChunked(t, e, tok, jsonOfSize(DefaultMaxWireBytes+1)))
	// A refused request (bad stream) is not accepted either.
	require.Equal(t, http.StatusBadRequest, post(t, e, path(testDCR, "Custom-Nope_CL"), tok, small, nil).status)

	s := e.Stats()
	assert.Equal(t, WireStats{
		Requests:     3,
		Bytes:        int64(len(small) + len(mid) + len(atLimit)),
		MaxBytes:     DefaultMaxWireBytes,
		LastBytes:    DefaultMaxWireBytes,
		Empty:        1,
		Decompressed: int64(len(smallJSON) + len(midJSON) + DefaultMaxWireBytes),
	}, s.Wire)
	assert.Equal(t, int64(DefaultMaxWireBytes+1), s.MaxWireBytesSeen, "refused requests still count as seen")
	// The last accepted request (the full one) is excluded from the mean.
	assert.InDelta(t, float64(len(small)+len(mid))/2/DefaultMaxWireBytes, s.Wire.MeanFill(DefaultMaxWireBytes), 1e-12)

	reqs := e.Requests()
	require.Len(t, reqs, 7)
	assert.Equal(t, int64(len(small)), reqs[0].ContentLength)
	assert.Equal(t, int64(len(small)), reqs[0].WireBytes)
	assert.Equal(t, int64(DefaultMaxWireBytes), reqs[3].ContentLength)
	assert.Equal(t, int64(-1), reqs[5].ContentLength, "chunked")
	assert.Equal(t, int64(DefaultMaxWireBytes+1), reqs[5].WireBytes, "read up to one byte past the limit")

	e.Reset()
	assert.Equal(t, WireStats{}, e.Stats().Wire)
}

func TestWireStatsMeanFill(t *testing.T) {
	assert.Zero(t, WireStats{}.MeanFill(100))
	assert.InDelta(t, 0.5, WireStats{Requests: 1, Bytes: 50, LastBytes: 50}.MeanFill(100), 1e-12)
	assert.InDelta(t, 0.9, WireStats{Requests: 3, Bytes: 190, LastBytes: 10}.MeanFill(100), 1e-12)
	assert.Zero(t, WireStats{Requests: 2, Bytes: 10, LastBytes: 5}.MeanFill(0))
}

func TestDiscardRowsCountsWithoutKeeping(t *testing.T) {
	e := startEmu(t, func(o *Options) { o.DiscardRows = true })
	tok := e.MintToken(TokenSpec{})
	r := post(t, e, path(testDCR, testStream), tok, gz(t, []byte(`[{"id":"1"},{"id":"2"},{"id":"3"}]`)), nil)
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Equal(t, 3, e.RowCount())
	assert.Equal(t, 3, e.Stats().RowsStored)
	assert.Empty(t, e.Rows(testDCR, testStream))
	// Still strict: invalid JSON is refused and counts nothing.
	r = post(t, e, path(testDCR, testStream), tok, gz(t, []byte(`[{"id":`)), nil)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, 3, e.RowCount())
}
