// Package decode turns an HTTP response body into one JSON document for
// event extraction.
//
// It exists to keep every untrusted-input hazard of a CCP response in one
// place (spec §5.1/§5.2 steps 2–4): Content-Encoding and the poller's own
// compression flags (isGzipCompressed, compressionAlgo gzip|multi-gzip|
// deflate), the response formats json, undocumented jsonlines and csv
// (csvDelimiter, hasCsvHeader, csvEscape), and hard caps on raw and
// decompressed size and on nesting depth so that a gzip bomb, an endless
// body or a deeply nested document yields an error instead of unbounded
// memory or stack use.
package decode

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/otelcol-ccp/otelcol-ccp/internal/pdatajson/jsonscan"
)

// Defaults applied when the corresponding Options field is zero.
const (
	DefaultMaxBytes = 64 << 20
	// DefaultMaxDepth keeps documents below internal/jsonpath's recursive
	// descent bound (1000) with room to spare. Json.NET's own default is 64.
	DefaultMaxDepth = 512
)

var (
	// ErrBodyTooLarge is returned (wrapped, naming the limit and whether it
	// was hit before or after decompression) when a body exceeds MaxBytes.
	ErrBodyTooLarge = errors.New("decode: response body too large")
	// ErrInvalid is wrapped by every parse/validation error.
	ErrInvalid = errors.New("decode: invalid response body")
	// ErrTooDeep is returned (wrapped) when JSON nesting exceeds MaxDepth.
	ErrTooDeep = errors.New("decode: JSON nested too deeply")
	// ErrUnsupported is returned for formats, compression algorithms and
	// content encodings this package does not implement (xml, parquet, br...).
	ErrUnsupported = errors.New("decode: unsupported")
)

// Options describes how to decode one response. String fields are
// case-insensitive.
type Options struct {
	// Format is json, jsonlines or csv; "" means json.
	Format string
	// GzipCompressed is the poller's isGzipCompressed flag.
	GzipCompressed bool
	// CompressionAlgo is gzip, multi-gzip or deflate ("" = none).
	CompressionAlgo string
	// ContentEncoding is the response's Content-Encoding header value
	// (gzip, x-gzip, deflate, identity, or a comma-separated list).
	ContentEncoding string
	// CSVDelimiter is one character; "" means ","; `\t` and "tab" mean TAB.
	CSVDelimiter string
	// HasCSVHeader defaults to true when nil.
	HasCSVHeader *bool
	// CSVEscape is the one-character quote/escape character; "" means '"'.
	// Inside a quoted field it is escaped by doubling (RFC 4180).
	CSVEscape string
	// MaxBytes caps the raw body and, separately, the decompressed body.
	// <= 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxDepth caps JSON nesting; <= 0 means DefaultMaxDepth.
	MaxDepth int
	// SizeHint is the expected body size (Content-Length; 0 = unknown). The read buffer
	// starts at min(SizeHint, MaxBytes, 16 MiB), so a large body is read without the repeated
	// growing and copying that would otherwise cost about twice its size; the 16 MiB bound
	// keeps a server that announces a body it never sends from costing more than that.
	SizeHint int64
}

// Decode reads r and returns a strict JSON document:
//   - json: the body itself after validation (a leading UTF-8 BOM is removed);
//   - jsonlines: a JSON array of the non-blank lines' values;
//   - csv: a JSON array of objects keyed by the header row (or column1..N),
//     all values strings.
//
// An empty (or whitespace-only) body returns (nil, nil): no document, zero
// events. gzip is recognised by its magic bytes whether or not a flag or
// header says so; a body flagged as gzip that does not start with the magic
// is taken as already decompressed (e.g. by the HTTP transport). The result
// is a fresh slice that nothing else refers to.
func Decode(r io.Reader, o Options) ([]byte, error) {
	limit := o.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	depth := o.MaxDepth
	if depth <= 0 {
		depth = DefaultMaxDepth
	}
	format := strings.ToLower(strings.TrimSpace(o.Format))
	switch format {
	case "", "json", "jsonlines", "csv", "xml":
	default:
		return nil, fmt.Errorf("%w: response format %q", ErrUnsupported, o.Format)
	}
	data, err := readBody(r, o, limit)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	switch format {
	case "jsonlines":
		return jsonLines(data, depth)
	case "csv":
		return csvToJSON(data, o)
	case "xml":
		return xmlToJSON(data, depth)
	default:
		if err := validJSON(view(data), depth); err != nil {
			return nil, err
		}
		return data, nil
	}
}

