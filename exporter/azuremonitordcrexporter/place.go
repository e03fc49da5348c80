package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
)

// chunk is rows of one push mapped outside the lock, placed in the open request together.
type chunk struct {
	buf  []byte
	ends []int // ends[k] is the end of row k in buf
	tgs  []int64
	idxs []int
}

func (ch *chunk) reset() {
	ch.buf, ch.ends, ch.tgs, ch.idxs = ch.buf[:0], ch.ends[:0], ch.tgs[:0], ch.idxs[:0]
}

func (ch *chunk) row(k int) []byte {
	start := 0
	if k > 0 {
		start = ch.ends[k-1]
	}
	return ch.buf[start:ch.ends[k]]
}

// addRoute maps the records idxs of route r to rows, a chunk at a time, and places them in
// the route's open request. It returns a permanent error when the rows cannot be packed.
func (e *dcrExporter) addRoute(ctx context.Context, st *pushState, r route, idxs []int) error {
	ch := e.chunks.Get().(*chunk)
	defer e.chunks.Put(ch)
	e.co.startAdding(r)
	defer e.co.stopAdding(r)
	now := time.Now().UnixNano()
	for next := 0; next < len(idxs); {
		if ctx.Err() != nil {
			return nil // the rest goes back to the retry
		}
		ch.reset()
		for ; next < len(idxs) && len(ch.buf) < chunkBytes; next++ {
			ref := st.refs[idxs[next]]
			tg := e.mapper.recordTime(ref.lr, now)
			ch.buf = e.mapper.appendRecord(ch.buf, ref.res, ref.lr, tg)
			ch.ends = append(ch.ends, len(ch.buf))
			ch.tgs = append(ch.tgs, tg)
			ch.idxs = append(ch.idxs, idxs[next])
		}
		if stop, err := e.placeChunk(ctx, st, r, ch); stop || err != nil {
			return err
		}
	}
	return nil
}

// placeChunk writes the chunk's rows into r's open request. When a row does not fit, it seals
// the request and sends it (with the rows other pushes put in it), then goes on with a new one.
// It stops when a request holding rows of this push for r failed: the rest is retried with the
// push, as the requests are sent again only after the retry's back-off.
func (e *dcrExporter) placeChunk(ctx context.Context, st *pushState, r route, ch *chunk) (bool, error) {
	c := e.co
	c.mu.Lock()
	ln := c.lane(r)
	for k := 0; k < len(ch.idxs); {
		x := rowRef{st, ch.idxs[k]}
		if st.failed[r] {
			c.mu.Unlock()
			return true, nil
		}
		if st.isDead(r) {
			st.settleLocked(x.i)
			k++
			continue
		}
		res, err := e.addToLane(ln, x, ch.row(k), ch.tgs[k])
		switch {
		case err != nil:
			// The gzip stream is broken: the rows in it cannot be sent (never seen in practice).
			err = consumererror.NewPermanent(err)
			var rows []rowRef
			if ln.open != nil {
				rows = c.seal(ln).rows
				defer c.landed(r)
			}
			c.mu.Unlock()
			c.kill(r, rows, err)
			return true, err
		case res == added:
			k++
			continue
		case res == tooBig:
			x.st.pend[x.i], x.st.pending = true, x.st.pending+1
			c.mu.Unlock()
			e.sendAloneRow(ctx, r, x, ch.row(k))
			k++
		default: // full: send it, then place the row in a new request
			req := c.seal(ln)
			c.mu.Unlock()
			e.sendSealed(ctx, r, req, flushFull)
		}
		c.mu.Lock()
	}
	c.mu.Unlock()
	return false, nil
}

// addToLane writes one row into ln's open request, opening one if needed; mu must be held.
func (e *dcrExporter) addToLane(ln *lane, x rowRef, row []byte, tg int64) (addResult, error) {
	if ln.open == nil {
		req, err := e.getReq()
		if err != nil {
			return 0, err
		}
		ln.open = req
	}
	res, err := ln.open.p.add(row, tg)
	if err == nil && res == added {
		if len(ln.open.rows) == 0 {
			ln.open.since = time.Now() // flush_timeout counts from the first row
		}
		ln.open.rows = append(ln.open.rows, x)
		x.st.pend[x.i] = true
		x.st.pending++
	}
	return res, err
}

// getReq returns an empty request, reusing the packer and row list of a finished one.
func (e *dcrExporter) getReq() (*openReq, error) {
	if req, ok := e.reqs.Get().(*openReq); ok {
		req.p.reset()
		req.rows = req.rows[:0]
		return req, nil
	}
	p, err := e.getPacker()
	if err != nil {
		return nil, err
	}
	return &openReq{p: p}, nil
}
