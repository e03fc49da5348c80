package ccpreceiver

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

// runLoop polls until ctx ends: at once without a coordinator, else whenever this replica leads.
func (r *ccpReceiver) runLoop(ctx context.Context) {
	if r.candidate != nil {
		r.lead(ctx)
		return
	}
	r.poll(ctx)
}

// schedule is the connector's window schedule and where a first start begins.
func (r *ccpReceiver) schedule() (sched window.Schedule, lookback, maxCatchUp time.Duration) {
	q := r.loaded.Def.Request
	sched = window.Schedule{
		Size:  time.Duration(q.QueryWindowInMin) * time.Minute,
		Delay: time.Duration(q.QueryWindowDelayInMin) * time.Minute,
	}
	lookback = r.cfg.InitialLookback
	if lookback == 0 && q.FirstWindowBackfillInMin > 0 {
		lookback = time.Duration(q.FirstWindowBackfillInMin) * time.Minute
	}
	// The catch-up bound is never shorter than the lookback the user asked for.
	if maxCatchUp = r.cfg.MaxCatchUp; maxCatchUp > 0 {
		maxCatchUp = max(maxCatchUp, lookback)
	}
	return sched, lookback, maxCatchUp
}

// restore loads the saved state and returns where polling starts.
func (r *ccpReceiver) restore(ctx context.Context, sched window.Schedule, lookback time.Duration) time.Time {
	saved, err := r.tracker.Restore(ctx)
	if err != nil {
		r.log.Warn("checkpoint not usable; starting from initial_lookback", zap.Error(err))
	}
	if saved.DefinitionChanged {
		r.log.Warn("the definition changed since the last checkpoint; resuming at the saved window end without the saved cursor",
			zap.Time("window_end", saved.WindowEnd))
	}
	if saved.Fresh {
		start := sched.FirstStart(time.Now(), lookback)
		r.log.Info("no checkpoint; starting", zap.Time("first_window_start", start))
		return start
	}
	r.log.Info("resuming from checkpoint", zap.Time("window_start", saved.WindowEnd))
	return saved.WindowEnd
}

// poll polls window after window until ctx is cancelled. A failed window is retried with
// capped exponential backoff and never skipped: the checkpoint only moves past a window
// whose every page the pipeline accepted.
func (r *ccpReceiver) poll(ctx context.Context) {
	sched, lookback, maxCatchUp := r.schedule()
	start := r.restore(ctx, sched, lookback)
	failures := 0
	for ctx.Err() == nil {
		start = r.catchUp(ctx, sched, start, maxCatchUp, time.Now())
		w, wait := sched.Next(start, time.Now())
		if wait > 0 {
			if ratelimit.Sleep(ctx, wait) != nil {
				return
			}
			continue
		}
		err := r.pollWindow(ctx, w)
		if err != nil && ctx.Err() != nil {
			return // shutting down mid-window: the saved position resumes it
		}
		if err != nil {
			failures++
			r.reportFailure(w, err, failures)
			if ratelimit.Sleep(ctx, r.retryDelay(failures)) != nil {
				return
			}
			continue
		}
		if failures > 0 {
			r.log.Info("polling recovered", zap.Int("failed_attempts", failures))
			componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
		}
		failures = 0
		r.windowDone(ctx, w)
		start = w.End
	}
}

