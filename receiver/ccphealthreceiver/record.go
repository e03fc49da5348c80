package ccphealthreceiver

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

// OperationName values. The first two are SentinelHealth's own for data connectors; Sentinel
// writes no record for a successful fetch (only an hourly status), so a successful attempt gets
// a name of its own that SentinelHealth queries filtering on the other two never match.
const (
	OperationStatusChange   = "Data fetch status change"
	OperationFailureSummary = "Data fetch failure summary"
	OperationFetchSummary   = "Data fetch summary"
)

// Status values (SentinelHealth's Success, Failure and Informational, plus Warning).
const (
	StatusSuccess       = "Success"
	StatusFailure       = "Failure"
	StatusWarning       = "Warning"
	StatusInformational = "Informational"
)

// Fixed columns: every record describes a data connector of the API-polling family, which
// Sentinel itself logs with SentinelResourceKind "ApiPolling" for CCP connectors.
const (
	ResourceType = "Data connector"
	ResourceKind = "ApiPolling"
	// defaultDataType is ExtendedProperties.ConnectorDataType when the registry does not know
	// the poller's kind.
	defaultDataType = "RestApiPoller"
)

// record is one health record before it becomes a log record.
type record struct {
	Time        time.Time
	Connector   connstate.Identity
	Operation   string
	Status      string
	Description string
	Reason      string
	Extended    map[string]any
}

// windowStatus is a window attempt's Status and Reason: a success with data skipped on purpose
// or records refused for good is a Warning.
func windowStatus(w connstate.Window) (status, reason string) {
	switch {
	case w.Outcome != "success":
		return StatusFailure, failureReason(w.StatusCode)
	case len(w.Skipped) > 0:
		return StatusWarning, "DataSkipped"
	case len(w.Dropped) > 0:
		return StatusWarning, "RecordsDropped"
	}
	return StatusSuccess, ""
}

// failureReason is a short code for a failed attempt's HTTP status (0: no answer or an error
// after the answer, e.g. a response that could not be decoded or a pipeline that refused).
func failureReason(code int) string {
	switch {
	case code == 401:
		return "Unauthorized"
	case code == 403:
		return "Forbidden"
	case code == 404:
		return "NotFound"
	case code == 429:
		return "Throttled"
	case code >= 500:
		return "ServerError"
	case code >= 400:
		return "ClientError"
	}
	return "FetchFailed"
}

// changeStatus maps a status badge to a Status value.
func changeStatus(badge string) string {
	switch badge {
	case connstate.StatusConnected:
		return StatusSuccess
	case connstate.StatusDegraded:
		return StatusWarning
	case connstate.StatusFailed, connstate.StatusStalled:
		return StatusFailure
	}
	return StatusInformational // Standby, Disabled: not polling on purpose
}

// changeReason is the Reason of a status record: the badge, empty when Connected.
func changeReason(badge string) string {
	if badge == connstate.StatusConnected {
		return ""
	}
	return badge
}

// fromWindow maps a finished window attempt.
func fromWindow(id connstate.Identity, w connstate.Window) record {
	status, reason := windowStatus(w)
	r := record{Time: w.Finished, Connector: id, Status: status, Reason: reason, Operation: OperationFetchSummary}
	span := fmt.Sprintf("window %s .. %s", stamp(w.Start), stamp(w.End))
	counts := fmt.Sprintf("%d records in %d pages (%d requests, %d retries)", w.Records, w.Pages, w.Requests, w.Retries)
	if status == StatusFailure {
		r.Operation = OperationFailureSummary
		r.Description = fmt.Sprintf("Polling %s failed after %s: %s", span, counts, w.Error)
	} else {
		r.Description = fmt.Sprintf("Polled %s: %s", span, counts)
	}
	warnings := warningsOf(w)
	if len(warnings) > 0 {
		r.Description += "; " + strings.Join(warnings, "; ")
	}
	ext := baseExtended(id)
	ext["StartTime"] = stamp(w.Start)
	ext["EndTime"] = stamp(w.End)
	ext["AttemptStartTime"] = stamp(w.Began)
	ext["AttemptEndTime"] = stamp(w.Finished)
	ext["DurationMs"] = durationMs(w.Began, w.Finished)
	ext["TotalRecordCount"] = w.Records
	ext["PageCount"] = w.Pages
	ext["RequestCount"] = w.Requests
	ext["RetryCount"] = w.Retries
	ext["FailureSummary"] = failureSummary(w)
	ext["WarningCount"] = len(warnings)
	ext["Warnings"] = toAny(warnings)
	r.Extended = ext
	return r
}

