package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
)

// pushState follows the records of one push until each has its outcome. Its rows travel in
// requests shared with other pushes, so its fields are guarded by the coalescer's mutex.
type pushState struct {
	refs     []recRef
	routes   []route
	done     []bool // accepted by the service or dropped for good
	pend     []bool // in a request whose outcome is not known yet
	nDone    int
	pending  int
	dead     map[route]error
	permErrs []error
	failed   map[route]bool // a request holding rows of this push failed: stop adding to it
	retryErr error
}

// rowRef is one record of one push, as it travels in requests.
type rowRef struct {
	st *pushState
	i  int
}

func (st *pushState) kill(r route, err error) {
	if st.dead == nil {
		st.dead = map[route]error{}
	}
	if _, ok := st.dead[r]; !ok {
		st.dead[r] = err
		st.permErrs = append(st.permErrs, err)
	}
}

func (st *pushState) isDead(r route) bool {
	_, dead := st.dead[r]
	return dead
}

// settleLocked gives record i its final outcome (accepted, or dropped for good); mu must be held.
func (st *pushState) settleLocked(i int) {
	if st.pend[i] {
		st.pend[i] = false
		st.pending--
	}
	if !st.done[i] {
		st.done[i] = true
		st.nDone++
	}
}

// settle gives rows their final outcome: accepted, or dropped for good.
func (c *coalescer) settle(rows []rowRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range rows {
		x.st.settleLocked(x.i)
	}
	c.broadcast()
}

// fail returns the rows of rows still waiting for an outcome to their pushes' retry with err.
func (c *coalescer) fail(r route, rows []rowRef, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range rows {
		st := x.st
		if !st.pend[x.i] {
			continue
		}
		st.pend[x.i] = false
		st.pending--
		if st.retryErr == nil {
			st.retryErr = err
		}
		if st.failed == nil {
			st.failed = map[route]bool{}
		}
		st.failed[r] = true
	}
	c.broadcast()
}

// kill gives up destination r for the pushes of the rows still waiting (the request cannot be
// built) and drops those rows.
func (c *coalescer) kill(r route, rows []rowRef, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range rows {
		if x.st.pend[x.i] {
			x.st.kill(r, err)
			x.st.settleLocked(x.i)
		}
	}
	c.broadcast()
}

// giveBack ends the wait of the rows without an outcome after err: a permanent error gives
// up r for their pushes, any other goes back to their retry.
func (c *coalescer) giveBack(r route, rows []rowRef, err error) {
	if consumererror.IsPermanent(err) {
		c.kill(r, rows, err)
		return
	}
	c.fail(r, rows, err)
}

// skip says whether x needs no sending: it has its outcome, or its destination was given up
// for its push (then it is dropped).
func (c *coalescer) skip(x rowRef, r route) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !x.st.pend[x.i]:
		return true
	case x.st.isDead(r):
		x.st.settleLocked(x.i)
		return true
	}
	return false
}

func (e *dcrExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	n := ld.LogRecordCount()
	if n == 0 {
		return nil
	}
	rt := e.routeRecords(ld)
	st := &pushState{refs: rt.refs, routes: rt.order, done: make([]bool, n), pend: make([]bool, n)}
	e.co.enter()
	// Every destination gets its chance: one refusing (a DCR being redeployed) does not hold
	// back the others; only the records not done go back to the retry.
	for _, r := range rt.order {
		if ctx.Err() != nil {
			break
		}
		if err := e.addRoute(ctx, st, r, rt.byRoute[r]); err != nil {
			// Only this destination's records are lost (an internal packing error);
			// another destination's records waiting for a retry stay queued.
			e.co.killUnplaced(st, r, rt.byRoute[r], err)
		}
	}
	e.co.doneAdding()
	e.waitRows(ctx, st)
	e.co.leave()
	return st.result(ctx, ld)
}

// killUnplaced drops the records idxs of r that are in no request, after a packing error.
func (c *coalescer) killUnplaced(st *pushState, r route, idxs []int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st.kill(r, err)
	for _, i := range idxs {
		if !st.pend[i] {
			st.settleLocked(i)
		}
	}
}

// waitRows returns once every row of st has its outcome, sending open requests that are due.
func (e *dcrExporter) waitRows(ctx context.Context, st *pushState) {
	c := e.co
	cancelled := ctx.Done()
	for {
		c.mu.Lock()
		if st.pending == 0 {
			c.mu.Unlock()
			return
		}
		r, req, why, wait := c.due(st, time.Now(), ctx.Err() != nil)
		changed := c.changed
		c.mu.Unlock()
		if req != nil {
			e.sendSealed(ctx, r, req, why)
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-changed:
		case <-t.C:
		case <-cancelled:
			cancelled = nil // from now on due() sends this push's open requests at once
		}
		t.Stop()
	}
}

// result is the push's answer to exporterhelper: the records not done with a retryable error,
// else the permanent errors, if any.
func (st *pushState) result(ctx context.Context, ld plog.Logs) error {
	if st.nDone < len(st.refs) {
		err := st.retryErr
		if err == nil {
			err = ctx.Err() // stopped adding before any request failed
		}
		if err == nil {
			err = errors.New("records were not sent")
		}
		return consumererror.NewLogs(err, remaining(ld, st.done))
	}
	if len(st.permErrs) > 0 {
		return consumererror.NewPermanent(errors.Join(st.permErrs...))
	}
	return nil
}

// remaining copies the records not marked done, keeping their resource and scope.
func remaining(ld plog.Logs, done []bool) plog.Logs {
	out := plog.NewLogs()
	i := 0
	rls := ld.ResourceLogs()
	for a := 0; a < rls.Len(); a++ {
		rl := rls.At(a)
		var orl plog.ResourceLogs
		haveRL := false
		sls := rl.ScopeLogs()
		for b := 0; b < sls.Len(); b++ {
			sl := sls.At(b)
			var osl plog.ScopeLogs
			haveSL := false
			lrs := sl.LogRecords()
			for c := 0; c < lrs.Len(); c++ {
				if !done[i] {
					if !haveRL {
						orl = out.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(orl.Resource())
						orl.SetSchemaUrl(rl.SchemaUrl())
						haveRL = true
					}
					if !haveSL {
						osl = orl.ScopeLogs().AppendEmpty()
						sl.Scope().CopyTo(osl.Scope())
						osl.SetSchemaUrl(sl.SchemaUrl())
						haveSL = true
					}
					lrs.At(c).CopyTo(osl.LogRecords().AppendEmpty())
				}
				i++
			}
		}
	}
	return out
}
