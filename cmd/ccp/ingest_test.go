package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

const (
	ingestDCR    = "dcr-0123456789abcdef0123456789abcdef"
	ingestStream = "Custom-Vendor_CL"
	healthStream = "Custom-Health_CL"
	ingestSecret = "s3cr3t-client-value-for-entra"
)

// ingestSetup starts both emulators and writes a connector file and a collector configuration
// with two azure_monitor_dcr exporters (data and health) and one debug exporter.
func ingestSetup(t *testing.T, events int, stream string) (vendor *vendorapi.Server, emu *logsingestion.Emulator, file, config string) {
	t.Helper()
	end := vendorapi.DefaultEnd
	vendor = vendorapi.New(vendorapi.Config{Events: events, Span: time.Hour, End: end,
		Auth: vendorapi.AuthAPIKey, APIKey: "vendor-key-123", APIKeyHeader: "X-Api-Key",
		Paging: vendorapi.PagingNextPageToken, PageSize: 100})
	ts := httptest.NewServer(vendor)
	t.Cleanup(ts.Close)
	emu, err := logsingestion.Start(logsingestion.Options{
		DCRs:     map[string][]string{ingestDCR: {ingestStream, healthStream}},
		TenantID: "tenant-1", ClientID: "client-1", ClientSecret: ingestSecret,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Close() })

	file = writeFile(t, fmt.Sprintf(`[{"name": "VendorPoller", "kind": "RestApiPoller", "properties": {
  "dataType": "Vendor_CL",
  "dcrConfig": {"streamName": %q, "dataCollectionEndpoint": "{{dce}}", "dataCollectionRuleImmutableId": %q},
  "auth": {"type": "APIKey", "ApiKeyName": "X-Api-Key", "ApiKey": "{{apikey}}"},
  "request": {"apiEndpoint": %q, "queryWindowInMin": 60, "startTimeAttributeName": "since", "endTimeAttributeName": "until"},
  "paging": {"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token", "nextPageParaName": "page_token",
    "pageSizeParaName": "limit", "pageSize": 100},
  "response": {"eventsJsonPaths": ["$.data"]},
  "addOnAttributes": {"Tenant": "acme"}}}]`, stream, ingestDCR, ts.URL+"/api/v1/events"))
	exp := func(stream string) string {
		return fmt.Sprintf(`
    endpoint: %s
    tls: {ca_file: %s}
    dcr_immutable_id: %s
    stream_name: %s
    retry_on_failure: {initial_interval: 50ms, max_interval: 200ms}
    auth:
      type: client_secret
      tenant_id: tenant-1
      client_id: client-1
      client_secret: ${env:CCP_TEST_ENTRA_SECRET}
      authority_host: %s`, emu.IngestURL(), emu.CAFile(), ingestDCR, stream, emu.AuthorityHost())
	}
	config = filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(config, []byte(`receivers:
  ccp/vendor: {definition: connector.json}
exporters:
  debug: {}
  azure_monitor_dcr/data:`+exp(ingestStream)+`
  azure_monitor_dcr/health:`+exp(healthStream)+`
service:
  pipelines:
    logs: {receivers: [ccp/vendor], exporters: [azure_monitor_dcr/data]}
`), 0o600))
	t.Setenv("CCP_TEST_ENTRA_SECRET", ingestSecret)
	setPollNow(t, end)
	return vendor, emu, file, config
}

func pollArgs(file string, extra ...string) []string {
	return append([]string{"poll", file, "--once", "--parameters", "apikey=vendor-key-123", "dce=https://dce.example.com"}, extra...)
}

// TestPollIngestThroughBothEmulators: the events polled from the vendor emulator reach the
// Logs Ingestion emulator through the azure_monitor_dcr exporter of a collector configuration
// (secret from ${env:...}); the rows accepted are printed per DCR and stream and match.
func TestPollIngestThroughBothEmulators(t *testing.T) {
	_, emu, file, config := ingestSetup(t, 250, ingestStream)
	code, out, trace := runCCP(t, pollArgs(file, "--ingest", config, "--exporter", "data")...)
	require.Equal(t, exitOK, code, trace)

	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 250)
	assert.Contains(t, trace, "done: 250 events in 3 pages")
	want := fmt.Sprintf("ingested: 250 of 250 rows accepted by DCR %s stream %s (exporter azure_monitor_dcr/data, %s)", ingestDCR, ingestStream, emu.IngestURL())
	assert.Contains(t, trace, want)
	assert.NotContains(t, trace, ingestSecret)
	assert.NotContains(t, trace, "vendor-key-123")

	var polled, stored []string
	for _, l := range lines {
		var ev map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &ev))
		polled = append(polled, ev["id"].(string))
	}
	rows := emu.Rows(ingestDCR, ingestStream)
	for _, r := range rows {
		stored = append(stored, r["id"].(string))
		assert.Equal(t, "acme", r["Tenant"], "addOnAttributes are added as the receiver adds them")
		assert.NotEmpty(t, r["TimeGenerated"])
	}
	sort.Strings(polled)
	sort.Strings(stored)
	assert.Equal(t, polled, stored, "the rows stored are the events polled, once each")
	assert.Empty(t, emu.Rows(ingestDCR, healthStream))
}

// TestPollIngestRoutesByTheDefinition: the records carry the definition's ccp.dcr.* attributes,
// so even through the exporter whose default stream is another, rows land in the connector's.
func TestPollIngestRoutesByTheDefinition(t *testing.T) {
	_, emu, file, config := ingestSetup(t, 40, ingestStream)
	code, _, trace := runCCP(t, pollArgs(file, "--ingest", config, "--exporter", "azure_monitor_dcr/health")...)
	require.Equal(t, exitOK, code, trace)
	assert.Contains(t, trace, fmt.Sprintf("ingested: 40 of 40 rows accepted by DCR %s stream %s", ingestDCR, ingestStream))
	assert.Len(t, emu.Rows(ingestDCR, ingestStream), 40)
}

func TestPollIngestChoosesTheExporter(t *testing.T) {
	_, emu, file, config := ingestSetup(t, 10, ingestStream)
	code, _, trace := runCCP(t, pollArgs(file, "--ingest", config)...)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, trace, "holds 2 azure_monitor_dcr exporters (azure_monitor_dcr/data, azure_monitor_dcr/health); pick one with --exporter NAME")

	code, _, trace = runCCP(t, pollArgs(file, "--ingest", config, "--exporter", "nope")...)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, trace, `--exporter "nope"`)
	assert.Zero(t, emu.RowCount())
	assert.NotContains(t, trace, "trace: ", "a wrong configuration costs no poll")

	code, _, trace = runCCP(t, pollArgs(file, "--exporter", "data")...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, trace, "--exporter needs --ingest CONFIG")
}

// TestPollIngestReportsRowsNotAccepted: a stream the DCR does not declare is refused; the
// command ends (bounded wait), prints 0 rows accepted and fails.
func TestPollIngestReportsRowsNotAccepted(t *testing.T) {
	old := ingestTimeout
	ingestTimeout = 2 * time.Second
	t.Cleanup(func() { ingestTimeout = old })
	_, emu, file, config := ingestSetup(t, 30, "Custom-Undeclared_CL")
	code, _, trace := runCCP(t, pollArgs(file, "--ingest", config, "--exporter", "data")...)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, trace, "ingested: 0 of 30 rows accepted by DCR "+ingestDCR+" stream Custom-Undeclared_CL")
	assert.Contains(t, trace, "ccp poll: ingest through azure_monitor_dcr/data")
	assert.NotContains(t, trace, ingestSecret)
	assert.Zero(t, emu.RowCount())
}
