package ccpreceiver

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/metadata"
)

// consume hands records to the pipeline. A permanent refusal drops them (retrying would stall
// the connector forever); any other error stops the window so the records are sent again.
func (r *ccpReceiver) consume(ctx context.Context, events []string, page int) error {
	if r.dedup != nil {
		var dropped int
		if events, dropped = r.dedup.Filter(events); dropped > 0 {
			r.tb.CcpDuplicatesDropped.Add(ctx, int64(dropped), r.metricAttrs)
		}
		if len(events) == 0 {
			return nil
		}
	}
	logs := r.toLogs(events)
	obsCtx := r.obs.StartLogsOp(ctx)
	err := r.next.ConsumeLogs(obsCtx, logs)
	r.obs.EndLogsOp(obsCtx, "json", len(events), err)
	if err != nil {
		r.forgetKeys()
		if !consumererror.IsPermanent(err) {
			return fmt.Errorf("pipeline refused page %d: %w", page, err)
		}
		// Retrying a permanent refusal would stall the connector forever: drop, loudly.
		r.log.Error("the pipeline permanently refused records; they are dropped",
			zap.Int("records", len(events)), zap.Int("page", page),
			zap.Time("window_start", r.window.Start), zap.Time("window_end", r.window.End), zap.Error(err))
		r.tb.CcpRecordsDropped.Add(ctx, int64(len(events)), r.metricAttrs)
		r.conn.Dropped(fmt.Sprintf("%d records refused permanently by the pipeline", len(events)))
		return nil
	}
	r.tb.CcpEvents.Add(ctx, int64(len(events)), r.metricAttrs)
	r.conn.Received(len(events), time.Now())
	r.rememberKeys()
	return nil
}

// rememberKeys records the keys of delivered events before the checkpoint moves; failing to
// persist them can only let a duplicate through after a restart, never lose an event.
func (r *ccpReceiver) rememberKeys() {
	if r.dedup == nil {
		return
	}
	if err := r.dedup.Commit(); err != nil {
		r.log.Warn("dedup keys not saved; a restart may deliver these events again", zap.Error(err))
	}
}

// forgetKeys drops the keys of events the pipeline did not take: a retry must send them.
func (r *ccpReceiver) forgetKeys() {
	if r.dedup != nil {
		r.dedup.Abandon()
	}
}

// observer forwards engine counters to the receiver's telemetry.
type observer struct {
	tb        *metadata.TelemetryBuilder
	connector string
	attrs     metric.MeasurementOption // connector=<name>
	skipped   func(reason, detail string)
	conn      *connstate.Connector
}

// Skipped implements poller.SkipObserver.
func (o *observer) Skipped(reason, detail string) { o.skipped(reason, detail) }

// Traced implements poller.TraceObserver: the connector page shows the last requests.
func (o *observer) Traced(t poller.Trace) { o.conn.Traced(t) }

func (o *observer) Request(class string) {
	o.tb.CcpRequests.Add(context.Background(), 1, metric.WithAttributes(
		attribute.String("connector", o.connector), attribute.String("status_class", class)))
	o.conn.Request(false)
}
func (o *observer) Retry() {
	o.tb.CcpRetries.Add(context.Background(), 1, o.attrs)
	o.conn.Request(true)
}
func (o *observer) Throttle() { o.tb.CcpThrottles.Add(context.Background(), 1, o.attrs) }
func (o *observer) ResponseBytes(n int) {
	o.tb.CcpResponseBytes.Add(context.Background(), int64(n), o.attrs)
}
