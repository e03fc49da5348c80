package ccpreceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-ccp/otelcol-ccp/internal/pdatajson"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/metadata"
)

// toLogs turns one part of a page into log records: the hot path from events to pdata. The
// engine validated the whole response, so the events are converted without a second check,
// and string values alias the page instead of being copied.
func (r *ccpReceiver) toLogs(events []string) plog.Logs {
	logs := plog.NewLogs()
	sl := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	recs := sl.LogRecords()
	recs.EnsureCapacity(len(events))
	now := pcommon.NewTimestampFromTime(time.Now())
	// The add-on attributes are rendered once per part, not once per event.
	addOn := r.loaded.Def.AddOnAttributes
	names, values := make([]string, len(addOn)), make([]string, len(addOn))
	for i, a := range addOn {
		names[i], values[i] = a.Name, a.ValueString()
	}
	conv := pdatajson.Converter{Extra: len(addOn)}
	for _, ev := range events {
		lr := recs.AppendEmpty()
		lr.SetObservedTimestamp(now)
		body := lr.Body()
		conv.SetValidated(body, ev)
		if body.Type() == pcommon.ValueTypeMap {
			m := body.Map()
			for i, name := range names {
				m.PutStr(name, values[i])
			}
		}
		r.attrs.CopyTo(lr.Attributes())
	}
	return logs
}
