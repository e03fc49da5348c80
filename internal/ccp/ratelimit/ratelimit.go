// Package ratelimit spaces requests to a connector's API: rateLimitQPS and
// paginatedCallsPerSecond for pages, a step's rateLimitQPS shared by its nested child calls,
// and pauses that rate-limit headers ask for.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Limiter lets at most qps calls per second through. The zero qps never waits; a nil
// *Limiter is not valid.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

// New returns a limiter for qps calls per second (qps <= 0: unlimited).
func New(qps float64) *Limiter {
	l := &Limiter{}
	if qps > 0 {
		l.interval = time.Duration(float64(time.Second) / qps)
	}
	return l
}

// Wait blocks until the next call may go, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	return Sleep(ctx, time.Until(at))
}

// Delay makes the next call wait at least d from now (a spent budget, a reset header).
func (l *Limiter) Delay(d time.Duration) {
	if d <= 0 {
		return
	}
	l.mu.Lock()
	if t := time.Now().Add(d); t.After(l.next) {
		l.next = t
	}
	l.mu.Unlock()
}

// Sleep waits d or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
