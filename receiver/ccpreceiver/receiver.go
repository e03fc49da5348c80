package ccpreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/checkpoint"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/dedup"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/metadata"
)

type ccpReceiver struct {
	set  receiver.Settings
	cfg  *Config
	next consumer.Logs
	log  *zap.Logger

	obs    *receiverhelper.ObsReport
	tb     *metadata.TelemetryBuilder
	host   component.Host
	client storage.Client
	store  *checkpoint.Store
	loaded *connector.Loaded
	poller poller.WindowPoller // the engine, wrapped by nested steps when there are any
	dedup  *dedup.Filter       // nil unless dedup is configured
	attrs  pcommon.Map         // connector attributes copied onto every record
	name   string              // the connector's label (ccp.connector)
	reg    *connstate.Registry
	conn   *connstate.Connector // this connector in the registry health and the status page read
	// metricAttrs label every metric with the connector, so several ccp receivers in one
	// collector are told apart (counters would add up and gauges collide otherwise).
	metricAttrs metric.MeasurementOption

	cancel context.CancelFunc
	wg     sync.WaitGroup

	// state, window, pagePos and skip are owned by the polling goroutine once Start returns.
	state   checkpoint.State
	window  window.Window
	pagePos string // position of the page being delivered ("" = the window's first page)
	skip    int    // records of the first page to skip: delivered before a restart
	fresh   bool   // no usable checkpoint: start from initial_lookback
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*ccpReceiver, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: set.ID, Transport: "http", ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &ccpReceiver{set: set, cfg: cfg, next: next, log: set.Logger, obs: obs, tb: tb, reg: connstate.Default()}, nil
}

// Start loads the definition, builds the HTTP client, auth and engine, restores the
// checkpoint and starts the polling goroutine and its watchdog on their own context.
func (r *ccpReceiver) Start(ctx context.Context, host component.Host) error {
	r.host = host
	loaded, err := r.cfg.loadDefinition()
	if err != nil {
		return err
	}
	r.loaded = loaded
	r.name = r.connectorName()
	r.log = r.set.Logger.With(zap.String("connector", r.name))
	for _, w := range loaded.Def.Warnings {
		r.log.Warn(w)
	}
	r.metricAttrs = metric.WithAttributeSet(attribute.NewSet(attribute.String("connector", r.name)))
	r.conn = r.reg.Register(r.identity())
	if !loaded.Def.IsActive {
		r.log.Warn("the definition sets isActive: false; the receiver does not poll")
		r.conn.SetDisabled("the definition sets isActive: false")
		return nil
	}
	if err := r.openState(ctx); err != nil {
		return err
	}
	if err := r.openConnector(ctx); err != nil {
		return err
	}
	r.attrs = recordAttributes(r.name, loaded)
	r.restoreCheckpoint(ctx)

	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		r.run(runCtx)
	}()
	go func() {
		defer r.wg.Done()
		r.watch(runCtx, r.conn, r.stallAfter())
	}()
	return nil
}

// identity describes this connector to the registry.
func (r *ccpReceiver) identity() connstate.Identity {
	d := r.loaded.Def
	kind := "RestApiPoller"
	if d.Legacy {
		kind = "APIPolling"
	}
	return connstate.Identity{ID: r.set.ID.String(), Name: r.name, Kind: kind, Source: r.loaded.Source,
		Poller: r.loaded.Name, DataType: d.DataType, DCRImmutableID: d.DCR.DataCollectionRuleImmutableID,
		StreamName: d.DCR.StreamName, WindowSize: time.Duration(d.Request.QueryWindowInMin) * time.Minute}
}

// Shutdown stops polling, waits for the in-flight page, then closes the storage client.
func (r *ccpReceiver) Shutdown(ctx context.Context) error {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	if r.conn != nil {
		r.reg.Unregister(r.conn)
	}
	var err error
	if r.client != nil {
		err = r.client.Close(ctx)
		r.client = nil
	}
	r.tb.Shutdown()
	return err
}

func storageClient(ctx context.Context, host component.Host, id *component.ID, self component.ID) (storage.Client, error) {
	if id == nil {
		return storage.NewNopClient(), nil
	}
	ext, ok := host.GetExtensions()[*id]
	if !ok {
		return nil, fmt.Errorf("storage: extension %q not found; add it under extensions and service.extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage: extension %q is not a storage extension", id)
	}
	return se.GetClient(ctx, component.KindReceiver, self, "")
}

