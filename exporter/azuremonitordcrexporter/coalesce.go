package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"sync"
	"time"
)

// Packing across pushes. Concurrent pushes (the queue's consumers) add their rows to one open
// request per destination; each push returns only once all its rows have their outcome, so no
// record is reported as sent before the service stored it, and a persistent queue still holds
// every record a request may carry. An open request is sent when the next row does not fit
// (by the push holding that row), or by a waiting push when:
//   - group commit: no push is adding rows, no request of the destination is in flight (its
//     answer would release pushes whose producers bring more rows) and the linger passed;
//   - flush_timeout passed since its first row and no push is writing rows into it right now
//     (rows on their way are worth the wait: they fill the request at the rate the pushes
//     write, and sending early would only add requests to a busy collector);
//   - the waiting push's context ended.
//
// The linger adapts: a push arriving while every other push inside waits shows that waiting
// pays off (linger := max(linger, 2·gap)); a group commit that nobody joined shrinks it by a
// quarter. A producer that sends one push at a time thus pays lingerMin per push.
const (
	lingerMin = time.Millisecond
	lingerCap = 200 * time.Millisecond
	// chunkBytes is how many bytes of rows a push maps before placing them at once: rows of one
	// push stay together, so fewer pushes wait on each request.
	chunkBytes = 2 << 20
)

// coalescer holds the open request of every destination and who is inside the exporter.
type coalescer struct {
	mu        sync.Mutex
	lanes     map[route]*lane
	inside    int // pushes between enter and leave
	adding    int // pushes still adding rows
	idleSince time.Time
	linger    time.Duration
	lingerMax time.Duration
	timeout   time.Duration
	changed   chan struct{} // closed (and replaced) when a waiting push may have to act
}

// lane is one destination's open request and the number of its requests in flight.
type lane struct {
	open      *openReq
	inflight  int
	adders    int       // pushes mapping or writing rows for this destination
	idleSince time.Time // when inflight last became 0
}

// openReq is a request being filled: the packer and the rows written into it.
type openReq struct {
	p     *packer
	rows  []rowRef
	since time.Time
}

// flushReason says why a request was sent (the azure_monitor_dcr_flushes metric).
type flushReason string

const (
	flushFull      flushReason = "full"
	flushIdle      flushReason = "idle"
	flushTimeout   flushReason = "timeout"
	flushCancelled flushReason = "cancelled"
)

func newCoalescer(timeout time.Duration) *coalescer {
	timeout = max(timeout, time.Millisecond) // Validate refuses less; never a busy wait
	return &coalescer{
		lanes:     map[route]*lane{},
		linger:    min(lingerMin, timeout),
		lingerMax: min(lingerCap, timeout),
		timeout:   timeout,
		changed:   make(chan struct{}),
		idleSince: time.Now(),
	}
}

// broadcast wakes every waiting push; mu must be held.
func (c *coalescer) broadcast() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *coalescer) lane(r route) *lane {
	ln, ok := c.lanes[r]
	if !ok {
		ln = &lane{idleSince: time.Now()}
		c.lanes[r] = ln
	}
	return ln
}

// enter counts a push in; one arriving while all others wait teaches the linger.
func (c *coalescer) enter() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inside > 0 && c.adding == 0 {
		if gap := time.Since(c.idleSince); gap < c.lingerMax {
			c.linger = min(c.lingerMax, max(c.linger, 2*gap))
		}
	}
	c.inside++
	c.adding++
}

// doneAdding: the push placed all its rows; it now only waits.
func (c *coalescer) doneAdding() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.adding--
	if c.adding == 0 {
		c.idleSince = time.Now()
		c.broadcast()
	}
}

func (c *coalescer) leave() {
	c.mu.Lock()
	c.inside--
	c.mu.Unlock()
}

// startAdding and stopAdding bracket a push writing rows for r.
func (c *coalescer) startAdding(r route) {
	c.mu.Lock()
	c.lane(r).adders++
	c.mu.Unlock()
}

func (c *coalescer) stopAdding(r route) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lane(r).adders--
	c.broadcast() // a flush_timeout this push held back may be due now
}

// seal takes ln's open request out for sending; mu must be held.
func (c *coalescer) seal(ln *lane) *openReq {
	req := ln.open
	ln.open = nil
	ln.inflight++
	return req
}

// landed: a sealed request of r has its outcome.
func (c *coalescer) landed(r route) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ln := c.lane(r)
	ln.inflight--
	if ln.inflight == 0 {
		ln.idleSince = time.Now()
	}
	c.broadcast()
}

// due picks an open request of st's destinations that must be sent now, or says how long to
// wait before looking again; mu must be held.
func (c *coalescer) due(st *pushState, now time.Time, cancelled bool) (route, *openReq, flushReason, time.Duration) {
	wait := c.timeout
	for _, r := range st.routes {
		ln := c.lanes[r]
		if ln == nil || ln.open == nil || len(ln.open.rows) == 0 {
			continue
		}
		age := now.Sub(ln.open.since)
		switch {
		case cancelled:
			return r, c.seal(ln), flushCancelled, 0
		case age >= c.timeout && ln.adders == 0:
			return r, c.seal(ln), flushTimeout, 0
		}
		if age < c.timeout { // past it, stopAdding's broadcast wakes the push
			wait = min(wait, c.timeout-age)
		}
		if c.adding > 0 || ln.inflight > 0 {
			continue
		}
		quiet := now.Sub(ln.idleSince)
		if q := now.Sub(c.idleSince); q < quiet {
			quiet = q
		}
		if quiet >= c.linger {
			// Nobody joined during the linger: next time wait less.
			c.linger = max(min(lingerMin, c.timeout), c.linger*3/4)
			return r, c.seal(ln), flushIdle, 0
		}
		wait = min(wait, c.linger-quiet)
	}
	return route{}, nil, "", wait
}
