package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Bounds of the gzip framing used by the packer. A deflate stream never grows data by more than
// 5 bytes per stored block (≤ 65,535 bytes); worstCase budgets 5 bytes per 4 KiB plus a margin.
const (
	gzipHeaderLen = 10
	closeReserve  = 32 // ']' + final block + 8-byte trailer, with margin
	auxSpan       = 30 * time.Minute
)

func worstCase(n int) int { return n + 5*(n/4096+1) + 16 }

type addResult int

const (
	added  addResult = iota
	full             // the request must be sent first; the record goes into the next one
	tooBig           // the record cannot be guaranteed to fit even in an empty request
)

// packer streams JSON rows into one gzip request body and closes it just before the wire limit.
//
// It never estimates: between two sync flushes it writes at most as many raw bytes as the worst case
// of deflate could still fit, then flushes to learn the exact compressed size. As the request fills
// up, the flushes get more frequent; the request is closed when the next row's worst case no longer
// fits, which leaves at most about one row's size unused.
type packer struct {
	limit, maxRaw int
	aux           bool

	buf     bytes.Buffer
	zw      gzipWriter
	exact   int // compressed bytes known after the last flush
	pending int // raw bytes written since the last flush
	raw     int // raw bytes including '[' and ','
	n       int // rows
	minT    int64
	maxT    int64
	flushes int
	one     [1]byte // separator scratch, avoids a per-row allocation through the interface call
}

// gzipWriter is satisfied by klauspost/compress/gzip (used) and compress/gzip (benchmarked).
type gzipWriter interface {
	io.Writer
	Flush() error
	Close() error
	Reset(io.Writer)
}

func newPacker(limit, maxRaw, level int, aux, stdlib bool) (*packer, error) {
	p := &packer{limit: limit, maxRaw: maxRaw, aux: aux}
	p.buf.Grow(limit + 4096)
	var err error
	if stdlib {
		p.zw, err = stdgzip.NewWriterLevel(&p.buf, level)
	} else {
		p.zw, err = gzip.NewWriterLevel(&p.buf, level)
	}
	if err != nil {
		return nil, err
	}
	p.reset()
	return p, nil
}

func (p *packer) reset() {
	p.buf.Reset()
	p.zw.Reset(&p.buf)
	p.exact = gzipHeaderLen
	p.pending, p.raw, p.n, p.flushes = 0, 0, 0, 0
}

func (p *packer) add(row []byte, t int64) (addResult, error) {
	need := len(row) + 1 // '[' or ','
	if p.raw+need+1 > p.maxRaw {
		if p.n == 0 {
			return tooBig, nil
		}
		return full, nil
	}
	if p.aux && p.n > 0 && time.Duration(max(t, p.maxT)-min(t, p.minT)) >= auxSpan {
		return full, nil
	}
	if p.exact+worstCase(p.pending+need)+closeReserve > p.limit {
		if p.pending > 0 {
			if err := p.zw.Flush(); err != nil {
				return 0, err
			}
			p.flushes++
			p.exact = p.buf.Len()
			p.pending = 0
		}
		if p.exact+worstCase(need)+closeReserve > p.limit {
			if p.n == 0 {
				return tooBig, nil
			}
			return full, nil
		}
	}
	sep := byte(',')
	if p.n == 0 {
		sep = '['
		p.minT, p.maxT = t, t
	} else {
		p.minT, p.maxT = min(p.minT, t), max(p.maxT, t)
	}
	p.one[0] = sep
	if _, err := p.zw.Write(p.one[:]); err != nil {
		return 0, err
	}
	if _, err := p.zw.Write(row); err != nil {
		return 0, err
	}
	p.pending += need
	p.raw += need
	p.n++
	return added, nil
}

var errOverLimit = errors.New("request body over the wire limit")

// finish closes the array and the gzip stream and returns the body (valid until reset).
func (p *packer) finish() ([]byte, error) {
	if p.n == 0 {
		if _, err := p.zw.Write([]byte{'['}); err != nil {
			return nil, err
		}
		p.raw++
	}
	if _, err := p.zw.Write([]byte{']'}); err != nil {
		return nil, err
	}
	p.raw++
	if err := p.zw.Close(); err != nil {
		return nil, err
	}
	if p.buf.Len() > p.limit {
		return nil, fmt.Errorf("%w: %d > %d bytes", errOverLimit, p.buf.Len(), p.limit)
	}
	return p.buf.Bytes(), nil
}

// packAlone compresses a single row that did not fit by the worst-case bound; it may still fit
// once compressed. It returns the body or nil when it does not fit.
func (p *packer) packAlone(row []byte) ([]byte, error) {
	p.reset()
	if len(row)+2 > p.maxRaw {
		return nil, nil
	}
	for _, b := range [][]byte{{'['}, row, {']'}} {
		if _, err := p.zw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := p.zw.Close(); err != nil {
		return nil, err
	}
	p.n, p.raw = 1, len(row)+2
	if p.buf.Len() > p.limit {
		return nil, nil
	}
	return p.buf.Bytes(), nil
}
