package ccpcoordinatorextension

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
)

// coordinatorExtension is the ccp_coordinator extension; receivers find it by ID and use it
// as a coordination.Coordinator.
type coordinatorExtension struct {
	cfg *Config
	set extension.Settings

	mu    sync.Mutex
	coord *coordinator

	// newEngine builds the backend; tests replace it.
	newEngine func(ctx context.Context, identity string) (engine, *clock, error)
}

var (
	_ extension.Extension      = (*coordinatorExtension)(nil)
	_ coordination.Coordinator = (*coordinatorExtension)(nil)
)

func newExtension(cfg *Config, set extension.Settings) *coordinatorExtension {
	e := &coordinatorExtension{cfg: cfg, set: set}
	e.newEngine = e.buildEngine
	return e
}

// Start connects to the engine without waiting for it: an unreachable engine is a
// recoverable error in the component status, and the collector keeps trying.
func (e *coordinatorExtension) Start(ctx context.Context, host component.Host) error {
	identity := e.cfg.identity()
	eng, clk, err := e.newEngine(ctx, identity)
	if err != nil {
		return err
	}
	tm := timing{leaseDuration: e.cfg.LeaseDuration, renewDeadline: e.cfg.RenewDeadline, retryPeriod: e.cfg.RetryPeriod}
	logger := e.set.Logger.With(zap.String("identity", identity))
	c := newCoordinator(eng, identity, clk, tm, logger)
	rep := &statusReporter{host: host, identity: identity, coord: c}
	c.status = rep.health
	c.metrics.hooks = append(c.metrics.hooks, func(string, string, bool) { rep.leadership() })
	e.mu.Lock()
	e.coord = c
	e.mu.Unlock()
	logger.Info("Coordinating connectors across replicas", zap.String("backend", e.backendName()),
		zap.Duration("lease_duration", tm.leaseDuration), zap.Duration("renew_deadline", tm.renewDeadline))
	c.start()
	return nil
}

func (e *coordinatorExtension) backendName() string {
	if e.cfg.Etcd.HasValue() {
		return "etcd"
	}
	return "kubernetes"
}

// Shutdown resigns every term (other replicas take over at once) and withdraws.
func (e *coordinatorExtension) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	c := e.coord
	e.coord = nil
	e.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.stop(ctx)
}

// Join implements coordination.Coordinator.
func (e *coordinatorExtension) Join(ctx context.Context, connector string) (coordination.Candidate, error) {
	e.mu.Lock()
	c := e.coord
	e.mu.Unlock()
	if c == nil {
		return nil, errors.New("ccp_coordinator: not started")
	}
	return c.Join(ctx, connector)
}

func (e *coordinatorExtension) buildEngine(ctx context.Context, identity string) (engine, *clock, error) {
	if e.cfg.Etcd.HasValue() {
		ec := e.cfg.Etcd.Get()
		cli, err := newEtcdClient(ctx, ec, e.set.Logger)
		if err != nil {
			return nil, nil, err
		}
		return newEtcdEngine(cli, ec.Prefix, identity, e.cfg.LeaseDuration), realClock(), nil
	}
	kc := e.cfg.Kubernetes.Get()
	api, err := newLeaseClient(kc)
	if err != nil {
		return nil, nil, err
	}
	clk := realClock()
	return newK8sEngine(api, kc.LeasePrefix, identity, clk, e.cfg.LeaseDuration), clk, nil
}

// statusReporter puts the engine's reachability and the connectors this replica leads in
// the component status, reporting only changes.
type statusReporter struct {
	host     component.Host
	identity string
	coord    *coordinator

	mu   sync.Mutex
	last string
}

func (r *statusReporter) health(err error) { r.report(err) }
func (r *statusReporter) leadership()      { r.report(nil) }

func (r *statusReporter) report(err error) {
	leading := strings.Join(r.coord.leading(), ",")
	key := fmt.Sprintf("%v|%s", err, leading)
	r.mu.Lock()
	defer r.mu.Unlock()
	if key == r.last {
		return
	}
	r.last = key
	if err != nil {
		componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
		return
	}
	attrs := pcommon.NewMap()
	attrs.PutStr("identity", r.identity)
	attrs.PutStr("leading", leading)
	componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK, componentstatus.WithAttributes(attrs)))
}