// DecodeString is Decode returning the document as a string, without copying it: the bytes
// Decode returns are fresh and never written again, so the string may alias them. Substrings
// (the events) alias the document in turn.
func DecodeString(r io.Reader, o Options) (string, error) {
	data, err := Decode(r, o)
	return view(data), err
}

// view is b as a string without a copy; b must never be written afterwards.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// readBody decompresses and reads the whole body, each stage capped at limit.
func readBody(r io.Reader, o Options, limit int64) ([]byte, error) {
	body, err := decompress(&capReader{r: r, limit: limit, stage: "raw"}, o)
	if err != nil {
		return nil, err
	}
	data, err := readAll(&capReader{r: body, limit: limit, stage: "decompressed"}, min(o.SizeHint, limit, maxPresize))
	if err != nil && !errors.Is(err, ErrBodyTooLarge) {
		err = fmt.Errorf("%w: reading body: %w", ErrInvalid, err)
	}
	return data, err
}

// maxPresize bounds the buffer a SizeHint allocates before any byte arrived, and the read
// buffers kept for reuse.
const maxPresize = 16 << 20

// scratch holds read buffers for bodies of unknown size: they are read into a reused buffer
// and copied once into an exactly sized slice, instead of growing a new one by doubling (about
// twice the body in garbage, and up to twice the body kept alive by the events aliasing it).
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// readAll reads r to its end: into a buffer presized to hint bytes when hint > 0, else into a
// reused buffer copied out at its final size. The result never has more than twice its
// length in capacity.
func readAll(r io.Reader, hint int64) ([]byte, error) {
	if hint > 0 {
		b, err := readInto(r, make([]byte, 0, hint+bytes.MinRead))
		if len(b) < cap(b)/2 {
			// A hint far above the body (a guess from the previous page): keep a small copy
			// rather than a mostly empty buffer the events would keep alive.
			b = bytes.Clone(b)
		}
		return b, err
	}
	bp := scratch.Get().(*[]byte)
	b, err := readInto(r, (*bp)[:0])
	out := bytes.Clone(b)
	if cap(b) <= maxPresize {
		*bp = b[:0]
		scratch.Put(bp)
	}
	return out, err
}

// readInto appends r's bytes to b, growing it as append does.
func readInto(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// capReader fails with ErrBodyTooLarge once more than limit bytes are read.
type capReader struct {
	r     io.Reader
	limit int64
	n     int64
	stage string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, c.err()
	}
	if rem := c.limit + 1 - c.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return 0, c.err()
	}
	return n, err
}

func (c *capReader) err() error {
	return fmt.Errorf("%w: %s body exceeds the limit of %d bytes", ErrBodyTooLarge, c.stage, c.limit)
}