// fromChange maps a status change; last is the connector's latest failed attempt, if the
// change follows one (its status code and message become the failure summary).
func fromChange(id connstate.Identity, ch connstate.Change, last *connstate.Window) record {
	r := record{Time: ch.Time, Connector: id, Operation: OperationStatusChange,
		Status: changeStatus(ch.To), Reason: changeReason(ch.To)}
	r.Description = fmt.Sprintf("Status changed from %s to %s", ch.From, ch.To)
	if ch.Reason != "" {
		r.Description += ": " + ch.Reason
	}
	ext := baseExtended(id)
	ext["PreviousStatus"] = ch.From
	ext["CurrentStatus"] = ch.To
	summary := []any{}
	if last != nil && (ch.To == connstate.StatusDegraded || ch.To == connstate.StatusFailed) {
		summary = failureSummary(*last)
		ext["StartTime"] = stamp(last.Start)
		ext["EndTime"] = stamp(last.End)
	}
	ext["FailureSummary"] = summary
	r.Extended = ext
	return r
}

// fromSnapshot is the periodic record of a connector whose status did not change.
func fromSnapshot(s connstate.Snapshot, now time.Time) record {
	r := record{Time: now, Connector: s.Identity, Operation: OperationStatusChange,
		Status: changeStatus(s.Status), Reason: changeReason(s.Status)}
	r.Description = "Status unchanged: " + s.Status
	if s.Reason != "" && s.Status != connstate.StatusConnected {
		r.Description += ": " + s.Reason
	}
	ext := baseExtended(s.Identity)
	ext["PreviousStatus"] = s.Status
	ext["CurrentStatus"] = s.Status
	ext["ConsecutiveFailures"] = s.Failures
	if !s.LastDataReceived.IsZero() {
		ext["LastDataReceived"] = stamp(s.LastDataReceived)
	}
	if s.LastWindow != nil {
		ext["StartTime"] = stamp(s.LastWindow.Start)
		ext["EndTime"] = stamp(s.LastWindow.End)
		ext["LagSeconds"] = int64(s.Lag / time.Second)
	}
	summary := []any{}
	if s.Failures > 0 && s.LastError != "" {
		summary = append(summary, map[string]any{"HealthResultType": StatusFailure, "StatusCode": 0, "StatusMessage": s.LastError})
	}
	ext["FailureSummary"] = summary
	r.Extended = ext
	return r
}

// baseExtended holds the ExtendedProperties every record has.
func baseExtended(id connstate.Identity) map[string]any {
	kind := id.Kind
	if kind == "" {
		kind = defaultDataType
	}
	return map[string]any{
		"ConnectorDataType": kind,
		"DestinationTable":  id.DataType,
		"DcrImmutableId":    id.DCRImmutableID,
		"StreamName":        id.StreamName,
		"Source":            id.Source,
		"PollerName":        id.Poller,
		// LeaderIdentity names the replica that polls when several collectors share the
		// connector (high availability); empty while every replica polls on its own.
		"LeaderIdentity": "",
	}
}

func failureSummary(w connstate.Window) []any {
	if w.Outcome == "success" {
		return []any{}
	}
	return []any{map[string]any{"HealthResultType": StatusFailure, "StatusCode": w.StatusCode, "StatusMessage": w.Error}}
}

func warningsOf(w connstate.Window) []string {
	out := make([]string, 0, len(w.Skipped)+len(w.Dropped))
	for _, s := range w.Skipped {
		out = append(out, "data skipped: "+s)
	}
	for _, d := range w.Dropped {
		out = append(out, "records dropped: "+d)
	}
	return out
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func durationMs(from, to time.Time) int64 {
	if from.IsZero() || to.Before(from) {
		return 0
	}
	return to.Sub(from).Milliseconds()
}

// stamp formats a time as the TimeGenerated column expects it (RFC 3339, UTC); zero is "".
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// severity of a Status, for backends that are not SentinelHealth.
func severity(status string) (plog.SeverityNumber, string) {
	switch status {
	case StatusFailure:
		return plog.SeverityNumberError, "ERROR"
	case StatusWarning:
		return plog.SeverityNumberWarn, "WARN"
	}
	return plog.SeverityNumberInfo, "INFO"
}

// appendTo writes r as a log record whose map body holds SentinelHealth's columns.
func (r record) appendTo(lrs plog.LogRecordSlice, observed time.Time) {
	if r.Time.IsZero() {
		r.Time = observed
	}
	lr := lrs.AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(r.Time))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	num, text := severity(r.Status)
	lr.SetSeverityNumber(num)
	lr.SetSeverityText(text)
	lr.Attributes().PutStr(ccpattr.Connector, r.Connector.Name)
	body := lr.Body().SetEmptyMap()
	body.PutStr("TimeGenerated", stamp(r.Time))
	body.PutStr("OperationName", r.Operation)
	body.PutStr("SentinelResourceType", ResourceType)
	body.PutStr("SentinelResourceKind", ResourceKind)
	body.PutStr("SentinelResourceName", r.Connector.Name)
	body.PutStr("SentinelResourceId", r.Connector.ID)
	body.PutStr("Status", r.Status)
	body.PutStr("Description", r.Description)
	body.PutStr("Reason", r.Reason)
	body.PutStr("RecordId", newRecordID())
	// FromRaw only fails on value types baseExtended and the mappers never use.
	_ = body.PutEmptyMap("ExtendedProperties").FromRaw(r.Extended)
}

// newRecordID is a random UUID (version 4), as SentinelHealth's RecordId.
func newRecordID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
