package decode

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A document never keeps more than twice its size alive: an overestimated size hint (the
// poller guesses from the previous page) is copied down, and a body of unknown size is read
// into a reused buffer and copied out at its size.
func TestDocumentIsNotMostlyEmptyBuffer(t *testing.T) {
	body := `{"data":[` + strings.Repeat(`1,`, 500) + `1]}`
	for _, hint := range []int64{0, 10, int64(len(body)), 100 * int64(len(body))} {
		for range 3 { // the reused buffer is as big as the largest body read so far
			doc, err := Decode(strings.NewReader(body), Options{SizeHint: hint})
			require.NoError(t, err)
			assert.Equal(t, body, string(doc))
			assert.LessOrEqual(t, cap(doc), 2*len(body), "hint %d", hint)
		}
	}
	s, err := DecodeString(strings.NewReader(body), Options{})
	require.NoError(t, err)
	assert.Equal(t, body, s)
}