// decompress applies Content-Encoding (in reverse order of application),
// then the poller's compression flags, then gzip magic-byte detection.
func decompress(r io.Reader, o Options) (io.Reader, error) {
	var err error
	applied := map[string]bool{}
	encs := strings.Split(strings.ToLower(o.ContentEncoding), ",")
	for i := len(encs) - 1; i >= 0; i-- {
		switch e := strings.TrimSpace(encs[i]); e {
		case "", "identity":
		case "gzip", "x-gzip":
			br := bufio.NewReader(r)
			if !hasGzipMagic(br) {
				// Already decoded by the transport despite the header.
				r = br
				continue
			}
			if r, err = gunzip(br); err != nil {
				return nil, err
			}
			applied["gzip"] = true
		case "deflate":
			if r, err = inflate(r); err != nil {
				return nil, err
			}
			applied["deflate"] = true
		default:
			return nil, fmt.Errorf("%w: Content-Encoding %q", ErrUnsupported, e)
		}
	}
	algo := strings.ToLower(strings.TrimSpace(o.CompressionAlgo))
	switch algo {
	case "", "gzip", "multi-gzip", "none":
	case "deflate":
		if !applied["deflate"] {
			if r, err = inflate(r); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%w: compressionAlgo %q", ErrUnsupported, o.CompressionAlgo)
	}
	// gzip / multi-gzip / isGzipCompressed, and unflagged gzip: detected by
	// magic bytes. Concatenated members are always read (multi-gzip).
	br := bufio.NewReader(r)
	if hasGzipMagic(br) {
		return gunzip(br)
	}
	return br, nil
}

func hasGzipMagic(br *bufio.Reader) bool {
	b, _ := br.Peek(2)
	return len(b) == 2 && b[0] == 0x1f && b[1] == 0x8b
}

// inflate handles both HTTP "deflate" spellings: zlib-wrapped (RFC 1950,
// what the RFC means) and raw DEFLATE (RFC 1951, what some servers send).
func inflate(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	b, _ := br.Peek(2)
	if len(b) == 2 && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 {
		zr, err := zlib.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: deflate (zlib) header: %v", ErrInvalid, err)
		}
		return zr, nil
	}
	return flate.NewReader(br), nil
}

// validJSON validates and bounds the nesting of doc in one pass. On a syntax error the
// depth is checked first, as two separate passes used to, so a document both invalid and
// too deep reports its depth as before.
func validJSON(doc string, maxDepth int) error {
	ok, deep := jsonscan.Valid(doc, maxDepth)
	switch {
	case ok:
		return nil
	case deep >= 0:
		return tooDeep(maxDepth, deep)
	}
	if err := checkDepth(doc, maxDepth); err != nil {
		return err
	}
	return describeInvalid([]byte(doc))
}

func tooDeep(maxDepth, offset int) error {
	return fmt.Errorf("%w: more than %d levels at offset %d", ErrTooDeep, maxDepth, offset)
}

func describeInvalid(data []byte) error {
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	if err == nil {
		// encoding/json accepted what gjson rejected (should not happen).
		err = errors.New("rejected by validator")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: JSON syntax error after %d bytes: %v", ErrInvalid, se.Offset, se)
	}
	return fmt.Errorf("%w: JSON: %v", ErrInvalid, err)
}

// checkDepth finds the first bracket past maxDepth, whatever the syntax around it.
func checkDepth(data string, maxDepth int) error {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			// Jump to the closing quote: the next '"' preceded by an even
			// number of backslashes.
			for {
				j := strings.IndexByte(data[i+1:], '"')
				if j < 0 {
					return nil // unterminated string: the validator reports it
				}
				i += j + 1
				bs := 0
				for k := i - 1; k >= 0 && data[k] == '\\'; k-- {
					bs++
				}
				if bs%2 == 0 {
					break
				}
			}
		case '{', '[':
			depth++
			if depth > maxDepth {
				return tooDeep(maxDepth, i)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// jsonLines wraps the non-blank lines into a JSON array.
func jsonLines(data []byte, maxDepth int) ([]byte, error) {
	out := make([]byte, 0, len(data)+2)
	out = append(out, '[')
	n := 0
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := validJSON(view(line), maxDepth); err != nil {
			return nil, fmt.Errorf("jsonlines line %d: %w", lineNo, err)
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, line...)
		n++
	}
	return append(out, ']'), nil
}

func oneRune(s, what string, def rune) (rune, error) {
	switch {
	case s == "":
		return def, nil
	case s == `\t` || strings.EqualFold(s, "tab"):
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(s)
	if size != len(s) || r == utf8.RuneError || r == '\n' || r == '\r' {
		return 0, fmt.Errorf("%w: %s %q must be one character", ErrInvalid, what, s)
	}
	return r, nil
}
