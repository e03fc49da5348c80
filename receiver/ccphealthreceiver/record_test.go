package ccphealthreceiver

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

var (
	t0    = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ident = connstate.Identity{ID: "ccp/okta", Name: "OktaSSO", Kind: "RestApiPoller", Source: "okta.json",
		Poller: "OktaPoller", DataType: "Okta_CL", DCRImmutableID: "dcr-0123", StreamName: "Custom-Okta_CL",
		WindowSize: 5 * time.Minute}
)

func window(outcome string) connstate.Window {
	return connstate.Window{Start: t0, End: t0.Add(5 * time.Minute), Began: t0.Add(6 * time.Minute),
		Finished: t0.Add(6*time.Minute + 1500*time.Millisecond), Records: 42, Pages: 3, Requests: 4, Retries: 1,
		Outcome: outcome}
}

// body renders r as a log record and returns its body.
func body(t *testing.T, r record) map[string]any {
	t.Helper()
	lrs := plog.NewLogRecordSlice()
	r.appendTo(lrs, t0.Add(time.Hour))
	require.Equal(t, 1, lrs.Len())
	return lrs.At(0).Body().Map().AsRaw()
}

func TestSuccessfulAttemptEveryField(t *testing.T) {
	lrs := plog.NewLogRecordSlice()
	fromWindow(ident, window("success")).appendTo(lrs, t0.Add(time.Hour))
	lr := lrs.At(0)
	assert.Equal(t, t0.Add(6*time.Minute+1500*time.Millisecond), lr.Timestamp().AsTime())
	assert.Equal(t, t0.Add(time.Hour), lr.ObservedTimestamp().AsTime())
	assert.Equal(t, plog.SeverityNumberInfo, lr.SeverityNumber())
	assert.Equal(t, "INFO", lr.SeverityText())
	assert.Equal(t, map[string]any{"ccp.connector": "OktaSSO"}, lr.Attributes().AsRaw())

	b := lr.Body().Map().AsRaw()
	id, _ := b["RecordId"].(string)
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), id)
	delete(b, "RecordId")
	assert.Equal(t, map[string]any{
		"TimeGenerated":        "2026-12-01T10:06:01.5Z",
		"OperationName":        "Data fetch summary",
		"SentinelResourceType": "Data connector",
		"SentinelResourceKind": "ApiPolling",
		"SentinelResourceName": "OktaSSO",
		"SentinelResourceId":   "ccp/okta",
		"Status":               "Success",
		"Description":          "Polled window 2026-12-01T10:00:00Z .. 2026-12-01T10:05:00Z: 42 records in 3 pages (4 requests, 1 retries)",
		"Reason":               "",
		"ExtendedProperties": map[string]any{
			"ConnectorDataType": "RestApiPoller", "DestinationTable": "Okta_CL", "DcrImmutableId": "dcr-0123",
			"StreamName": "Custom-Okta_CL", "Source": "okta.json", "PollerName": "OktaPoller", "LeaderIdentity": "",
			"StartTime": "2026-12-01T10:00:00Z", "EndTime": "2026-12-01T10:05:00Z",
			"AttemptStartTime": "2026-12-01T10:06:00Z", "AttemptEndTime": "2026-12-01T10:06:01.5Z", "DurationMs": int64(1500),
			"TotalRecordCount": int64(42), "PageCount": int64(3), "RequestCount": int64(4), "RetryCount": int64(1),
			"FailureSummary": []any{}, "WarningCount": int64(0), "Warnings": []any{},
		},
	}, b)
}

