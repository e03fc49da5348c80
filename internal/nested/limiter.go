package nested

import (
	"context"
	"sync"
	"time"
)

// limiter spaces calls to at most qps per second; it is shared by every child call of a step.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newLimiter(qps float64) *limiter {
	l := &limiter{}
	if qps > 0 {
		l.interval = time.Duration(float64(time.Second) / qps)
	}
	return l
}

func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return nil
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
