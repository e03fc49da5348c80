package ccpreceiver

import (
	"context"
	"sync"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/checkpoint"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
)

// handover hands the parts of a window's pages to the pipeline, up to max_in_flight at once,
// so that the exporter can pack several pages into one request while the engine fetches the
// next. The pipeline may accept parts in any order; positions are saved in the order the
// parts were handed over, and never past a part the pipeline has not accepted.
type handover struct {
	r       *ccpReceiver
	slots   chan struct{}
	wg      sync.WaitGroup
	pagePos string // position of the page being handed over ("" = the window's first page)
	skip    int    // records of the first page delivered before a restart

	mu      sync.Mutex
	pending []*ticket // handed over, position not saved yet, in hand-over order
	failed  error     // the first part the pipeline refused: the window stops
}

type ticket struct {
	pos  checkpoint.Position
	done bool
	err  error
}

func (r *ccpReceiver) newHandover(at checkpoint.Position) *handover {
	return &handover{r: r, slots: make(chan struct{}, r.maxInFlight()), pagePos: at.Resume, skip: at.Skip}
}

// maxInFlight is the configured depth; dedup keeps one part at a time (its keys are committed
// or abandoned per part, in order).
func (r *ccpReceiver) maxInFlight() int {
	if r.cfg.Dedup != nil || r.cfg.MaxInFlight < 1 {
		return 1
	}
	return r.cfg.MaxInFlight
}

// deliver is the engine's page callback: it splits the page into parts (consume_batch_size)
// and hands them over. It returns the pipeline's refusal of an earlier part, which stops the
// window so that it is retried from the last saved position.
func (h *handover) deliver(ctx context.Context, page poller.Page) error {
	events := page.Events
	delivered := 0
	if h.skip > 0 {
		delivered = min(h.skip, len(events))
		events, h.skip = events[delivered:], 0
	}
	size := h.r.cfg.ConsumeBatchSize
	if size <= 0 || size > len(events) {
		size = len(events)
	}
	for off := 0; off < len(events); off += size {
		part := events[off:min(off+size, len(events))]
		delivered += len(part)
		pos := checkpoint.Position{Resume: h.pagePos, Skip: delivered}
		if delivered == len(page.Events) {
			pos = checkpoint.Position{Resume: page.Resume, Cursor: page.Cursor}
		}
		if err := h.send(ctx, part, pos, page.Number); err != nil {
			return err
		}
	}
	if len(events) == 0 { // nothing (left) to send: the page's position still counts
		if err := h.send(ctx, nil, checkpoint.Position{Resume: page.Resume, Cursor: page.Cursor}, page.Number); err != nil {
			return err
		}
	}
	h.r.tb.CcpPages.Add(ctx, 1, h.r.metricAttrs)
	h.r.conn.Page()
	h.pagePos = page.Resume
	return nil
}

// send waits for a free slot and hands one part to the pipeline in the background.
func (h *handover) send(ctx context.Context, events []string, pos checkpoint.Position, page int) error {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := h.err(); err != nil {
		<-h.slots
		return err
	}
	t := &ticket{pos: pos}
	h.mu.Lock()
	h.pending = append(h.pending, t)
	h.mu.Unlock()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		var err error
		if len(events) > 0 {
			err = h.r.consume(ctx, events, page)
		}
		h.finish(ctx, t, err)
		<-h.slots
	}()
	return nil
}

// finish records a part's outcome and saves every position now accepted in order.
func (h *handover) finish(ctx context.Context, t *ticket, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t.done, t.err = true, err
	for len(h.pending) > 0 && h.pending[0].done && h.failed == nil {
		head := h.pending[0]
		h.pending = h.pending[1:]
		if head.err == nil {
			head.err = h.r.tracker.Delivered(ctx, head.pos)
		}
		h.failed = head.err
	}
}

func (h *handover) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed
}

// wait waits for every part in flight and returns the first failure.
func (h *handover) wait() error {
	h.wg.Wait()
	return h.err()
}
