package ccpcoordinatorextension

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
)

// errClosed is returned by Lead after Close.
var errClosed = errors.New("ccp_coordinator: candidate closed")

// candidate is this replica's place in one connector's election.
type candidate struct {
	c         *coordinator
	connector string

	leadMu          sync.Mutex // one Lead at a time; guards leaderlessSince
	leaderlessSince time.Time  // clock time the connector was first seen without a leader

	mu     sync.Mutex
	closed bool

	holdOffUntil time.Time // guarded by c.mu: no campaign before (after a balance resignation)
}

var _ coordination.Candidate = (*candidate)(nil)

// Lead campaigns every retry period until this replica leads the connector. A replica at or
// over its share of leaderships, or leading more than another replica, does not campaign,
// unless the connector has had no leader for a whole lease duration (no connector is left
// unpolled because views of the membership differ for a while).
func (cd *candidate) Lead(ctx context.Context) (coordination.Term, error) {
	c := cd.c
	cd.leadMu.Lock()
	defer cd.leadMu.Unlock()
	c.mu.Lock()
	current := c.terms[cd.connector]
	c.mu.Unlock()
	if current != nil && !current.ended() {
		return current, nil
	}
	for {
		if err := cd.usable(ctx); err != nil {
			return nil, err
		}
		if cd.mayCampaign(ctx) {
			// The lease can date from the start of the attempt: the term counts from there.
			attempt := c.clk.Now()
			h, err := c.eng.tryLead(ctx, cd.connector, c.tm.retryPeriod)
			if err != nil && ctx.Err() == nil {
				c.logger.Debug("Campaign attempt failed", zap.String("connector", cd.connector), zap.Error(err))
			}
			if h != nil {
				return cd.begin(h, attempt)
			}
		}
		if !c.clk.sleep(ctx, c.tm.retryPeriod) {
			return nil, ctx.Err()
		}
	}
}

func (cd *candidate) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if cd.c.ctx.Err() != nil {
		return errors.New("ccp_coordinator: extension shut down")
	}
	cd.mu.Lock()
	defer cd.mu.Unlock()
	if cd.closed {
		return errClosed
	}
	return nil
}

func (cd *candidate) mayCampaign(ctx context.Context) bool {
	c := cd.c
	c.mu.Lock()
	under := c.mayCampaignLocked() && !c.clk.Now().Before(cd.holdOffUntil)
	c.mu.Unlock()
	if under {
		cd.leaderlessSince = time.Time{}
		return true
	}
	lctx, cancel := c.clk.withTimeout(ctx, c.tm.retryPeriod)
	defer cancel()
	leader, err := c.eng.leader(lctx, cd.connector)
	if err != nil || leader != "" {
		cd.leaderlessSince = time.Time{}
		return false
	}
	now := c.clk.Now()
	if cd.leaderlessSince.IsZero() {
		cd.leaderlessSince = now
	}
	return now.Sub(cd.leaderlessSince) >= c.tm.leaseDuration
}

// begin registers a new term and starts renewing it; a candidate closed meanwhile gives the
// lease back at once.
func (cd *candidate) begin(h hold, since time.Time) (coordination.Term, error) {
	c := cd.c
	cd.mu.Lock()
	if cd.closed || c.ctx.Err() != nil {
		cd.mu.Unlock()
		ctx, cancel := c.clk.withTimeout(context.Background(), c.tm.retryPeriod)
		defer cancel()
		_ = h.release(ctx)
		return nil, errClosed
	}
	t := newTerm(c, cd.connector, h, since)
	c.mu.Lock()
	c.terms[cd.connector] = t
	c.mu.Unlock()
	cd.mu.Unlock()
	cd.leaderlessSince = time.Time{}
	c.metrics.leadershipChanged(cd.connector, true)
	c.logger.Info("Leading connector", zap.String("connector", cd.connector),
		zap.String("leader", c.identity), zap.String("fence", h.fence()))
	c.wg.Go(t.renewLoop)
	return t, nil
}

// Close withdraws from the election, resigning a term in progress.
func (cd *candidate) Close(ctx context.Context) error {
	c := cd.c
	cd.mu.Lock()
	if cd.closed {
		cd.mu.Unlock()
		return nil
	}
	cd.closed = true
	cd.mu.Unlock()
	c.mu.Lock()
	t := c.terms[cd.connector]
	delete(c.joined, cd.connector)
	c.mu.Unlock()
	if t == nil {
		return nil
	}
	if err := t.Resign(ctx); err != nil {
		return fmt.Errorf("resign %s: %w", cd.connector, err)
	}
	return nil
}
