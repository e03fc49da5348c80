package timefmt

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// refTokens pairs .NET custom-format specifiers with the Go layout element
// that renders the same thing for a UTC time in the invariant culture: the
// reference FuzzFormat compares against.
var refTokens = []struct{ net, goLayout string }{
	{"yyyy", "2006"}, {"yy", "06"}, {"MM", "01"}, {"M", "1"}, {"MMM", "Jan"}, {"MMMM", "January"},
	{"dd", "02"}, {"d", "2"}, {"ddd", "Mon"}, {"dddd", "Monday"}, {"HH", "15"}, {"hh", "03"}, {"h", "3"},
	{"mm", "04"}, {"m", "4"}, {"ss", "05"}, {"s", "5"}, {"tt", "PM"}, {".fff", ".000"},
	{".ffffff", ".000000"}, {"zzz", "-07:00"}, {"K", "Z07:00"}, {"'literal'", "literal"},
}

// refSeparators are literals in both dialects; one always sits between two
// tokens so that neither dialect merges neighbours ("MM"+"MM" is "MMMM" in
// .NET, ".000"+"02" is no fraction in Go).
var refSeparators = []string{"-", ":", "/", " ", "T", ","} // not "_": Go reads "_2" as a padded day

// refFormat builds a .NET format and the equivalent Go layout from the
// bytes of sel (two bytes per token: which token, which separator).
func refFormat(sel string) (netFmt, goLayout string) {
	var n, g strings.Builder
	for i := 0; i+1 < len(sel) && i < 64; i += 2 {
		tk := refTokens[int(sel[i])%len(refTokens)]
		sep := refSeparators[int(sel[i+1])%len(refSeparators)]
		if i > 0 {
			n.WriteString(sep)
			g.WriteString(sep)
		}
		n.WriteString(tk.net)
		g.WriteString(tk.goLayout)
	}
	if n.Len() == 1 { // one character alone is a standard format; "%m" is the custom "m"
		return "%" + n.String(), g.String()
	}
	return n.String(), g.String()
}

// .NET DateTime's range: year 1 to 9999; the fuzzed instant is folded into it.
var (
	minNetMs = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxNetMs = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli()
)

func foldMs(ms int64) time.Time {
	span := maxNetMs - minNetMs + 1
	r := ms % span
	if r < 0 {
		r += span
	}
	return time.UnixMilli(minNetMs + r).UTC()
}

// FuzzFormat: seeds are every queryTimeFormat in /work/shared/ccp-corpus
// plus .NET edge cases. Properties, beyond never panicking:
//   - a valid UTF-8 format yields valid UTF-8 output;
//   - agreement with Go's time.Format on formats built from the bytes of the
//     fuzzed string out of refTokens (breaks if a specifier's width, padding,
//     name or the 12-hour/AM-PM/offset rules drift from .NET);
//   - a quoted literal is reproduced byte for byte (breaks if quoting lets a
//     specifier through or loses characters);
//   - the epoch keywords print t.Unix() / t.UnixMilli() in any letter case.
func FuzzFormat(f *testing.F) {
	for _, s := range []string{
		"UnixTimestamp", "UnixTimestampInMills", "yyyy-MM-ddTHH:mm:ss.000000+00:00",
		"yyyy-MM-ddTHH:mm:ss.fffZ", "yyyy-MM-ddTHH:mm:ss.sss-0000", "yyyy-MM-ddTHH:mm:ssZ", "",
		"MM/dd/yyyy HH:mm:ss", "'x\\'y'", "%d", "\\", "o", "dddd, dd MMMM yyyy FFFFFFF tt zzz K",
	} {
		f.Add(s, int64(1704164645678))
	}
	f.Add("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16", int64(-62135596800000))
	f.Fuzz(func(t *testing.T, format string, ms int64) {
		if fm, err := Compile(format); err == nil {
			out := fm.Format(time.UnixMilli(ms))
			if utf8.ValidString(format) && !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 output %q for %q", out, format)
			}
		}
		at := foldMs(ms)
		netFmt, goLayout := refFormat(format)
		if netFmt != "" {
			if got, want := MustCompile(netFmt).Format(at), at.Format(goLayout); got != want {
				t.Fatalf("%q at %s: got %q, Go layout %q gives %q", netFmt, at.Format(time.RFC3339Nano), got, goLayout, want)
			}
		}
		lit := strings.NewReplacer("'", "", "\\", "").Replace(format)
		if got := MustCompile("'" + lit + "'").Format(at); got != lit {
			t.Fatalf("quoted literal %q rendered as %q", lit, got)
		}
		if len(format) > 0 && format[0]&1 == 1 {
			assertEpoch(t, strings.ToLower(UnixTimestamp), at, strconv.FormatInt(at.Unix(), 10))
			assertEpoch(t, strings.ToUpper(UnixTimestampInMills), at, strconv.FormatInt(at.UnixMilli(), 10))
		}
	})
}

func assertEpoch(t *testing.T, keyword string, at time.Time, want string) {
	t.Helper()
	fm := MustCompile(keyword)
	if !fm.IsEpoch() {
		t.Fatalf("%q is not an epoch format", keyword)
	}
	if got := fm.Format(at); got != want {
		t.Fatalf("%q at %s: got %q, want %q", keyword, at, got, want)
	}
}
