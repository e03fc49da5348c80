package ccpreceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-ccp/otelcol-ccp/internal/pdatajson"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/metadata"
)

// toLogs turns one part of a page into log records: the hot path from events to pdata.
func (r *ccpReceiver) toLogs(events []string) plog.Logs {
	logs := plog.NewLogs()
	sl := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	recs := sl.LogRecords()
	recs.EnsureCapacity(len(events))
	now := pcommon.NewTimestampFromTime(time.Now())
	addOn := r.loaded.Def.AddOnAttributes
	for _, ev := range events {
		lr := recs.AppendEmpty()
		lr.SetObservedTimestamp(now)
		body := lr.Body()
		pdatajson.SetValidated(body, ev) // the engine validated the whole response
		if body.Type() == pcommon.ValueTypeMap {
			for _, a := range addOn {
				body.Map().PutStr(a.Name, a.ValueString())
			}
		}
		r.attrs.CopyTo(lr.Attributes())
	}
	return logs
}
