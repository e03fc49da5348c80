package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// setPollNow fixes the clock of ccp poll for one test.
func setPollNow(t *testing.T, now time.Time) {
	t.Helper()
	old := pollNow
	pollNow = func() time.Time { return now }
	t.Cleanup(func() { pollNow = old })
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "connector.json")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// assertEvents checks that stdout holds, once each and in order, exactly the emulator's events
// with index in [lo, hi).
func assertEvents(t *testing.T, srv *vendorapi.Server, stdout string, lo, hi int) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if stdout == "" {
		lines = nil
	}
	require.Len(t, lines, hi-lo)
	for i, l := range lines {
		var want bytes.Buffer
		require.NoError(t, json.Compact(&want, srv.EventJSON(lo+i)))
		require.Equal(t, want.String(), l, "event %d", lo+i)
	}
}

func assertNoSecret(t *testing.T, trace string, secrets ...string) {
	t.Helper()
	require.Contains(t, trace, "trace: ")
	for _, s := range secrets {
		assert.NotContains(t, trace, s)
	}
}

// Okta-like: APIKey "Authorization: SSWS <key>", LinkHeader paging, bare array body,
// since/until in ISO 8601, {{placeholders}} for domain and key.
func TestPollOktaLike(t *testing.T) {
	const key = "00aBcDeFgHiJkLmNoP-okta-key"
	end := vendorapi.DefaultEnd
	srv := vendorapi.New(vendorapi.Config{Events: 900, Span: 3 * time.Hour, End: end,
		Auth: vendorapi.AuthAPIKey, APIKey: key, APIKeyPrefix: "SSWS",
		Paging: vendorapi.PagingLinkHeader, EventsPath: "-", PageSize: 100})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	file := writeFile(t, `[{
  "name": "OktaDCV1_{{domainname}}", "kind": "RestApiPoller",
  "properties": {
    "connectorDefinitionName": "OktaSSOv2", "dataType": "Okta",
    "dcrConfig": {"streamName": "Custom-OktaSSO_CL", "dataCollectionEndpoint": "https://x.example.com", "dataCollectionRuleImmutableId": "dcr-0123456789abcdef0123456789abcdef"},
    "auth": {"type": "APIKey", "ApiKeyName": "Authorization", "ApiKeyIdentifier": "SSWS", "ApiKey": "{{apikey}}"},
    "request": {"apiEndpoint": "{{baseUrl}}/api/v1/events", "httpMethod": "GET", "queryWindowInMin": 60,
      "startTimeAttributeName": "since", "endTimeAttributeName": "until", "queryTimeFormat": "yyyy-MM-ddTHH:mm:ssZ"},
    "paging": {"pagingType": "LinkHeader", "pageSizeParameterName": "limit", "pageSize": 100},
    "response": {"eventsJsonPaths": ["$"], "format": "json"}
  }}]`)
	setPollNow(t, end)
	code, out, trace := runCCP(t, "poll", file, "--connector", "OktaDCV1_acme", "--once",
		"--parameters", "domainname=acme", "apikey="+key, "baseUrl="+ts.URL)
	require.Equal(t, exitOK, code, trace)
	lo, hi := srv.EventsIn(end.Add(-time.Hour), end)
	require.Greater(t, hi-lo, 250) // several pages
	assertEvents(t, srv, out, lo, hi)
	assertNoSecret(t, trace, key)
	assert.Contains(t, trace, "trace: GET {{baseUrl}}/api/v1/events?")
	assert.Contains(t, trace, "[headers: Authorization]")
	assert.Regexp(t, `-> 200 \(\d+m?s, \d+ bytes\)`, trace)

	// --since: a longer window, same exactly-once result
	srv.ResetAccounting()
	code, out, trace = runCCP(t, "poll", file, "--connector", "0", "--once", "--since", end.Add(-150*time.Minute).Format(time.RFC3339),
		"--parameters", "domainname=acme", "apikey="+key, "baseUrl="+ts.URL)
	require.Equal(t, exitOK, code, trace)
	lo, hi = srv.EventsIn(end.Add(-150*time.Minute), end)
	assertEvents(t, srv, out, lo, hi)
}

// Auth0-like: OAuth2 client_credentials with an audience, PersistentToken cursor, no time
// attributes.
func TestPollAuth0Like(t *testing.T) {
	const id, secret = "auth0-client-id", "auth0-client-secret-XYZ"
	end := vendorapi.DefaultEnd
	srv := vendorapi.New(vendorapi.Config{Events: 250, Span: time.Hour, End: end,
		Auth: vendorapi.AuthOAuth2, ClientID: id, ClientSecret: secret, TokenPath: "/oauth/token",
		TokenParams: map[string]string{"audience": "https://acme.example/api/v2/"},
		Paging:      vendorapi.PagingPersistentToken, TokenParam: "from", NextField: "next", EventsPath: "logs",
		PageSize: 100, WindowOptional: true})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	file := writeFile(t, `{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {"Domain": {"type": "string"}, "ClientId": {"type": "string"}, "ClientSecret": {"type": "securestring"}},
  "resources": [{
    "name": "Auth0Logs", "kind": "RestApiPoller", "type": "Microsoft.SecurityInsights/dataConnectors",
    "properties": {
      "connectorDefinitionName": "Auth0", "dataType": "Auth0Logs",
      "dcrConfig": {"streamName": "Custom-Auth0_CL", "dataCollectionEndpoint": "https://x.example.com", "dataCollectionRuleImmutableId": "dcr-0123456789abcdef0123456789abcdef"},
      "auth": {"type": "OAuth2", "ClientId": "[[parameters('ClientId')]", "ClientSecret": "[[parameters('ClientSecret')]",
        "GrantType": "client_credentials", "TokenEndpoint": "[[concat(parameters('Domain'),'/oauth/token')]",
        "TokenEndpointHeaders": {"Content-Type": "application/x-www-form-urlencoded"},
        "TokenEndpointQueryParameters": {"audience": "https://acme.example/api/v2/"}},
      "request": {"apiEndpoint": "[[concat(parameters('Domain'),'/api/v1/events')]", "httpMethod": "GET", "queryWindowInMin": 5},
      "Paging": {"pagingType": "PersistentToken", "nextPageTokenJsonPath": "$.next", "nextPageParaName": "from", "pageSize": 100, "pageSizeParameterName": "limit"},
      "response": {"eventsJsonPaths": ["$.logs"], "format": "json"}
    }}]}`)
	setPollNow(t, end)
	code, out, trace := runCCP(t, "poll", file, "--once",
		"--parameters", "Domain="+ts.URL, "ClientId="+id, "ClientSecret="+secret)
	require.Equal(t, exitOK, code, trace)
	assertEvents(t, srv, out, 0, 250)
	assertNoSecret(t, trace, secret, id)
	assert.Contains(t, trace, "trace: POST {{Domain}}/oauth/token")
	assert.Equal(t, int64(1), srv.TokensIssued())
}

