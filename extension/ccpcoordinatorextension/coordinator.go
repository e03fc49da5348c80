package ccpcoordinatorextension

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
)

// timing is the election's timing, validated by Config.
type timing struct {
	leaseDuration time.Duration
	renewDeadline time.Duration
	retryPeriod   time.Duration
}

// coordinator implements coordination.Coordinator over one engine: per connector an election,
// terms renewed within the renew deadline, and a balance of leaderships across live replicas.
type coordinator struct {
	eng      engine
	identity string
	clk      *clock
	tm       timing
	logger   *zap.Logger
	status   func(err error) // nil: healthy; else a recoverable error
	metrics  *metrics

	mu         sync.Mutex
	joined     map[string]*candidate
	terms      map[string]*term
	view       []member  // last published membership
	lastResign time.Time // clock time of the last balance resignation

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ coordination.Coordinator = (*coordinator)(nil)

func newCoordinator(eng engine, identity string, clk *clock, tm timing, logger *zap.Logger) *coordinator {
	ctx, cancel := context.WithCancel(context.Background())
	return &coordinator{
		eng: eng, identity: identity, clk: clk, tm: tm, logger: logger,
		status: func(error) {}, metrics: newMetrics(),
		joined: map[string]*candidate{}, terms: map[string]*term{},
		ctx: ctx, cancel: cancel,
	}
}

// start publishes this replica and runs the membership and balance loop.
func (c *coordinator) start() {
	c.wg.Go(func() {
		c.tick()
		for c.clk.sleep(c.ctx, c.tm.retryPeriod) {
			c.tick()
		}
	})
}

// stop resigns every term, withdraws from the engine and waits for the loops.
func (c *coordinator) stop(ctx context.Context) error {
	c.mu.Lock()
	terms := make([]*term, 0, len(c.terms))
	for _, t := range c.terms {
		terms = append(terms, t)
	}
	c.mu.Unlock()
	var errs []error
	for _, t := range terms {
		errs = append(errs, t.Resign(ctx))
	}
	c.cancel()
	c.wg.Wait()
	errs = append(errs, c.eng.close(ctx))
	return errors.Join(errs...)
}

// tick publishes presence, refreshes the membership view and resigns one extra leadership
// when this replica leads more than its share.
func (c *coordinator) tick() {
	ctx, cancel := c.clk.withTimeout(c.ctx, c.tm.retryPeriod)
	defer cancel()
	err := c.eng.publish(ctx, c.self())
	var view []member
	if err == nil {
		view, err = c.eng.members(ctx)
	}
	if err != nil {
		if c.ctx.Err() == nil {
			c.status(fmt.Errorf("coordination engine unreachable: %w", err))
			c.logger.Warn("Coordination engine unreachable; leaders keep their terms until the renew deadline", zap.Error(err))
		}
		return
	}
	c.status(nil)
	c.mu.Lock()
	c.view = view
	c.mu.Unlock()
	c.balance()
}

// self is what this replica publishes: the connectors it joined and how many it leads.
func (c *coordinator) self() member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return member{Identity: c.identity, Connectors: slices.Sorted(maps.Keys(c.joined)), Leading: len(c.terms)}
}

// fewestOthersLocked is the smallest number of leaderships another live replica published;
// ok is false when no other replica is known. Called with c.mu held.
func (c *coordinator) fewestOthersLocked() (fewest int, ok bool) {
	for _, m := range c.view {
		if m.Identity == c.identity || len(m.Connectors) == 0 {
			continue // a replica running no coordinated connector takes none over
		}
		if !ok || m.Leading < fewest {
			fewest, ok = m.Leading, true
		}
	}
	return fewest, ok
}

// mayCampaignLocked: this replica is under its share and no other replica leads fewer
// connectors (the least loaded replica picks up what is free). Called with c.mu held.
func (c *coordinator) mayCampaignLocked() bool {
	leading := len(c.terms)
	if leading >= c.shareLocked() {
		return false
	}
	fewest, ok := c.fewestOthersLocked()
	return !ok || leading <= fewest
}

// share is ceil(N/R): N connectors joined by any live replica, R live replicas that joined
// any (this one counted even before its presence shows). Called with c.mu held.
func (c *coordinator) shareLocked() int {
	connectors := map[string]bool{}
	for n := range c.joined {
		connectors[n] = true
	}
	replicas := 1
	for _, m := range c.view {
		if m.Identity != c.identity && len(m.Connectors) > 0 {
			replicas++
		}
		for _, n := range m.Connectors {
			connectors[n] = true
		}
	}
	return (len(connectors) + replicas - 1) / replicas
}

// balance lets go of the newest term when this replica leads more than its share, or two or
// more connectors more than the least loaded replica (so that a replica that joins gets its
// share), at most one every two retry periods so others can pick the connector up first.
// The candidate of that connector here then waits a lease duration before campaigning again.
func (c *coordinator) balance() {
	c.mu.Lock()
	share := c.shareLocked()
	fewest, others := c.fewestOthersLocked()
	leading := len(c.terms)
	now := c.clk.Now()
	over := leading > share || (others && leading > fewest+1)
	if !over || now.Sub(c.lastResign) < 2*c.tm.retryPeriod {
		c.mu.Unlock()
		return
	}
	var newest *term
	for _, t := range c.terms {
		if newest == nil || t.start.After(newest.start) || (t.start.Equal(newest.start) && t.connector > newest.connector) {
			newest = t
		}
	}
	c.lastResign = now
	if cd := c.joined[newest.connector]; cd != nil {
		cd.holdOffUntil = now.Add(c.tm.leaseDuration)
	}
	c.mu.Unlock()
	c.logger.Info("Leading more connectors than this replica's share; letting one go",
		zap.String("connector", newest.connector), zap.Int("leading", leading), zap.Int("share", share))
	ctx, cancel := c.clk.withTimeout(c.ctx, c.tm.retryPeriod)
	defer cancel()
	_ = newest.end(ctx, "balance: another replica takes it over", true)
}

// Join enrols connector in its election; Lead campaigns.
func (c *coordinator) Join(_ context.Context, connector string) (coordination.Candidate, error) {
	if connector == "" {
		return nil, errors.New("ccp_coordinator: empty connector name")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.joined[connector]; dup {
		return nil, fmt.Errorf("ccp_coordinator: connector %q joined twice on this replica", connector)
	}
	cand := &candidate{c: c, connector: connector}
	c.joined[connector] = cand
	return cand, nil
}

// leading is how many connectors this replica leads.
func (c *coordinator) leading() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.terms))
}
