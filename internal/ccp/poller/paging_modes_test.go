package poller

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// offset_mode is matched ignoring case, as the receiver's config validation accepts it.
func TestOffsetModeIgnoresCase(t *testing.T) {
	for mode, want := range map[string]string{
		"count": ",2,4", "COUNT": ",2,4", "Page": ",2,3", "PAGE": ",2,3", "page": ",2,3",
		"Count_Plus_One": ",3,5", "count_plus_one": ",3,5",
	} {
		t.Run(mode, func(t *testing.T) {
			var mu sync.Mutex
			var offsets []string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				offsets = append(offsets, r.URL.Query().Get("offset"))
				n := len(offsets)
				mu.Unlock()
				if n < 3 {
					_, _ = w.Write([]byte(`{"data": [{"id": 1}, {"id": 2}]}`))
					return
				}
				_, _ = w.Write([]byte(`{"data": [{"id": 3}]}`))
			}))
			defer ts.Close()
			e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e"},
			  "paging": {"pagingType": "Offset", "offsetParaName": "offset", "pageSize": 2, "pageSizeParaName": "limit"},
			  "response": {"eventsJsonPaths": ["$.data"]}}`, Options{OffsetMode: mode})
			n, err := pollAll(e)
			require.NoError(t, err)
			assert.Equal(t, 5, n)
			assert.Equal(t, want, strings.Join(offsets, ","))
		})
	}
}

// A page count written as "5.0" (a string) or 5.0 (a number) is 5 pages, not 0.
func TestCountBasedReadsIntegralFloats(t *testing.T) {
	for name, count := range map[string]string{"string 5.0": `"5.0"`, "number 5.0": `5.0`, "string 5": `"5"`, "number 5e0": `5e0`} {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var pages []string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p := r.URL.Query().Get("page")
				mu.Lock()
				pages = append(pages, p)
				mu.Unlock()
				if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 5 {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				_, _ = w.Write([]byte(`{"data": [{"page": ` + p + `}], "meta": {"pages": ` + count + `, "page": "` + p + `.0"}}`))
			}))
			defer ts.Close()
			e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e"},
			  "paging": {"pagingType": "CountBasedPaging", "pageNumberParaName": "page", "pageCountJsonPath": "$.meta.pages",
			    "pageNumberJsonPath": "$.meta.page"},
			  "response": {"eventsJsonPaths": ["$.data"]}}`, Options{})
			n, err := pollAll(e)
			require.NoError(t, err)
			assert.Equal(t, 5, n)
			assert.Equal(t, "1,2,3,4,5", strings.Join(pages, ","))
		})
	}
}

func TestParseCount(t *testing.T) {
	for in, want := range map[string]int{"5": 5, " 5 ": 5, "5.0": 5, "5e0": 5, "0": 0, "-1": -1} {
		n, ok := parseCount(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, n, in)
	}
	for _, in := range []string{"", "5.5", "abc", "NaN", "Inf", "1e300", "0x10"} {
		_, ok := parseCount(in)
		assert.False(t, ok, in)
	}
}
