package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.uber.org/zap"
)

// sendRecords delivers the records idxs of route r. Rows the service wants in smaller requests
// (413) or among which it refuses one (400) come back as halves and are sent in turn from a
// work list, first half first. It returns a retryable error when sending must stop (the caller
// re-queues what is not done), or a permanent one when the rows cannot be packed.
func (e *dcrExporter) sendRecords(ctx context.Context, st *pushState, r route, idxs []int) error {
	rows := make([]rowRef, len(idxs))
	for k, i := range idxs {
		rows[k] = rowRef{st, i}
	}
	work := [][]rowRef{rows}
	for len(work) > 0 {
		seg := work[len(work)-1]
		work = work[:len(work)-1]
		splits, err := e.sendSegment(ctx, r, seg)
		if err != nil {
			return err
		}
		for k := len(splits) - 1; k >= 0; k-- {
			work = append(work, splits[k])
		}
	}
	return nil
}

// segment packs rows of one route into requests and delivers each as it fills up.
type segment struct {
	e      *dcrExporter
	ctx    context.Context
	r      route
	p      *packer
	row    *[]byte
	now    int64
	batch  []rowRef   // the rows in p
	splits [][]rowRef // rows to send again in halves
}

func (e *dcrExporter) sendSegment(ctx context.Context, r route, rows []rowRef) ([][]rowRef, error) {
	p, err := e.getPacker()
	if err != nil {
		return nil, consumererror.NewPermanent(err)
	}
	defer e.putPacker(p)
	rowp := e.rows.Get().(*[]byte)
	defer e.rows.Put(rowp)
	s := &segment{e: e, ctx: ctx, r: r, p: p, row: rowp, now: time.Now().UnixNano(),
		batch: make([]rowRef, 0, min(len(rows), 8192))}
	for _, x := range rows {
		if x.st.done[x.i] {
			continue
		}
		if x.st.isDead(r) {
			settle([]rowRef{x})
			continue
		}
		if err := s.add(x); err != nil {
			return nil, err
		}
	}
	if p.n > 0 {
		if err := s.flush(); err != nil {
			return nil, err
		}
	}
	return s.splits, nil
}

// add maps the record to its row and packs it, sending the request first when it is full.
func (s *segment) add(x rowRef) error {
	ref := x.st.refs[x.i]
	m := &s.e.mapper
	tg := m.recordTime(ref.lr, s.now)
	row := m.appendRecord((*s.row)[:0], ref.res, ref.lr, tg)
	*s.row = row
	for {
		res, err := s.p.add(row, tg)
		if err != nil {
			return consumererror.NewPermanent(err)
		}
		switch res {
		case added:
			s.batch = append(s.batch, x)
			return nil
		case tooBig:
			return s.sendAlone(x, row)
		}
		// Full: send what is packed, then place the row in the emptied request.
		if err := s.flush(); err != nil {
			return err
		}
		if x.st.isDead(s.r) {
			settle([]rowRef{x})
			return nil
		}
	}
}

// flush closes the request, delivers it and empties the packer.
func (s *segment) flush() error {
	defer func() {
		s.batch = s.batch[:0]
		s.p.reset()
	}()
	body, err := s.p.finish()
	if errors.Is(err, errOverLimit) && len(s.batch) > 1 {
		// Cannot happen with the worst-case accounting; kept as a hard guard: never send over the limit.
		s.e.logger.Error("Internal packing error, splitting the request", zap.Error(err))
		s.splits = append(s.splits, halves(s.batch)...)
		return nil
	}
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	split, err := s.e.deliver(s.ctx, s.r, s.batch, body, s.p.raw)
	if split {
		s.splits = append(s.splits, halves(s.batch)...)
	}
	return err
}

// sendAlone sends a row that cannot be guaranteed to fit by the worst-case bound in a request
// of its own: compressed it may still fit; if not, it is dropped.
func (s *segment) sendAlone(x rowRef, row []byte) error {
	defer s.p.reset()
	body, err := s.p.packAlone(row)
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	if body == nil {
		s.e.rejectTooLarge(x, s.r, len(row))
		return nil
	}
	_, err = s.e.deliver(s.ctx, s.r, []rowRef{x}, body, s.p.raw) // a single row is never split
	return err
}

// halves copies rows into two halves (rows is reused by the caller).
func halves(rows []rowRef) [][]rowRef {
	h := len(rows) / 2
	return [][]rowRef{slices.Clone(rows[:h]), slices.Clone(rows[h:])}
}
