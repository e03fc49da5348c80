package ccphealthreceiver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccphealthreceiver/internal/metadata"
)

// maxBatch bounds the events turned into one push.
const maxBatch = 256

type healthReceiver struct {
	set  receiver.Settings
	cfg  *Config
	next consumer.Logs
	reg  *connstate.Registry
	tb   *metadata.TelemetryBuilder
	log  *zap.Logger
	now  func() time.Time

	queue       chan connstate.Event
	unsubscribe func()
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	dropped     atomic.Int64

	// lastFailed is each connector's latest failed attempt, cleared by a success; owned by
	// the loop goroutine (then by Shutdown once the loop ended).
	lastFailed map[string]connstate.Window
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs, reg *connstate.Registry) (*healthReceiver, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &healthReceiver{set: set, cfg: cfg, next: next, reg: reg, tb: tb, log: set.Logger, now: time.Now,
		lastFailed: map[string]connstate.Window{}}, nil
}

// Start subscribes to the registry; the pipeline is fed from a goroutine of its own, so a slow
// pipeline never blocks a connector's polling goroutine.
func (r *healthReceiver) Start(_ context.Context, _ component.Host) error {
	r.queue = make(chan connstate.Event, r.cfg.QueueSize)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.loop(ctx)
	}()
	r.unsubscribe = r.reg.Subscribe(r.offer)
	return nil
}

// offer runs on the reporting goroutine (a poll loop or the watchdog): it never blocks.
func (r *healthReceiver) offer(ev connstate.Event) {
	select {
	case r.queue <- ev:
	default:
		r.drop(1, "queue full: the pipeline is slower than the connectors (raise queue_size or check the exporter)")
	}
}

// drop counts n lost health records and logs the first loss and every thousandth after it.
func (r *healthReceiver) drop(n int64, why string) {
	total := r.dropped.Add(n)
	r.tb.CcpHealthRecordsDropped.Add(context.Background(), n)
	if total == n || total/1000 != (total-n)/1000 {
		r.log.Warn("health records dropped", zap.String("why", why), zap.Int64("dropped", n), zap.Int64("dropped_total", total))
	}
}

func (r *healthReceiver) loop(ctx context.Context) {
	var tick <-chan time.Time
	if r.cfg.StatusInterval > 0 {
		t := time.NewTicker(r.cfg.StatusInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.queue:
			r.emit(ctx, r.records(r.take([]connstate.Event{ev}, maxBatch)))
		case <-tick:
			r.emit(ctx, r.statusRecords())
		}
	}
}

// take appends queued events to batch, without waiting, until it holds limit events.
func (r *healthReceiver) take(batch []connstate.Event, limit int) []connstate.Event {
	for len(batch) < limit {
		select {
		case ev := <-r.queue:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

// records maps events to health records (successful attempts only with include_successes).
func (r *healthReceiver) records(events []connstate.Event) []record {
	out := make([]record, 0, len(events))
	for _, ev := range events {
		id := ev.Connector.ID
		switch {
		case ev.Window != nil:
			if ev.Window.Outcome == "success" {
				delete(r.lastFailed, id)
			} else {
				r.lastFailed[id] = *ev.Window
			}
			rec := fromWindow(ev.Connector, *ev.Window)
			if rec.Status != StatusSuccess || r.cfg.IncludeSuccesses {
				out = append(out, rec)
			}
		case ev.Change != nil:
			var last *connstate.Window
			if w, ok := r.lastFailed[id]; ok {
				last = &w
			}
			out = append(out, fromChange(ev.Connector, *ev.Change, last))
		}
	}
	return out
}

// statusRecords repeats every registered connector's current status.
func (r *healthReceiver) statusRecords() []record {
	now := r.now()
	conns := r.reg.Connectors()
	out := make([]record, 0, len(conns))
	for _, c := range conns {
		out = append(out, fromSnapshot(c.Snapshot(now), now))
	}
	return out
}

// emit pushes records as one batch; a refused batch is counted as dropped (health records are
// not retried here: the exporter's queue and retry settings decide).
func (r *healthReceiver) emit(ctx context.Context, recs []record) {
	if len(recs) == 0 {
		return
	}
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	lrs := sl.LogRecords()
	observed := r.now()
	for _, rec := range recs {
		rec.appendTo(lrs, observed)
	}
	if err := r.next.ConsumeLogs(ctx, ld); err != nil {
		r.log.Error("the pipeline refused health records", zap.Error(err))
		r.drop(int64(len(recs)), "refused by the pipeline: "+err.Error())
		return
	}
	r.tb.CcpHealthRecords.Add(ctx, int64(len(recs)))
}

// Shutdown unsubscribes, stops the loop, then hands what is still queued to the pipeline
// within ctx (best effort).
func (r *healthReceiver) Shutdown(ctx context.Context) error {
	if r.unsubscribe != nil {
		r.unsubscribe()
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	if r.queue != nil {
		r.emit(ctx, r.records(r.take(nil, cap(r.queue))))
	}
	r.tb.Shutdown()
	return nil
}
