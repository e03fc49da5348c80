package definition

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

func TestParseAcceptsBothNamingGenerationsAndLooseTypes(t *testing.T) {
	d, err := Parse(decode(t, `{
	  "auth": {"type": "APIKey", "ApiKey": "k", "ApiKeyName": "X-Key"},
	  "request": {"apiEndpoint": "https://api.example.com/v1/x", "httpMethod": "Post",
	    "queryWindowInMin": "10", "rateLimitQps": 2, "isPostPayloadJson": "true",
	    "queryParameters": {"limit": 100, "b": "x", "gone": null}},
	  "response": {"EventsJsonPaths ": ["$.data"]},
	  "Paging": {"pagingType": "nextPageToken", "pageSizeParaName": "limit", "PageSize": "1000",
	    "nextPageTokenJsonPath": "$.next", "nextPageParaName": "cursor"},
	  "uiOnly": 1
	}`), "file.json")
	require.NoError(t, err)
	assert.Equal(t, "POST", d.Request.HTTPMethod)
	assert.Equal(t, 10, d.Request.QueryWindowInMin)
	assert.Equal(t, 2.0, d.Request.RateLimitQPS)
	assert.True(t, d.Request.IsPostPayloadJSON)
	assert.Equal(t, []Param{{"b", "x"}, {"limit", 100.0}}, d.Request.QueryParameters)
	assert.Equal(t, "100", d.Request.QueryParameters[1].ValueString())
	assert.Equal(t, []string{"$.data"}, d.Response.EventsJSONPaths)
	assert.Equal(t, "json", d.Response.Format)
	assert.Equal(t, PagingNextPageToken, d.Paging.Type)
	assert.Equal(t, 1000, d.Paging.PageSize)
	assert.Equal(t, "limit", d.Paging.PageSizeParameterName)
	assert.Equal(t, "APIKey", d.Auth.Type)
	assert.Equal(t, 20, d.Request.TimeoutInSeconds)
	assert.Equal(t, 3, d.Request.RetryCount)
	assert.Contains(t, strings.Join(d.Warnings, "\n"), "unknown key file.json.uiOnly")
}

func TestParseLegacyPollingConfig(t *testing.T) {
	d, err := Parse(decode(t, `{"pollingConfig": {
	  "auth": {"authType": "Basic"},
	  "request": {"apiEndpoint": "https://x.atlassian.net/rest/api/3/auditing/record", "httpMethod": "Get", "queryTimeFormat": "yyyy-MM-ddTHH:mm:ssZ"},
	  "paging": {"pagingType": "None"},
	  "response": {"eventsJsonPaths": ["$..records"]}}}`), "p")
	require.NoError(t, err)
	assert.True(t, d.Legacy)
	assert.Equal(t, "Basic", d.Auth.Type)
	assert.Equal(t, PagingNone, d.Paging.Type)
	assert.NoError(t, d.Problems())
}

func TestParseErrorsNameFieldAndFix(t *testing.T) {
	_, err := Parse(decode(t, `{"auth": {"type": "None"}, "request": {"queryWindowInMin": "abc"},
	  "response": {}, "paging": {"pagingType": "Offset"}}`), "conn.json")
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "conn.json.request.queryWindowInMin: expected a number")
	// Validation runs only on well-typed input, so the type error is reported first.
	_, err = Parse(decode(t, `{"auth": {"type": "None"}, "request": {},
	  "response": {}, "paging": {"pagingType": "Offset"}}`), "conn.json")
	require.Error(t, err)
	msg = err.Error()
	assert.Contains(t, msg, "conn.json.request.apiEndpoint: missing")
	assert.Contains(t, msg, "conn.json.response.eventsJsonPaths: missing")
	d, err := Parse(decode(t, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "https://x"},
	  "response": {"eventsJsonPaths": ["$"]}, "paging": {"pagingType": "NextPageToken", "NextPageTokenJsonPath": "null"}}`), "prisma.json")
	require.NoError(t, err, "a paging block that cannot page is a warning, not a refusal")
	assert.Equal(t, PagingNone, d.Paging.Type)
	assert.Contains(t, strings.Join(d.Warnings, "\n"), "prisma.json.paging.nextPageParaName")
}

func TestParseRefusesNestedStepsAndOtherKinds(t *testing.T) {
	d, err := Parse(decode(t, `{"kind": "OCI", "properties": {"auth": {"type": "Oracle"},
	  "request": {"apiEndpoint": "https://x"}, "response": {"eventsJsonPaths": ["$"]},
	  "stepInfo": {"stepType": "Nested"}}}`), "f")
	require.NoError(t, err)
	p := d.Problems()
	require.Error(t, p)
	assert.Contains(t, p.Error(), "nested steps")
	assert.Contains(t, p.Error(), `kind "OCI"`)
}
