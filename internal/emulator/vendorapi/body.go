package vendorapi

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/tidwall/sjson"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

var gzPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

func appendKey(dst []byte, k string) []byte {
	dst = append(dst, jsonString(k)...)
	return append(dst, ':')
}

// writePage writes a 200 with pg's body and headers; withEvents false writes an empty events
// array (an injected status error) and counts nothing as served.
func (s *Server) writePage(w *recorder, pg *page, gz, withEvents bool) {
	bp := bufPool.Get().(*[]byte)
	b := s.appendBody((*bp)[:0], pg, withEvents)
	defer func() {
		if cap(b) <= 4<<20 {
			*bp = b[:0]
			bufPool.Put(bp)
		}
	}()
	if withEvents {
		w.events = len(pg.idx)
		s.markServed(pg.idx)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	for _, kv := range pg.headers {
		h.Set(kv[0], kv[1])
	}
	if gz {
		w.writeGzip(b)
	} else {
		w.writePlain(b)
	}
}

// appendBody appends the JSON body: the events array at EventsPath (or bare), then the extras.
func (s *Server) appendBody(b []byte, pg *page, withEvents bool) []byte {
	if s.evPath == nil {
		return s.appendEvents(b, pg, withEvents)
	}
	b = append(b, '{')
	for k, seg := range s.evPath {
		b = appendKey(b, seg)
		if k < len(s.evPath)-1 {
			b = append(b, '{')
		}
	}
	b = s.appendEvents(b, pg, withEvents)
	for range len(s.evPath) - 1 {
		b = append(b, '}')
	}
	if s.cfg.StatusField != "" && withEvents {
		pg.extras = append([]field{{s.cfg.StatusField, jsonString(s.cfg.StatusValue)}}, pg.extras...)
	}
	return appendExtras(b, pg.extras)
}

func (s *Server) appendEvents(b []byte, pg *page, withEvents bool) []byte {
	b = append(b, '[')
	if withEvents {
		for k, i := range pg.idx {
			if k > 0 {
				b = append(b, ',')
			}
			b = s.store.appendEvent(b, i)
		}
	}
	return append(b, ']')
}

// appendExtras closes the body object after its top-level extras, then sets the dotted ones.
func appendExtras(b []byte, extras []field) []byte {
	var nested []field
	for _, f := range extras {
		if strings.Contains(f.path, ".") {
			nested = append(nested, f)
			continue
		}
		b = append(b, ',')
		b = appendKey(b, f.path)
		b = append(b, f.raw...)
	}
	b = append(b, '}')
	for _, f := range nested {
		if nb, err := sjson.SetRawBytes(b, f.path, []byte(f.raw)); err == nil {
			b = nb
		}
	}
	return b
}

// writePlain writes b in two parts: in-flight accounting ends just before the last byte.
func (w *recorder) writePlain(b []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.ResponseWriter.Write(b[:len(b)-1])
	_, _ = w.Write(b[len(b)-1:])
}

// writeGzip compresses b; in-flight accounting ends before the gzip trailer is written.
func (w *recorder) writeGzip(b []byte) {
	h := w.Header()
	h.Set("Content-Encoding", "gzip")
	h.Del("Content-Length")
	w.WriteHeader(http.StatusOK)
	zw := gzPool.Get().(*gzip.Writer)
	zw.Reset(w.ResponseWriter)
	_, _ = zw.Write(b)
	w.final()
	_ = zw.Close()
	zw.Reset(io.Discard)
	gzPool.Put(zw)
}