func TestFailedAttemptIsAFailureSummary(t *testing.T) {
	w := window("failure")
	w.Error, w.StatusCode = "GET https://api.example.com/logs?apikey=***: 401 Unauthorized", 401
	lrs := plog.NewLogRecordSlice()
	fromWindow(ident, w).appendTo(lrs, t0)
	lr := lrs.At(0)
	assert.Equal(t, plog.SeverityNumberError, lr.SeverityNumber())
	b := lr.Body().Map().AsRaw()
	assert.Equal(t, "Data fetch failure summary", b["OperationName"])
	assert.Equal(t, "Failure", b["Status"])
	assert.Equal(t, "Unauthorized", b["Reason"])
	assert.Equal(t, "Polling window 2026-12-01T10:00:00Z .. 2026-12-01T10:05:00Z failed after 42 records in 3 pages (4 requests, 1 retries): GET https://api.example.com/logs?apikey=***: 401 Unauthorized", b["Description"])
	ext := b["ExtendedProperties"].(map[string]any)
	assert.Equal(t, []any{map[string]any{"HealthResultType": "Failure", "StatusCode": int64(401),
		"StatusMessage": "GET https://api.example.com/logs?apikey=***: 401 Unauthorized"}}, ext["FailureSummary"])
	assert.Equal(t, int64(42), ext["TotalRecordCount"])
}

func TestFailureReasons(t *testing.T) {
	for code, want := range map[int]string{0: "FetchFailed", 400: "ClientError", 401: "Unauthorized", 403: "Forbidden",
		404: "NotFound", 429: "Throttled", 500: "ServerError", 503: "ServerError", 302: "FetchFailed"} {
		assert.Equal(t, want, failureReason(code), code)
	}
}

func TestSkippedOrDroppedDataIsAWarning(t *testing.T) {
	w := window("success")
	w.Skipped = []string{"max_pages_per_window"}
	w.Dropped = []string{"3 records refused: cannot map"}
	b := body(t, fromWindow(ident, w))
	assert.Equal(t, "Data fetch summary", b["OperationName"])
	assert.Equal(t, "Warning", b["Status"])
	assert.Equal(t, "DataSkipped", b["Reason"])
	assert.Contains(t, b["Description"], "; data skipped: max_pages_per_window; records dropped: 3 records refused: cannot map")
	ext := b["ExtendedProperties"].(map[string]any)
	assert.Equal(t, int64(2), ext["WarningCount"])
	assert.Equal(t, []any{"data skipped: max_pages_per_window", "records dropped: 3 records refused: cannot map"}, ext["Warnings"])
	assert.Equal(t, []any{}, ext["FailureSummary"])

	w.Skipped = nil
	assert.Equal(t, "RecordsDropped", body(t, fromWindow(ident, w))["Reason"])
}

func TestStatusChangeEveryBadge(t *testing.T) {
	want := map[string][2]string{ // badge → Status, Reason
		connstate.StatusConnected: {"Success", ""},
		connstate.StatusDegraded:  {"Warning", "Degraded"},
		connstate.StatusFailed:    {"Failure", "Failed"},
		connstate.StatusStalled:   {"Failure", "Stalled"},
		connstate.StatusStandby:   {"Informational", "Standby"},
		connstate.StatusDisabled:  {"Informational", "Disabled"},
	}
	for badge, sr := range want {
		ch := connstate.Change{Time: t0, From: connstate.StatusConnected, To: badge, Reason: "because"}
		b := body(t, fromChange(ident, ch, nil))
		assert.Equal(t, "Data fetch status change", b["OperationName"], badge)
		assert.Equal(t, sr[0], b["Status"], badge)
		assert.Equal(t, sr[1], b["Reason"], badge)
		assert.Equal(t, "Status changed from Connected to "+badge+": because", b["Description"])
		assert.Equal(t, "2026-12-01T10:00:00Z", b["TimeGenerated"])
		ext := b["ExtendedProperties"].(map[string]any)
		assert.Equal(t, "Connected", ext["PreviousStatus"])
		assert.Equal(t, badge, ext["CurrentStatus"])
		assert.Equal(t, []any{}, ext["FailureSummary"])
		assert.Equal(t, "Okta_CL", ext["DestinationTable"])
	}
}

