package decode

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	stdgzip "compress/gzip"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := stdgzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func zl(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	require.NoError(t, w.Close())
	return b.Bytes()
}

func rawDeflate(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	_, _ = w.Write([]byte(s))
	require.NoError(t, w.Close())
	return b.Bytes()
}

func boolp(b bool) *bool { return &b }

func TestDecode(t *testing.T) {
	const doc = `{"data":[{"id":1}]}`
	tests := []struct {
		name string
		body []byte
		o    Options
		want string
	}{
		{"json default", []byte(doc), Options{}, doc},
		{"json case", []byte(doc), Options{Format: "JSON"}, doc},
		{"json bom", []byte("\xEF\xBB\xBF" + doc), Options{}, doc},
		{"json array", []byte(`[1,2]`), Options{}, `[1,2]`},
		{"depth ignores strings", []byte(`[{"a":"x\"[[[[","b":"\\\\[[","c":"\\"}]`), Options{MaxDepth: 2}, `[{"a":"x\"[[[[","b":"\\\\[[","c":"\\"}]`},
		{"empty", nil, Options{}, ""},
		{"whitespace", []byte(" \r\n "), Options{}, ""},
		{"gzip flag", gz(t, doc), Options{GzipCompressed: true}, doc},
		{"gzip flag plain body", []byte(doc), Options{GzipCompressed: true}, doc},
		{"gzip magic no flag", gz(t, doc), Options{}, doc},
		{"gzip header", gz(t, doc), Options{ContentEncoding: "gzip"}, doc},
		{"gzip header and flag", gz(t, doc), Options{ContentEncoding: "GZIP", GzipCompressed: true}, doc},
		{"gzip header already decoded", []byte(doc), Options{ContentEncoding: "gzip"}, doc},
		{"gzip in gzip", gz(t, string(gz(t, doc))), Options{ContentEncoding: "gzip", CompressionAlgo: "gzip"}, doc},
		{"multi-gzip", append(gz(t, `[{"a":1},`), gz(t, `{"a":2}]`)...), Options{CompressionAlgo: "multi-gzip"}, `[{"a":1},{"a":2}]`},
		{"multi-gzip jsonlines", append(gz(t, "{\"a\":1}\n"), gz(t, "{\"a\":2}\n")...), Options{CompressionAlgo: "Multi-Gzip", Format: "jsonlines"}, `[{"a":1},{"a":2}]`},
		{"deflate zlib algo", zl(t, doc), Options{CompressionAlgo: "deflate"}, doc},
		{"deflate raw algo", rawDeflate(t, doc), Options{CompressionAlgo: "deflate"}, doc},
		{"deflate header", zl(t, doc), Options{ContentEncoding: "deflate"}, doc},
		{"deflate header and algo once", zl(t, doc), Options{ContentEncoding: "deflate", CompressionAlgo: "deflate"}, doc},
		{"identity", []byte(doc), Options{ContentEncoding: "identity"}, doc},
		{"jsonlines", []byte("{\"a\":1}\r\n\n  \n[2]\n\"s\"\n"), Options{Format: "jsonlines"}, `[{"a":1},[2],"s"]`},
		{"jsonlines no trailing newline", []byte(`{"a":1}`), Options{Format: "JsonLines"}, `[{"a":1}]`},
		{"csv header", []byte("a,b\n1,x\n2,\"y,z\"\n"), Options{Format: "csv"}, `[{"a":"1","b":"x"},{"a":"2","b":"y,z"}]`},
		{"csv crlf blank lines", []byte("a,b\r\n\r\n1,2\r\n"), Options{Format: "csv"}, `[{"a":"1","b":"2"}]`},
		{"csv no header", []byte("1,2\n3,4"), Options{Format: "csv", HasCSVHeader: boolp(false)}, `[{"column1":"1","column2":"2"},{"column1":"3","column2":"4"}]`},
		{"csv delimiter", []byte("a;b\n1;2"), Options{Format: "csv", CSVDelimiter: ";"}, `[{"a":"1","b":"2"}]`},
		{"csv tab", []byte("a\tb\n1\t2"), Options{Format: "csv", CSVDelimiter: `\t`}, `[{"a":"1","b":"2"}]`},
		{"csv escape", []byte("a,b\n'x,''y''',2"), Options{Format: "csv", CSVEscape: "'"}, `[{"a":"x,'y'","b":"2"}]`},
		{"csv doubled quotes newline", []byte("a\n\"he said \"\"hi\"\"\nok\""), Options{Format: "csv"}, `[{"a":"he said \"hi\"\nok"}]`},
		{"csv ragged", []byte("a,b\n1\n1,2,3"), Options{Format: "csv"}, `[{"a":"1"},{"a":"1","b":"2","column3":"3"}]`},
		{"csv empty header cell", []byte("a,\n1,2"), Options{Format: "csv"}, `[{"a":"1","column2":"2"}]`},
		{"csv header only", []byte("a,b\n"), Options{Format: "csv"}, `[]`},
		{"csv empty fields", []byte("a,b,c\n,,"), Options{Format: "csv"}, `[{"a":"","b":"","c":""}]`},
		{"csv lazy quote", []byte("a\n\"x\"y"), Options{Format: "csv"}, `[{"a":"xy"}]`},
		{"csv unicode", []byte("ключ|b\nзнач|\x01"), Options{Format: "csv", CSVDelimiter: "|"}, `[{"ключ":"знач","b":"\u0001"}]`},
		{"csv gzip", gz(t, "a\n1"), Options{Format: "csv", GzipCompressed: true}, `[{"a":"1"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tt.body), tt.o)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			if tt.want != "" {
				assert.True(t, json.Valid(got))
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		o       Options
		is      error
		message string
	}{
		{"bad json", []byte(`{"a":}`), Options{}, ErrInvalid, "after 6 bytes"},
		{"trailing garbage", []byte(`{"a":1} x`), Options{}, ErrInvalid, "after 9 bytes"},
		{"jsonlines bad line", []byte("{\"a\":1}\n\n{bad\n"), Options{Format: "jsonlines"}, ErrInvalid, "line 3"},
		{"csv unterminated", []byte("a\n1\n\"x"), Options{Format: "csv"}, ErrInvalid, "line 3"},
		{"csv bad delimiter", []byte("a"), Options{Format: "csv", CSVDelimiter: ";;"}, ErrInvalid, "csvDelimiter"},
		{"csv same delim/escape", []byte("a"), Options{Format: "csv", CSVDelimiter: "'", CSVEscape: "'"}, ErrInvalid, "both"},
		{"parquet", []byte("PAR1"), Options{Format: "parquet"}, ErrUnsupported, "parquet"},
		{"br", []byte("x"), Options{ContentEncoding: "br"}, ErrUnsupported, "br"},
		{"algo", []byte("x"), Options{CompressionAlgo: "lz4"}, ErrUnsupported, "lz4"},
		{"truncated gzip", gz(t, `{"a":1}`)[:15], Options{GzipCompressed: true}, ErrInvalid, ""},
		{"bad zlib", []byte{0x78, 0x9c, 0xff, 0xff}, Options{CompressionAlgo: "deflate"}, ErrInvalid, ""},
		{"deep json", []byte(strings.Repeat("[", 600) + strings.Repeat("]", 600)), Options{}, ErrTooDeep, "512"},
		{"deep custom", []byte(`[[[1]]]`), Options{MaxDepth: 2}, ErrTooDeep, "2 levels"},
		{"deep jsonlines", []byte("1\n" + strings.Repeat("{\"a\":", 600)), Options{Format: "jsonlines"}, ErrTooDeep, "line 2"},
		{"raw too large", []byte(`[` + strings.Repeat(`1,`, 100) + `1]`), Options{MaxBytes: 50}, ErrBodyTooLarge, "raw body exceeds the limit of 50 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tt.body), tt.o)
			require.Error(t, err)
			assert.Nil(t, got)
			assert.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

func TestExactLimit(t *testing.T) {
	body := []byte(`{"a":"` + strings.Repeat("x", 40) + `"}`)
	got, err := Decode(bytes.NewReader(body), Options{MaxBytes: int64(len(body))})
	require.NoError(t, err)
	assert.Equal(t, body, got)
	_, err = Decode(bytes.NewReader(body), Options{MaxBytes: int64(len(body) - 1)})
	assert.ErrorIs(t, err, ErrBodyTooLarge)
}

// zeros is an endless reader.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestNeverEndingBody(t *testing.T) {
	_, err := Decode(zeros{}, Options{MaxBytes: 1 << 20})
	require.ErrorIs(t, err, ErrBodyTooLarge)
	assert.Contains(t, err.Error(), "raw body exceeds the limit of 1048576 bytes")
}

func TestGzipBomb(t *testing.T) {
	// 16 MiB of spaces compress to ~16 KiB.
	var b bytes.Buffer
	w, _ := stdgzip.NewWriterLevel(&b, stdgzip.BestCompression)
	_, err := io.CopyN(w, zeros{}, 16<<20)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Less(t, b.Len(), 1<<20)
	for _, o := range []Options{
		{MaxBytes: 1 << 20, GzipCompressed: true},
		{MaxBytes: 1 << 20, ContentEncoding: "gzip"},
		{MaxBytes: 1 << 20}, // magic-byte detection
	} {
		_, err = Decode(bytes.NewReader(b.Bytes()), o)
		require.ErrorIs(t, err, ErrBodyTooLarge)
		assert.Contains(t, err.Error(), "decompressed body exceeds the limit of 1048576 bytes")
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	_, err := Decode(strings.NewReader(`{`), Options{})
	assert.False(t, errors.Is(err, ErrBodyTooLarge))
	assert.True(t, errors.Is(err, ErrInvalid))
}

func eventsDoc(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"data":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		// Pseudo-random hex keeps the compression ratio realistic (~3-4x).
		h := fmt.Sprintf("%x", sha256.Sum256([]byte(strconv.Itoa(i))))
		fmt.Fprintf(&sb, `{"id":%d,"ts":"2024-01-02T03:04:05Z","user":{"name":"user%d","email":"u%d@example.com"},"action":"login","ip":"10.0.%d.%d","detail":"%s %s"}`,
			i, i, i, i%256, i%7, strings.Repeat(h, 12), strings.Repeat("lorem ipsum ", 15))
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func BenchmarkDecode(b *testing.B) {
	doc := eventsDoc(1000)
	zipped := gz(b, string(doc))
	for _, c := range []struct {
		name string
		body []byte
		o    Options
	}{
		{"json", doc, Options{}},
		{"json-gzip", zipped, Options{GzipCompressed: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(c.body), c.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGunzip compares compress/gzip and klauspost/compress/gzip on the
// same ~1 MB document (the figures are recorded in gzip.go).
func BenchmarkGunzip(b *testing.B) {
	doc := eventsDoc(1000)
	zipped := gz(b, string(doc))
	buf := make([]byte, 0, len(doc)+1024)
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			zr, err := stdgzip.NewReader(bytes.NewReader(zipped))
			if err != nil {
				b.Fatal(err)
			}
			w := bytes.NewBuffer(buf[:0])
			if _, err := io.Copy(w, zr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			zr, err := kgzipNewReader(bytes.NewReader(zipped))
			if err != nil {
				b.Fatal(err)
			}
			w := bytes.NewBuffer(buf[:0])
			if _, err := io.Copy(w, zr); err != nil {
				b.Fatal(err)
			}
		}
	})
}
