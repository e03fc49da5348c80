package ccpreceiver

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component/componentstatus"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

// minStallAfter is the floor of the default stall period.
const minStallAfter = 15 * time.Minute

// stallAfter is the configured period, or three windows and at least 15 minutes.
func (r *ccpReceiver) stallAfter() time.Duration {
	q := r.loaded.Def.Request
	window := time.Duration(q.QueryWindowInMin) * time.Minute
	if r.cfg.StallAfter > 0 {
		if wait := window + time.Duration(q.QueryWindowDelayInMin)*time.Minute; r.cfg.StallAfter <= wait {
			r.log.Warn("stall_after is not longer than one window plus its delay: a connector waiting for its next window will be reported stalled; raise stall_after",
				zap.Duration("stall_after", r.cfg.StallAfter), zap.Duration("window_and_delay", wait))
		}
		return r.cfg.StallAfter
	}
	return max(3*window, minStallAfter)
}

// watch runs beside the polling goroutine, never inside it, so a poll loop hung in a request
// or in a consumer that never returns is still noticed: when no window completed for the
// stall period the connector is stalled (error log, component status, ccp_stalled = 1, a
// Stalled status for health records and the page); a completed window clears it.
func (r *ccpReceiver) watch(ctx context.Context, conn *connstate.Connector, period time.Duration) {
	tick := time.NewTicker(max(min(period/10, 30*time.Second), 10*time.Millisecond))
	defer tick.Stop()
	stalled := false
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			idle := now.Sub(r.lastProgress(conn))
			if r.standby.Load() {
				idle = 0 // a follower does not poll: nothing can stall
			}
			switch {
			case !stalled && idle >= period:
				stalled = true
				err := fmt.Errorf("stalled: no window completed for %s (stall_after %s); the poll loop may be hung in a request or blocked by the pipeline", idle.Truncate(time.Second), period)
				r.log.Error("connector stalled", zap.Duration("idle", idle), zap.Duration("stall_after", period))
				componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
				r.tb.CcpStalled.Record(ctx, 1, r.metricAttrs)
				conn.SetStalled(true, err.Error())
			case stalled && idle < period:
				stalled = false
				r.log.Info("connector no longer stalled: a window completed")
				componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
				r.tb.CcpStalled.Record(ctx, 0, r.metricAttrs)
				conn.SetStalled(false, "a window completed")
			}
		}
	}
}

// lastProgress is the last completed window, or when this replica began to lead the connector.
func (r *ccpReceiver) lastProgress(conn *connstate.Connector) time.Time {
	p := conn.LastProgress()
	if since := r.leadSince.Load(); since > p.UnixNano() {
		return time.Unix(0, since)
	}
	return p
}
