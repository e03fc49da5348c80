package ccpcoordinatorextension

import (
	"context"
	"time"
)

// clock is the time the elections run on. Production runs at real speed; the Kubernetes
// conformance run speeds it up, since that backend decides expiry from this clock alone.
type clock struct {
	scale    float64 // clock seconds per real second
	realBase time.Time
	base     time.Time
}

func realClock() *clock { return &clock{scale: 1} }

// fastClock runs scale times faster than real time (tests).
func fastClock(scale float64) *clock {
	now := time.Now()
	return &clock{scale: scale, realBase: now, base: now}
}

func (c *clock) Now() time.Time {
	if c.scale == 1 {
		return time.Now()
	}
	return c.base.Add(time.Duration(float64(time.Since(c.realBase)) * c.scale))
}

func (c *clock) real(d time.Duration) time.Duration {
	if c.scale == 1 {
		return d
	}
	return time.Duration(float64(d) / c.scale)
}

// sleep waits d of clock time; false when ctx ended first.
func (c *clock) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(c.real(d))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (c *clock) withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.real(d))
}
