package decode

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Caps small enough for the fuzzer to reach.
const (
	fuzzMaxBytes = 1 << 12
	fuzzMaxDepth = 16
)

// FuzzDecode: never panics, and these properties hold:
//   - an error comes without output; output is strict JSON;
//   - caps held: json output is at most MaxBytes long and MaxDepth deep, and
//     an uncompressed body over MaxBytes is ErrBodyTooLarge;
//   - agreement with encoding/json on uncompressed json bodies: accepted
//     exactly when json.Valid and within the caps, and then returned
//     verbatim (breaks if the validator drifts from strict JSON either way,
//     or if the depth count is off by one);
//   - jsonlines output is the array of the non-blank lines, in order;
//   - csv output is an array of objects whose values are all strings;
//   - gzip round trip: gzip(body) sent with Content-Encoding gzip decodes to
//     the same result as body itself.
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
		{[]byte(`[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]`), "json", 0},
		{[]byte("'x''y',z\n"), "csv", 8},
		{[]byte("\xEF\xBB\xBF {\"s\":\"\\\"[\"} "), "JSON", 16},
		{bytes.Repeat([]byte(" "), fuzzMaxBytes+1), "json", 0},
	}
	for _, s := range seeds {
		f.Add(s.body, s.format, s.flags)
	}
	f.Fuzz(func(t *testing.T, body []byte, format string, flags uint8) {
		o := fuzzOptions(format, flags)
		out, err := Decode(bytes.NewReader(body), o)
		if err != nil {
			if out != nil {
				t.Fatal("output with error")
			}
		} else if out != nil && !json.Valid(out) {
			t.Fatalf("invalid JSON output %q", out)
		}
		identity := flags&3 != 3 && !bytes.HasPrefix(body, []byte{0x1f, 0x8b})
		switch strings.ToLower(strings.TrimSpace(format)) {
		case "", "json":
			checkJSONCaps(t, out, err)
			if identity {
				checkStrictJSON(t, body, out, err)
			}
		case "jsonlines":
			if identity && err == nil && len(body) <= fuzzMaxBytes {
				checkLines(t, body, out)
			}
		case "csv":
			checkCSVShape(t, out, err)
		}
		if identity && flags&(1|2|16) == 0 {
			checkGzipRoundTrip(t, body, o, out, err)
		}
	})
}

func fuzzOptions(format string, flags uint8) Options {
	o := Options{Format: format, MaxBytes: fuzzMaxBytes, MaxDepth: fuzzMaxDepth}
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
	return o
}

// refDepth is the nesting depth of valid JSON, counted by encoding/json.
func refDepth(b []byte) int {
	d := json.NewDecoder(bytes.NewReader(b))
	depth, deepest := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

func checkJSONCaps(t *testing.T, out []byte, err error) {
	t.Helper()
	if err != nil || out == nil {
		return
	}
	if len(out) > fuzzMaxBytes {
		t.Fatalf("output of %d bytes, cap %d", len(out), fuzzMaxBytes)
	}
	if d := refDepth(out); d > fuzzMaxDepth {
		t.Fatalf("output %d deep, cap %d", d, fuzzMaxDepth)
	}
}

// checkStrictJSON: an uncompressed json body (BOM removed) is accepted
// exactly when encoding/json accepts it within the caps, and returned as is.
func checkStrictJSON(t *testing.T, body, out []byte, err error) {
	t.Helper()
	if len(body) > fuzzMaxBytes {
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("%d-byte body over the %d cap: err %v", len(body), fuzzMaxBytes, err)
		}
		return
	}
	data := bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		if err != nil || out != nil {
			t.Fatalf("blank body %q: (%q, %v), want no document", body, out, err)
		}
	case json.Valid(data) && refDepth(data) <= fuzzMaxDepth:
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("strict JSON %q within the caps: (%q, %v)", data, out, err)
		}
	case err == nil:
		t.Fatalf("accepted %q (valid %v, depth %d, cap %d)", data, json.Valid(data), refDepth(data), fuzzMaxDepth)
	}
}

// checkLines: jsonlines output holds the non-blank lines' values in order.
func checkLines(t *testing.T, body, out []byte) {
	t.Helper()
	var lines [][]byte
	for _, l := range bytes.Split(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")), []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	if out == nil {
		if len(lines) > 0 {
			t.Fatalf("no document for %d non-blank lines", len(lines))
		}
		return
	}
	elems := gjson.ParseBytes(out).Array()
	if len(elems) != len(lines) {
		t.Fatalf("%d elements for %d non-blank lines: %q", len(elems), len(lines), out)
	}
	for i, e := range elems {
		if e.Raw != string(lines[i]) {
			t.Fatalf("element %d is %q, line is %q", i, e.Raw, lines[i])
		}
	}
}

func checkCSVShape(t *testing.T, out []byte, err error) {
	t.Helper()
	if err != nil || out == nil {
		return
	}
	doc := gjson.ParseBytes(out)
	if !doc.IsArray() {
		t.Fatalf("csv output is no array: %q", out)
	}
	for _, row := range doc.Array() {
		if !row.IsObject() {
			t.Fatalf("csv row is no object: %s", row.Raw)
		}
		row.ForEach(func(k, v gjson.Result) bool {
			if v.Type != gjson.String {
				t.Fatalf("csv value %s of %s is no string", v.Raw, k.Raw)
			}
			return true
		})
	}
}

// checkGzipRoundTrip decodes gzip(body) with Content-Encoding gzip and
// compares with the plain result.
func checkGzipRoundTrip(t *testing.T, body []byte, o Options, out []byte, err error) {
	t.Helper()
	var b bytes.Buffer
	w := stdgzip.NewWriter(&b)
	_, _ = w.Write(body)
	_ = w.Close()
	if b.Len() > fuzzMaxBytes {
		return // the raw cap would apply to the compressed form only
	}
	o.ContentEncoding = "gzip"
	zout, zerr := Decode(io.MultiReader(&b), o)
	if (err == nil) != (zerr == nil) || !bytes.Equal(out, zout) {
		t.Fatalf("gzip changed the result for %q: (%q, %v) vs (%q, %v)", body, out, err, zout, zerr)
	}
}
