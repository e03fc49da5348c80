package timefmt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ref is the spec's reference instant: 2024-01-02 03:04:05.678 UTC.
var ref = time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

func TestFormat(t *testing.T) {
	pm := time.Date(2024, 11, 23, 15, 7, 9, 120_000_000, time.UTC)
	tests := []struct {
		format string
		t      time.Time
		want   string
	}{
		// The spec's four exact examples (§4.4).
		{"yyyy-MM-ddTHH:mm:ssZ", ref, "2024-01-02T03:04:05Z"},
		{"yyyy-MM-ddTHH:mm:ss.fffZ", ref, "2024-01-02T03:04:05.678Z"},
		{"yyyy-MM-ddTHH:mm:ss.000000+00:00", ref, "2024-01-02T03:04:05.000000+00:00"},
		{"yyyy-MM-ddTHH:mm:ss.sss-0000", ref, "2024-01-02T03:04:05.05-0000"},
		// Keywords and default.
		{"", ref, "2024-01-02T03:04:05Z"},
		{"UnixTimestamp", ref, "1704164645"},
		{"UnixTimestampInMills", ref, "1704164645678"},
		{"unixtimestampinmills", ref, "1704164645678"},
		// S1 examples.
		{"yyyy-MM-dd", ref, "2024-01-02"},
		{"MM/dd/yyyy HH:mm:ss", ref, "01/02/2024 03:04:05"},
		// Token table.
		{"yy y M d H h m s", ref, "24 24 1 2 3 3 4 5"},
		{"yyy yyyyy", ref, "2024 02024"},
		{"hh tt t", pm, "03 PM P"},
		{"hh tt", ref, "03 AM"},
		{"%h", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "12"},
		{"HHH mmm", pm, "15 07"},
		{"f ff fff ffff fffff ffffff fffffff", ref, "6 67 678 6780 67800 678000 6780000"},
		{"F FF FFF FFFF FFFFFFF", ref, "6 67 678 678 678"},
		{"ss.FFF", time.Date(2024, 1, 1, 0, 0, 5, 0, time.UTC), "05"},
		{"ss.FFFZ", time.Date(2024, 1, 1, 0, 0, 5, 100_000_000, time.UTC), "05.1Z"},
		{"fffffff", time.Date(2024, 1, 1, 0, 0, 0, 123_456_789, time.UTC), "1234567"},
		{"%K", ref, "Z"},
		{" K", ref, " Z"},
		{"z|zz|zzz|zzzz", ref, "+0|+00|+00:00|+00:00"},
		{"MMM MMMM ddd dddd", ref, "Jan January Tue Tuesday"},
		{"MMMMM ddddd", pm, "November Saturday"},
		{"'yyyy'\"MM\"", ref, "yyyyMM"},
		{`'it\'s' \y\M`, ref, "it's yM"},
		{"%d", ref, "2"},
		{"%H:%m", ref, "3:4"},
		{"TZ+-.0123456789 Q", ref, "TZ+-.0123456789 Q"},
		{"g", ref, "01/02/2024 03:04"}, // standard format
		{"gg yyyy", ref, "A.D. 2024"},
		{"s", ref, "2024-01-02T03:04:05"},
		{"o", ref, "2024-01-02T03:04:05.6780000Z"},
		{"u", ref, "2024-01-02 03:04:05Z"},
		{"R", ref, "Tue, 02 Jan 2024 03:04:05 GMT"},
		{"yyyy-MM-ddTHH:mm:ssK", time.Date(2024, 1, 2, 5, 4, 5, 0, time.FixedZone("x", 2*3600)), "2024-01-02T03:04:05Z"},
		{"日付 yyyy", ref, "日付 2024"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			f, err := Compile(tt.format)
			require.NoError(t, err)
			assert.Equal(t, tt.want, f.Format(tt.t))
			assert.Equal(t, tt.want, string(f.AppendFormat(nil, tt.t)))
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, f := range []string{"'abc", `"abc`, `abc\`, "%", "%%", "dd%", "ffffffff", "FFFFFFFF", "X", "q", "h", "K"} {
		_, err := Compile(f)
		assert.ErrorIs(t, err, ErrFormat, "format %q", f)
	}
	_, err := Format("'", ref)
	assert.Error(t, err)
}

func TestIsEpoch(t *testing.T) {
	assert.True(t, MustCompile("UnixTimestamp").IsEpoch())
	assert.True(t, MustCompile("UnixTimestampInMills").IsEpoch())
	assert.False(t, MustCompile("").IsEpoch())
	assert.Equal(t, "", Formatter{}.Format(ref))
}

func TestOddTimes(t *testing.T) {
	f := MustCompile("yyyy yy MM dd HH:mm:ss.fffffff")
	assert.Equal(t, "0001 01 01 01 00:00:00.0000000", f.Format(time.Time{}))
	assert.Equal(t, "-0001 01 01 01 00:00:00.0000000", f.Format(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, "12345 45 01 01 00:00:00.0000000", f.Format(time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)))
}

func BenchmarkFormat(b *testing.B) {
	for _, format := range []string{"yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.fffZ", "UnixTimestampInMills"} {
		f := MustCompile(format)
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64)
			for b.Loop() {
				buf = f.AppendFormat(buf[:0], ref)
			}
		})
		b.Run(format+"/string", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = f.Format(ref)
			}
		})
	}
}