func TestChangeAfterAFailedAttemptCarriesItsFailure(t *testing.T) {
	w := window("failure")
	w.Error, w.StatusCode = "403 Forbidden", 403
	ch := connstate.Change{Time: t0, From: connstate.StatusConnected, To: connstate.StatusDegraded}
	b := body(t, fromChange(ident, ch, &w))
	assert.Equal(t, "Status changed from Connected to Degraded", b["Description"])
	ext := b["ExtendedProperties"].(map[string]any)
	assert.Equal(t, []any{map[string]any{"HealthResultType": "Failure", "StatusCode": int64(403), "StatusMessage": "403 Forbidden"}}, ext["FailureSummary"])
	assert.Equal(t, "2026-12-01T10:00:00Z", ext["StartTime"])
	assert.Equal(t, "2026-12-01T10:05:00Z", ext["EndTime"])

	// a stall is not explained by an old failed attempt
	ch.To = connstate.StatusStalled
	ext = body(t, fromChange(ident, ch, &w))["ExtendedProperties"].(map[string]any)
	assert.Equal(t, []any{}, ext["FailureSummary"])
	assert.NotContains(t, ext, "StartTime")
}

func TestPeriodicStatusRecord(t *testing.T) {
	last := window("success")
	s := connstate.Snapshot{Identity: ident, Status: connstate.StatusFailed, Reason: "401 Unauthorized", Failures: 4,
		LastError: "401 Unauthorized", LastDataReceived: t0.Add(time.Minute), LastWindow: &last, Lag: 90 * time.Minute}
	b := body(t, fromSnapshot(s, t0.Add(2*time.Hour)))
	assert.Equal(t, "Data fetch status change", b["OperationName"])
	assert.Equal(t, "Failure", b["Status"])
	assert.Equal(t, "Failed", b["Reason"])
	assert.Equal(t, "Status unchanged: Failed: 401 Unauthorized", b["Description"])
	assert.Equal(t, "2026-12-01T12:00:00Z", b["TimeGenerated"])
	ext := b["ExtendedProperties"].(map[string]any)
	assert.Equal(t, "Failed", ext["PreviousStatus"])
	assert.Equal(t, "Failed", ext["CurrentStatus"])
	assert.Equal(t, int64(4), ext["ConsecutiveFailures"])
	assert.Equal(t, "2026-12-01T10:01:00Z", ext["LastDataReceived"])
	assert.Equal(t, int64(5400), ext["LagSeconds"])
	assert.Equal(t, "2026-12-01T10:05:00Z", ext["EndTime"])
	assert.Equal(t, []any{map[string]any{"HealthResultType": "Failure", "StatusCode": int64(0), "StatusMessage": "401 Unauthorized"}}, ext["FailureSummary"])

	s = connstate.Snapshot{Identity: ident, Status: connstate.StatusConnected, Reason: "a window completed"}
	b = body(t, fromSnapshot(s, t0))
	assert.Equal(t, "Success", b["Status"])
	assert.Equal(t, "Status unchanged: Connected", b["Description"])
	ext = b["ExtendedProperties"].(map[string]any)
	assert.NotContains(t, ext, "LastDataReceived")
	assert.NotContains(t, ext, "LagSeconds")
	assert.Equal(t, []any{}, ext["FailureSummary"])
}

func TestUnknownKindAndZeroTimes(t *testing.T) {
	id := ident
	id.Kind = ""
	r := fromWindow(id, connstate.Window{Outcome: "failure"})
	lrs := plog.NewLogRecordSlice()
	r.appendTo(lrs, t0)
	b := lrs.At(0).Body().Map().AsRaw()
	ext := b["ExtendedProperties"].(map[string]any)
	assert.Equal(t, "RestApiPoller", ext["ConnectorDataType"])
	assert.Equal(t, "", ext["StartTime"])
	assert.Equal(t, int64(0), ext["DurationMs"])
	// no finish time: the record is stamped when observed
	assert.Equal(t, "2026-12-01T10:00:00Z", b["TimeGenerated"])
	assert.Equal(t, t0, lrs.At(0).Timestamp().AsTime())
}

func TestRecordIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := newRecordID()
		require.False(t, seen[id], id)
		seen[id] = true
	}
}
