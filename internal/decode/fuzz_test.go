package decode

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecode: never panics; a nil error means strict JSON (or no document);
// output never exceeds what the caps allow.
func FuzzDecode(f *testing.F) {
	seeds := []struct {
		body   []byte
		format string
		flags  uint8
	}{
		{[]byte(`{"data":[{"id":1},{"id":2}],"pagination":{"nextCursor":"abc"}}`), "json", 0},
		{[]byte(`[{"log_id":"1"},{"log_id":"2"}]`), "", 0},
		{[]byte("{\"a\":1}\r\n\n[2]\n"), "jsonlines", 0},
		{[]byte("a,b\n1,\"x,\"\"y\"\"\"\n"), "csv", 0},
		{[]byte("1;2\n3;4"), "csv", 4},
		{gz(f, `{"events":[1,2,3]}`), "json", 1},
		{append(gz(f, `[1,`), gz(f, `2]`)...), "json", 2},
		{zl(f, `{"a":1}`), "json", 3},
		{[]byte(`[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]`), "json", 0},
		{[]byte("'x''y',z\n"), "csv", 8},
	}
	for _, s := range seeds {
		f.Add(s.body, s.format, s.flags)
	}
	f.Fuzz(func(t *testing.T, body []byte, format string, flags uint8) {
		o := Options{Format: format, MaxBytes: 1 << 16, MaxDepth: 16}
		o.GzipCompressed = flags&1 != 0
		switch flags & 3 {
		case 2:
			o.CompressionAlgo = "multi-gzip"
		case 3:
			o.CompressionAlgo = "deflate"
		}
		if flags&4 != 0 {
			o.CSVDelimiter = ";"
			no := false
			o.HasCSVHeader = &no
		}
		if flags&8 != 0 {
			o.CSVEscape = "'"
		}
		if flags&16 != 0 {
			o.ContentEncoding = "gzip"
		}
		out, err := Decode(bytes.NewReader(body), o)
		if err != nil {
			if out != nil {
				t.Fatal("output with error")
			}
			return
		}
		if out != nil && !json.Valid(out) {
			t.Fatalf("invalid JSON output %q", out)
		}
	})
}
