package timefmt

import (
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzFormat: seeds are every queryTimeFormat in /work/shared/ccp-corpus
// plus .NET edge cases. Compile/Format must never panic; a valid UTF-8
// format yields valid UTF-8 output.
func FuzzFormat(f *testing.F) {
	for _, s := range []string{
		"UnixTimestamp", "UnixTimestampInMills", "yyyy-MM-ddTHH:mm:ss.000000+00:00",
		"yyyy-MM-ddTHH:mm:ss.fffZ", "yyyy-MM-ddTHH:mm:ss.sss-0000", "yyyy-MM-ddTHH:mm:ssZ", "",
		"MM/dd/yyyy HH:mm:ss", "'x\\'y'", "%d", "\\", "o", "dddd, dd MMMM yyyy FFFFFFF tt zzz K",
	} {
		f.Add(s, int64(1704164645678))
	}
	f.Fuzz(func(t *testing.T, format string, ms int64) {
		fm, err := Compile(format)
		if err != nil {
			return
		}
		out := fm.Format(time.UnixMilli(ms))
		if utf8.ValidString(format) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output %q for %q", out, format)
		}
	})
}
