package nested

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Lookout's step query leaves out the table name and reads the record as "source".
func TestKQLImplicitSource(t *testing.T) {
	q, err := CompileKQL("project token = parse_json(source) | project accessToken = strcat('Bearer ', tostring(token.access_token))")
	require.NoError(t, err)
	rows, err := q.Run(`{"access_token": "abc"}`, nil)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "Bearer abc", rows[0]["accessToken"])

	_, err = CompileKQL("summarize count() by x")
	require.Error(t, err, "other first words are still refused")
}