// pollWindow polls w from where an interrupted delivery of it stopped, hands its pages over
// and, once the pipeline accepted all of them, saves the window as done.
func (r *ccpReceiver) pollWindow(ctx context.Context, w window.Window) error {
	at := r.tracker.Begin(w)
	r.window = w
	r.conn.Begin(w.Start, w.End)
	h := r.newHandover(at)
	cursor, err := r.poller.PollWindow(ctx, w, r.tracker.Cursor(), at.Resume, h.deliver)
	if herr := h.wait(); err == nil {
		err = herr
	}
	var re *poller.RequestError
	if err != nil && at.Resume != "" && errors.As(err, &re) && !re.Retryable && !re.Auth {
		// The saved position was refused (an expired page token, say): the next attempt
		// redoes the whole window, which re-sends its delivered pages.
		r.log.Warn("cannot continue the interrupted window; polling it again from its first page", zap.Error(err))
		r.tracker.Restart()
	}
	if err != nil {
		return err
	}
	// A complete window is checkpointed even when shutdown began meanwhile; otherwise a
	// restart would poll it again from its first page.
	if err := r.tracker.Done(ctx, cursor); err != nil {
		r.log.Error("saving the checkpoint failed; a restart will poll this window again", zap.Error(err))
	}
	return nil
}

func (r *ccpReceiver) windowDone(ctx context.Context, w window.Window) {
	now := time.Now()
	r.conn.Succeeded()
	r.tb.CcpWindows.Add(ctx, 1, r.metricAttrs)
	r.tb.CcpWindowLag.Record(ctx, now.Sub(w.End).Seconds(), r.metricAttrs)
	r.tb.CcpLastSuccess.Record(ctx, float64(now.UnixNano())/1e9, r.metricAttrs)
}

// catchUp moves start forward to now − maxCatchUp when it is older: a vendor keeps events only
// for so long, so a checkpoint (or a window failing for days) older than that could never catch
// up. The gap is skipped loudly: an error log with its bounds and a max_catch_up skip metric.
func (r *ccpReceiver) catchUp(ctx context.Context, sched window.Schedule, start time.Time, maxCatchUp time.Duration, now time.Time) time.Time {
	if maxCatchUp <= 0 {
		return start
	}
	floor := sched.FirstStart(now, maxCatchUp)
	if !start.Before(floor) {
		return start
	}
	r.log.Error("polling is further behind than max_catch_up; the gap is skipped and its events are not collected (raise max_catch_up to keep them, if the vendor still holds them)",
		zap.Time("gap_start", start), zap.Time("gap_end", floor), zap.Duration("gap", floor.Sub(start)),
		zap.Duration("max_catch_up", maxCatchUp))
	r.countSkip(ctx, "max_catch_up")
	r.tracker.SkipTo(floor)
	return floor
}

// skipped is the engine's and the nested runner's report of data skipped on purpose (a page
// cap, a child-call budget): an error log naming the connector plus the skip metric.
func (r *ccpReceiver) skipped(reason, detail string) {
	r.log.Error("data skipped: "+detail, zap.String("reason", reason),
		zap.Time("window_start", r.window.Start), zap.Time("window_end", r.window.End))
	r.countSkip(context.Background(), reason)
	r.conn.Skipped(reason)
}

func (r *ccpReceiver) countSkip(ctx context.Context, reason string) {
	r.tb.CcpDataSkipped.Add(ctx, 1, metric.WithAttributes(
		attribute.String("connector", r.name), attribute.String("reason", reason)))
}

func (r *ccpReceiver) retryDelay(failures int) time.Duration {
	d := 5 * time.Second << min(failures-1, 20)
	if d > r.cfg.MaxRetryBackoff || d <= 0 {
		d = r.cfg.MaxRetryBackoff
	}
	return d
}

func (r *ccpReceiver) reportFailure(w window.Window, err error, failures int) {
	fields := []zap.Field{zap.Time("window_start", w.Start), zap.Time("window_end", w.End), zap.Int("attempt", failures), zap.Error(err)}
	r.tb.CcpWindowFailures.Add(context.Background(), 1, r.metricAttrs)
	status := 0
	var re *poller.RequestError
	if errors.As(err, &re) {
		status = re.Status
	}
	r.conn.Failed(err.Error(), status) // engine errors are scrubbed of secrets
	if failures == 1 || failures%10 == 0 {
		r.log.Error("polling the window failed; it will be retried and not skipped", fields...)
	} else {
		r.log.Debug("polling the window failed again", fields...)
	}
	componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
}
