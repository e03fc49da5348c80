package definition

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Offset paging without offsetParaName can only skip data (every follow-up page would be the
// first page again, or only the first page is read): the file is refused at load, naming the
// field and the fix, instead of being read with a warning.
func TestOffsetWithoutParaNameIsRefused(t *testing.T) {
	_, err := Parse(decode(t, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "https://api.example.com/e"},
	  "paging": {"pagingType": "Offset", "pageSize": 100, "pageSizeParaName": "limit"},
	  "response": {"eventsJsonPaths": ["$.data"]}}`), "conn.json")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "conn.json.paging.offsetParaName")
	assert.Contains(t, err.Error(), "set offsetParaName")

	d, err := Parse(decode(t, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "https://api.example.com/e"},
	  "paging": {"pagingType": "Offset", "offsetParaName": "skip"}, "response": {"eventsJsonPaths": ["$.data"]}}`), "conn.json")
	require.NoError(t, err)
	assert.Equal(t, PagingOffset, d.Paging.Type)
}