// run polls window after window until ctx is cancelled. A failed window is retried with
// capped exponential backoff and never skipped: the checkpoint only moves past a window
// whose every page the pipeline accepted.
func (r *ccpReceiver) run(ctx context.Context) {
	q := r.loaded.Def.Request
	sched := window.Schedule{
		Size:  time.Duration(q.QueryWindowInMin) * time.Minute,
		Delay: time.Duration(q.QueryWindowDelayInMin) * time.Minute,
	}
	lookback := r.cfg.InitialLookback
	if lookback == 0 && q.FirstWindowBackfillInMin > 0 {
		lookback = time.Duration(q.FirstWindowBackfillInMin) * time.Minute
	}
	start := r.state.WindowEnd
	if r.fresh {
		start = sched.FirstStart(time.Now(), lookback)
		r.log.Info("no checkpoint; starting", zap.Time("first_window_start", start))
	} else {
		r.log.Info("resuming from checkpoint", zap.Time("window_start", start))
	}
	// The catch-up bound is never shorter than the lookback the user asked for.
	maxCatchUp := r.cfg.MaxCatchUp
	if maxCatchUp > 0 {
		maxCatchUp = max(maxCatchUp, lookback)
	}
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
		resume := ""
		r.skip = 0
		if p := r.state.Partial; p != nil && p.End.Equal(w.End) {
			resume, r.skip = p.Resume, p.Skip
		}
		r.window, r.pagePos = w, resume
		r.conn.Begin(w.Start, w.End)
		cursor, err := r.poller.PollWindow(ctx, w, r.state.Cursor, resume, r.deliver)
		if err != nil && ctx.Err() != nil {
			return // shutting down mid-window: the saved partial position resumes it
		}
		if err != nil {
			var re *poller.RequestError
			if resume != "" && errors.As(err, &re) && !re.Retryable && !re.Auth {
				// The saved position was refused (an expired page token, say): the next
				// attempt redoes the whole window, which re-sends its delivered pages.
				r.log.Warn("cannot continue the interrupted window; polling it again from its first page", zap.Error(err))
				r.state.Partial = nil
			}
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
		r.state.WindowEnd = w.End
		r.state.Cursor = cursor
		r.state.Partial = nil
		// A complete window is checkpointed even when shutdown began meanwhile; otherwise a
		// restart would poll it again from its first page.
		if err := r.store.Save(context.WithoutCancel(ctx), r.state); err != nil {
			r.log.Error("saving the checkpoint failed; a restart will poll this window again", zap.Error(err))
		}
		now := time.Now()
		r.conn.Succeeded()
		r.tb.CcpWindows.Add(ctx, 1, r.metricAttrs)
		r.tb.CcpWindowLag.Record(ctx, now.Sub(w.End).Seconds(), r.metricAttrs)
		r.tb.CcpLastSuccess.Record(ctx, float64(now.UnixNano())/1e9, r.metricAttrs)
		start = w.End
	}
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
	r.state.Partial = nil
	return floor
}

// skipped is the engine's and the nested runner's report of data skipped on purpose (a page
// cap, a child-call budget): an error log naming the window plus the skip metric.
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

// deliver turns one page into log records and hands them to the pipeline; the persistent
// cursor is saved only once the pipeline accepted the page.
func (r *ccpReceiver) deliver(ctx context.Context, page poller.Page) error {
	events := page.Events
	if r.skip > 0 {
		n := min(r.skip, len(events))
		events, r.skip = events[n:], 0
	}
	size := r.cfg.ConsumeBatchSize
	if size <= 0 || size > len(events) {
		size = len(events)
	}
	delivered := len(page.Events) - len(events)
	for off := 0; off < len(events); off += size {
		part := events[off:min(off+size, len(events))]
		if err := r.consume(ctx, part, page.Number); err != nil {
			return err
		}
		delivered += len(part)
		if delivered < len(page.Events) {
			// Part of the page is in the pipeline: a restart skips it.
			r.state.Partial = &checkpoint.Partial{End: r.window.End, Resume: r.pagePos, Skip: delivered}
			if err := r.store.Save(context.WithoutCancel(ctx), r.state); err != nil {
				return fmt.Errorf("saving the checkpoint: %w", err)
			}
		}
	}
	r.tb.CcpPages.Add(ctx, 1, r.metricAttrs)
	r.conn.Page()
	if page.Cursor != "" {
		r.state.Cursor = page.Cursor
	}
	if page.Resume != "" {
		r.state.Partial = &checkpoint.Partial{End: r.window.End, Resume: page.Resume}
	} else {
		r.state.Partial = nil
	}
	r.pagePos = page.Resume
	// The page is in the pipeline: record that even if shutdown has begun.
	if err := r.store.Save(context.WithoutCancel(ctx), r.state); err != nil {
		return fmt.Errorf("saving the checkpoint: %w", err)
	}
	return nil
}

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
