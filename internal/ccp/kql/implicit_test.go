package kql

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Lookout's step query leaves out the table name and reads the record as "source".
func TestKQLImplicitSource(t *testing.T) {
	q, err := Compile("project token = parse_json(source) | project accessToken = strcat('Bearer ', tostring(token.access_token))")
	require.NoError(t, err)
	rows, err := q.Run(`{"access_token": "abc"}`, nil)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "Bearer abc", rows[0]["accessToken"])

	_, err = Compile("summarize count() by x")
	require.Error(t, err, "other first words are still refused")
}

// Assigned names every column an operator assigns, whether or not a later stage drops it, so
// that a resolver can tell a step's {{column}} from a user parameter.
func TestKQLAssigned(t *testing.T) {
	q, err := Compile("project token = parse_json(source) | project accessToken = strcat('Bearer ', tostring(token.access_token))")
	require.NoError(t, err)
	assert.Equal(t, []string{"token", "accessToken"}, q.Assigned())

	q, err = Compile("source | mv-expand r = parse_json(data) | project-rename id = r | extend u = id, id = 1 | project-away u")
	require.NoError(t, err)
	assert.Equal(t, []string{"r", "id", "u"}, q.Assigned())

	q, err = Compile("source")
	require.NoError(t, err)
	assert.Empty(t, q.Assigned())
}