// 1Password-like: POST with a JSON body template, Bearer key, NextPageToken cursor in the JSON
// body, has_more flag.
func TestPollOnePasswordLike(t *testing.T) {
	const token = "ops_eyJhbGciOiJFUzI1NiIsImtpZCI6InNlY3JldCJ9"
	end := vendorapi.DefaultEnd
	srv := vendorapi.New(vendorapi.Config{Events: 600, Span: 2 * time.Hour, End: end,
		Auth: vendorapi.AuthAPIKey, APIKey: token, APIKeyPrefix: "Bearer", Path: "/api/v2/signinattempts", Method: "POST",
		SinceParam: "start_time", UntilParam: "end_time",
		Paging: vendorapi.PagingNextPageToken, TokenParam: "cursor", NextField: "cursor", HasMoreField: "has_more",
		EventsPath: "items", PageSize: 100})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	file := writeFile(t, `[{
  "name": "OnePasswordSignInEvents", "kind": "RestApiPoller",
  "properties": {
    "connectorDefinitionName": "1Password", "dataType": "OnePasswordEventLogs_CL",
    "dcrConfig": {"streamName": "Custom-OnePasswordEventLogs_CL", "dataCollectionEndpoint": "{{dataCollectionEndpoint}}", "dataCollectionRuleImmutableId": "{{dataCollectionRuleImmutableId}}"},
    "auth": {"type": "APIKey", "ApiKeyName": "Authorization", "ApiKeyIdentifier": "Bearer", "ApiKey": "{{ApiToken}}"},
    "request": {"apiEndpoint": "{{BaseUrl}}/api/v2/signinattempts", "httpMethod": "Post", "rateLimitQps": 10,
      "queryWindowInMin": 60, "queryTimeFormat": "yyyy-MM-ddTHH:mm:ssZ",
      "queryParametersTemplate": "{\"limit\": 100, \"start_time\": \"{_QueryWindowStartTime}\", \"end_time\": \"{_QueryWindowEndTime}\"}",
      "isPostPayloadJson": true, "headers": {"Content-Type": "application/json"}},
    "paging": {"pagingType": "NextPageToken", "nextPageParaName": "cursor", "nextPageTokenJsonPath": "$.cursor", "hasNextFlagJsonPath": "$.has_more"},
    "response": {"eventsJsonPaths": ["$.items"], "format": "json"}
  }},
  {"name": "Other", "kind": "RestApiPoller", "properties": {"auth": {"type": "None"}, "request": {"apiEndpoint": "https://example.invalid/x"}, "response": {"eventsJsonPaths": ["$"]}}}]`)
	setPollNow(t, end)
	code, out, trace := runCCP(t, "poll", file, "--connector", "OnePasswordSignInEvents", "--once",
		"--parameters", "BaseUrl="+ts.URL, "ApiToken="+token, "dataCollectionEndpoint=https://dce.example.com", "dataCollectionRuleImmutableId=dcr-0123456789abcdef0123456789abcdef")
	require.Equal(t, exitOK, code, trace)
	lo, hi := srv.EventsIn(end.Add(-time.Hour), end)
	require.Greater(t, hi-lo, 200)
	assertEvents(t, srv, out, lo, hi)
	assertNoSecret(t, trace, token)
	assert.Contains(t, trace, "trace: POST {{BaseUrl}}/api/v2/signinattempts")

	// several pollers and no --connector: an error naming them
	code, _, errs := runCCP(t, "poll", file, "--once", "--parameters", "BaseUrl="+ts.URL)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errs, "0:OnePasswordSignInEvents, 1:Other")
	// a missing parameter is named
	code, _, errs = runCCP(t, "poll", file, "--connector", "0", "--once", "--parameters", "BaseUrl="+ts.URL)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errs, "ApiToken")
}

func TestTraceRedactsSecretQueryAndErrors(t *testing.T) {
	sc := newScrubber(map[string]string{"apiKey": "k-123456", "host": "api.acme.example"}, []string{"pw-987654"})
	got := sc.scrub(redactQuery("https://api.acme.example/x?token=abc&since=2024&key=k-123456&p=pw-987654"))
	assert.NotContains(t, got, "abc")
	assert.NotContains(t, got, "k-123456")
	assert.NotContains(t, got, "pw-987654")
	assert.Contains(t, got, "{{host}}")
	assert.Contains(t, got, "since=2024")
}
