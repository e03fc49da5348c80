package ccpreceiver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component/componentstatus"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
)

// join enrols this connector in its election on the configured coordinator. The connector is
// named by the receiver ID, the same on every replica of one configuration.
func (r *ccpReceiver) join(ctx context.Context) error {
	ext, ok := r.host.GetExtensions()[*r.cfg.Coordinator]
	if !ok {
		return fmt.Errorf("coordinator: extension %q not found; add it under extensions and service.extensions", r.cfg.Coordinator)
	}
	co, ok := ext.(coordination.Coordinator)
	if !ok {
		return fmt.Errorf("coordinator: extension %q is not a ccp_coordinator", r.cfg.Coordinator)
	}
	cand, err := co.Join(ctx, r.set.ID.String())
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	r.candidate = cand
	r.standby.Store(true) // a follower until elected: not a leadership change
	r.tb.CcpLeader.Record(ctx, 0, r.metricAttrs)
	r.conn.SetStandby(true)
	return nil
}

// lead waits for leadership, polls for as long as the term lasts, and waits again.
func (r *ccpReceiver) lead(ctx context.Context) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		term, err := r.candidate.Lead(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("campaigning for the connector failed; retrying", zap.Error(err))
				_ = ratelimit.Sleep(ctx, min(time.Second<<min(attempt, 5), 30*time.Second))
			}
			continue
		}
		attempt = 0
		r.serveTerm(ctx, term)
	}
}

// serveTerm polls while term lasts. Polling stops as soon as the term ends: before another
// replica can take the lease over.
func (r *ccpReceiver) serveTerm(ctx context.Context, term coordination.Term) {
	termCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-term.Done():
			cancel()
		case <-termCtx.Done():
		}
	}()
	r.log.Info("this replica leads the connector; polling", zap.String("leader", term.Leader()))
	r.leadSince.Store(time.Now().UnixNano())
	r.setStandby(false)
	if err := r.openState(termCtx, &fencedClient{Client: term.State(), r: r}); err != nil {
		r.log.Error("cannot start polling on this term; resigning", zap.Error(err))
		componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
		_ = term.Resign(context.WithoutCancel(ctx))
	} else {
		r.poll(termCtx)
	}
	r.setStandby(true)
	if ctx.Err() == nil {
		r.log.Warn("this replica no longer leads the connector; polling stopped", zap.String("identity", term.Leader()))
	}
}

// setStandby records a leadership change in metrics and in the registry.
func (r *ccpReceiver) setStandby(standby bool) {
	was := r.standby.Swap(standby)
	leader := int64(1)
	if standby {
		leader = 0
	}
	r.tb.CcpLeader.Record(context.Background(), leader, r.metricAttrs)
	if was != standby {
		r.tb.CcpLeadershipChanges.Add(context.Background(), 1, r.metricAttrs)
	}
	r.conn.SetStandby(standby)
}

// countFenced counts a state write the coordinator refused because the term was over; every
// write of a term goes through fencedClient, which calls it.
func (r *ccpReceiver) countFenced(err error) {
	if err != nil && errors.Is(err, coordination.ErrFenced) {
		r.tb.CcpFencedWrites.Add(context.Background(), 1, r.metricAttrs)
		r.log.Warn("the coordinator refused a state write: this replica no longer leads the connector", zap.Error(err))
	}
}
