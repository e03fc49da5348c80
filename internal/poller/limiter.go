package poller

import (
	"context"
	"sync"
	"time"
)

// limiter spaces requests to at most qps per second (rateLimitQPS, paginatedCallsPerSecond)
// and can be pushed back by rate-limit headers. A nil limiter never waits.
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
	if d := time.Until(at); d > 0 {
		return sleep(ctx, d)
	}
	return nil
}

// delay makes the next request wait at least d from now.
func (l *limiter) delay(d time.Duration) {
	if d <= 0 {
		return
	}
	l.mu.Lock()
	if t := time.Now().Add(d); t.After(l.next) {
		l.next = t
	}
	l.mu.Unlock()
}
