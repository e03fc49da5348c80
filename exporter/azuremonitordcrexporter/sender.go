package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// sendSealed closes a request taken out of its lane, sends it and gives every row in it its
// outcome; rows the service wants in smaller requests (413) or among which it refuses one (400)
// are sent again in halves. The request carries rows of other pushes, so it is sent even if the
// context of the push sending it ends (the HTTP client's timeout bounds it).
func (e *dcrExporter) sendSealed(ctx context.Context, r route, req *openReq, why flushReason) {
	defer func() {
		e.co.landed(r)
		clear(req.rows) // let the pushes' records go
		e.reqs.Put(req)
	}()
	ctx = context.WithoutCancel(ctx)
	e.tb.AzureMonitorDcrFlushes.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", string(why)))))
	body, err := req.p.finish()
	var splits [][]rowRef
	switch {
	case errors.Is(err, errOverLimit) && len(req.rows) > 1:
		// Cannot happen with the worst-case accounting; kept as a hard guard: never send over the limit.
		e.logger.Error("Internal packing error, splitting the request", zap.Error(err))
		splits = halves(req.rows)
	case err != nil:
		e.co.kill(r, req.rows, consumererror.NewPermanent(err))
		return
	default:
		split, err := e.deliver(ctx, r, req.rows, body, req.p.raw)
		if err != nil {
			e.co.giveBack(r, req.rows, err)
			return
		}
		if split {
			splits = halves(req.rows)
		}
	}
	if err := e.sendHalves(ctx, r, splits); err != nil {
		e.co.giveBack(r, req.rows, err)
	}
}

// sendHalves sends rows again from a work list, first half first, each segment packed in
// requests of its own; a refused segment comes back as two halves. It returns the first
// retryable error (the caller fails the rows without an outcome).
func (e *dcrExporter) sendHalves(ctx context.Context, r route, work [][]rowRef) error {
	slices.Reverse(work)
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

// segment packs rows of one route into requests of its own and delivers each as it fills up.
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
		batch: make([]rowRef, 0, len(rows))}
	for _, x := range rows {
		if e.co.skip(x, r) {
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
			defer s.p.reset()
			return s.e.sendAlone(s.ctx, s.r, s.p, x, row)
		}
		// Full: send what is packed, then place the row in the emptied request.
		if err := s.flush(); err != nil {
			return err
		}
		if s.e.co.skip(x, s.r) {
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
// of its own, packed by the empty packer p: compressed it may still fit; if not, it is dropped.
func (e *dcrExporter) sendAlone(ctx context.Context, r route, p *packer, x rowRef, row []byte) error {
	body, err := p.packAlone(row)
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	if body == nil {
		e.rejectTooLarge(x, r, len(row))
		return nil
	}
	_, err = e.deliver(ctx, r, []rowRef{x}, body, p.raw) // a single row is never split
	return err
}

// sendAloneRow is sendAlone for a push placing its rows: x waits for its outcome already.
func (e *dcrExporter) sendAloneRow(ctx context.Context, r route, x rowRef, row []byte) {
	p, err := e.getPacker()
	if err == nil {
		defer e.putPacker(p)
		err = e.sendAlone(ctx, r, p, x, row)
	}
	if err != nil {
		e.co.giveBack(r, []rowRef{x}, err)
	}
}

// halves copies rows into two halves (rows may be reused by the caller).
func halves(rows []rowRef) [][]rowRef {
	h := len(rows) / 2
	return [][]rowRef{slices.Clone(rows[:h]), slices.Clone(rows[h:])}
}
