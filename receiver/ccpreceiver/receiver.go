package ccpreceiver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
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
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
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
	loaded *connector.Loaded
	attrs  pcommon.Map // connector attributes copied onto every record
	name   string      // the connector's label (ccp.connector)
	reg    *connstate.Registry
	conn   *connstate.Connector // this connector in the registry health and the status page read
	// metricAttrs label every metric with the connector, so several ccp receivers in one
	// collector are told apart (counters would add up and gauges collide otherwise).
	metricAttrs metric.MeasurementOption

	// With a coordinator, only the leader polls, and state lives in the coordinator.
	candidate coordination.Candidate // nil without a coordinator
	standby   atomic.Bool            // a follower: the watchdog does not count the idle time
	leadSince atomic.Int64           // unix nanoseconds the current leadership began

	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Owned by the polling goroutine once Start returns (rebuilt for each leadership term).
	client  storage.Client
	store   *checkpoint.Store
	tracker *checkpoint.Tracker
	poller  poller.WindowPoller // the engine, wrapped by nested steps when there are any
	window  window.Window       // the window being polled, for logs
	dedup   *dedup.Filter       // nil unless dedup is configured
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

// Start loads the definition and starts polling (or campaigning for leadership, with a
// coordinator) and the stall watchdog on their own context.
func (r *ccpReceiver) Start(ctx context.Context, host component.Host) error {
	r.host = host
	loaded, err := r.cfg.loadDefinition()
	if err != nil {
		return err
	}
	r.loaded, r.name = loaded, r.connectorName(loaded)
	r.log = r.set.Logger.With(zap.String("connector", r.name))
	for _, w := range loaded.Def.Warnings {
		r.log.Warn(w)
	}
	r.metricAttrs = metric.WithAttributeSet(attribute.NewSet(attribute.String("connector", r.name)))
	r.attrs = recordAttributes(r.name, loaded)
	r.conn = r.reg.Register(r.identity())
	if !loaded.Def.IsActive {
		r.log.Warn("the definition sets isActive: false; the receiver does not poll")
		r.conn.SetDisabled("the definition sets isActive: false")
		return nil
	}
	if err := r.prepare(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		r.runLoop(runCtx)
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

// Shutdown stops polling, waits for the parts in flight, leaves the election, then closes the
// storage client.
func (r *ccpReceiver) Shutdown(ctx context.Context) error {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	if r.conn != nil {
		r.reg.Unregister(r.conn)
	}
	var err error
	if r.candidate != nil {
		err = r.candidate.Close(ctx)
	}
	if r.client != nil && r.candidate == nil {
		err = r.client.Close(ctx)
		r.client = nil
	}
	r.tb.Shutdown()
	return err
}
