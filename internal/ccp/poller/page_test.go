package poller

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

// Pages are split in one pass when they fit the previous page's size, and counted first when
// they do not: either way every event comes out once, in order, in an exactly sized slice,
// and the cap refuses a bigger page. Bodies come in chunks (no Content-Length), so each is
// read at the previous page's size too.
func TestPagesOfChangingSizes(t *testing.T) {
	bodies := []string{`{"data":[1,2]}`, `{"data":[3,4,5]}`, `{"data":[6]}`, `{"data":[7,8,9]}`, `{"data":[1,2,3,4,5]}`,
		`{"data":[{"a":"` + strings.Repeat("x", 300) + `"},[],"s"]}`}
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.(http.Flusher).Flush() // headers first: the body goes in chunks, with no length
		_, _ = w.Write([]byte(bodies[n.Add(1)-1]))
	}))
	defer ts.Close()
	e := hostileEngine(t, ts.URL, plain, Options{MaxEventsPerPage: 4})
	poll := func() ([]string, int, error) {
		var events []string
		capacity := 0
		_, err := e.PollWindow(context.Background(), window.Window{Start: t0.Add(-time.Hour), End: t0}, "", "", func(_ context.Context, p Page) error {
			events, capacity = p.Events, cap(p.Events)
			return nil
		})
		return events, capacity, err
	}
	for _, want := range [][]string{{"1", "2"}, {"3", "4", "5"}, {"6"}, {"7", "8", "9"}} {
		got, capacity, err := poll()
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.LessOrEqual(t, capacity, 2*len(want), "no slice much bigger than its page")
	}
	_, _, err := poll()
	require.Error(t, err, "5 events are over the cap of 4, whatever the previous page")
	assert.Contains(t, err.Error(), "more than 4 events")
	got, _, err := poll()
	require.NoError(t, err)
	assert.Equal(t, []string{`{"a":"` + strings.Repeat("x", 300) + `"}`, `[]`, `"s"`}, got)
}
