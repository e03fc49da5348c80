package connstate

import (
	"sync"
	"time"
)

// Connector is one registered connector. Its methods are safe for concurrent use: the polling
// goroutine reports windows, the watchdog reports stalls, readers take snapshots.
type Connector struct {
	reg *Registry
	id  Identity

	// pub is held from a status transition to its publication, so subscribers see the
	// transitions of one connector in the order they happened (the poll loop and the watchdog
	// both change the status).
	pub sync.Mutex

	mu        sync.Mutex
	status    string
	reason    string
	standby   bool
	stalled   bool
	disabled  bool
	failures  int // consecutive failed attempts
	lastErr   string
	lastErrAt time.Time
	lastData  time.Time
	lastDone  *Window // the last successfully completed window
	cur       *Window // the attempt in progress
	history   []Window
	traces    []Trace
	hourly    map[int64]int64 // unix hour → records received
}

// Identity returns what the connector was registered with.
func (c *Connector) Identity() Identity { return c.id }

// Begin starts an attempt at the window [start, end).
func (c *Connector) Begin(start, end time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = &Window{Start: start, End: end, Began: time.Now()}
}

// Page counts a page of the current attempt.
func (c *Connector) Page() { c.with(func(w *Window) { w.Pages++ }) }

// Request counts an HTTP request of the current attempt; retry marks a retried one.
func (c *Connector) Request(retry bool) {
	c.with(func(w *Window) {
		if retry {
			w.Retries++
		} else {
			w.Requests++
		}
	})
}

// Skipped notes data skipped on purpose in the current attempt (reason: max_pages_per_window…).
func (c *Connector) Skipped(reason string) {
	c.with(func(w *Window) { w.Skipped = append(w.Skipped, reason) })
}

// Dropped notes records the pipeline refused for good in the current attempt.
func (c *Connector) Dropped(why string) {
	c.with(func(w *Window) { w.Dropped = append(w.Dropped, why) })
}

func (c *Connector) with(f func(w *Window)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		f(c.cur)
	}
}

// Received counts n records the pipeline accepted at t.
func (c *Connector) Received(n int, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		c.cur.Records += n
	}
	if n <= 0 {
		return
	}
	c.lastData = t
	c.hourly[t.Unix()/3600] += int64(n)
	if len(c.hourly) > CountDays*24+1 {
		c.pruneHourly(t)
	}
}

func (c *Connector) pruneHourly(now time.Time) {
	oldest := now.Unix()/3600 - CountDays*24
	for h := range c.hourly {
		if h < oldest {
			delete(c.hourly, h)
		}
	}
}

// Traced keeps one request of the connector (already masked by the engine).
func (c *Connector) Traced(t Trace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.traces = append(c.traces, t)
	if len(c.traces) > TraceSize {
		c.traces = c.traces[len(c.traces)-TraceSize:]
	}
}

// Succeeded ends the current attempt as a completed window.
func (c *Connector) Succeeded() { c.finish("success", "", 0) }

// Failed ends the current attempt as failed; errMsg must already be redacted.
func (c *Connector) Failed(errMsg string, statusCode int) { c.finish("failure", errMsg, statusCode) }

func (c *Connector) finish(outcome, errMsg string, statusCode int) {
	c.pub.Lock()
	defer c.pub.Unlock()
	c.mu.Lock()
	w := c.cur
	if w == nil {
		w = &Window{Began: time.Now()}
	}
	c.cur = nil
	w.Finished, w.Outcome, w.Error, w.StatusCode = time.Now(), outcome, errMsg, statusCode
	c.history = append(c.history, *w)
	if len(c.history) > HistorySize {
		c.history = c.history[len(c.history)-HistorySize:]
	}
	if outcome == "success" {
		c.failures, c.stalled = 0, false
		done := *w
		c.lastDone = &done
	} else {
		c.failures++
		c.lastErr, c.lastErrAt = errMsg, w.Finished
	}
	ch := c.transitionLocked(errMsg)
	ev := Event{Connector: c.id, Window: w}
	c.mu.Unlock()
	c.reg.publish(ev)
	c.publishChange(ch)
}

// SetStalled is the watchdog's verdict; reason says for how long nothing completed.
func (c *Connector) SetStalled(stalled bool, reason string) {
	c.change(reason, func() { c.stalled = stalled })
}

// SetStandby marks a high-availability follower (true) or the leader (false).
func (c *Connector) SetStandby(standby bool) {
	c.change("", func() { c.standby = standby })
}

// SetDisabled marks a connector that does not poll (isActive: false).
func (c *Connector) SetDisabled(reason string) {
	c.change(reason, func() { c.disabled = true })
}

// change applies set under the lock and publishes the resulting transition, in order.
func (c *Connector) change(reason string, set func()) {
	c.pub.Lock()
	defer c.pub.Unlock()
	c.mu.Lock()
	set()
	ch := c.transitionLocked(reason)
	c.mu.Unlock()
	c.publishChange(ch)
}

// transitionLocked recomputes the status; it returns the change, if any.
func (c *Connector) transitionLocked(reason string) *Change {
	next := StatusConnected
	last := c.lastWindowLocked()
	switch {
	case c.disabled:
		next = StatusDisabled
	case c.standby:
		next = StatusStandby
	case c.failures >= FailedAfter:
		next = StatusFailed // a refusing API is the cause: more precise than Stalled
	case c.stalled:
		next = StatusStalled
	case c.failures > 0 || (last != nil && len(last.Skipped)+len(last.Dropped) > 0):
		next = StatusDegraded
	}
	if next == c.status {
		return nil
	}
	ch := &Change{Time: time.Now(), From: c.status, To: next, Reason: reason}
	c.status, c.reason = next, reason
	return ch
}

func (c *Connector) lastWindowLocked() *Window {
	if len(c.history) == 0 {
		return nil
	}
	return &c.history[len(c.history)-1]
}

func (c *Connector) publishChange(ch *Change) {
	if ch != nil {
		c.reg.publish(Event{Connector: c.id, Change: ch})
	}
}

// LastProgress is when the last window completed (or the connector started): what the stall
// watchdog measures from.
func (c *Connector) LastProgress() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastDone != nil && c.lastDone.Finished.After(c.id.Started) {
		return c.lastDone.Finished
	}
	return c.id.Started // a window imported from before a restart does not count
}
