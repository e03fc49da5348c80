package armexpr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// format implements .NET composite formatting: {index[,alignment][:format]}
// with {{ and }} as escapes. Numeric format strings D<n>/N<n>/X are honoured
// loosely; others are ignored.
func (e *evaluator) format(f string, args []any) (any, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '}' {
			if i+1 < len(f) && f[i+1] == '}' {
				i++
			}
			b.WriteByte('}')
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(f[i:], '}')
		if end < 0 {
			return nil, e.fail("format", "", "unclosed '{' in format string")
		}
		spec := f[i+1 : i+end]
		i += end
		fmtStr := ""
		if j := strings.IndexByte(spec, ':'); j >= 0 {
			spec, fmtStr = spec[:j], spec[j+1:]
		}
		align := int64(0)
		if j := strings.IndexByte(spec, ','); j >= 0 {
			a, err := strconv.ParseInt(strings.TrimSpace(spec[j+1:]), 10, 32)
			if err != nil {
				return nil, e.fail("format", "", "bad alignment in {%s}", spec)
			}
			align = a
			spec = spec[:j]
		}
		idx, err := strconv.Atoi(strings.TrimSpace(spec))
		if err != nil || idx < 0 || idx >= len(args) {
			return nil, e.fail("format", "", "placeholder {%s} has no matching argument (%d given)", spec, len(args))
		}
		s := formatOne(args[idx], fmtStr)
		pad := int(abs64(align)) - utf8.RuneCountInString(s)
		if b.Len()+len(s)+max(pad, 0) > maxValueSize {
			return nil, e.fail("format", "", "result too large")
		}
		if pad > 0 && align > 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
		b.WriteString(s)
		if pad > 0 && align < 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
	}
	return b.String(), nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func formatOne(v any, f string) string {
	if f == "" || !isNumber(v) {
		return toStr(v)
	}
	i, err := toInt(v)
	if err != nil {
		return toStr(v)
	}
	width := 0
	if len(f) > 1 {
		if w, err := strconv.Atoi(f[1:]); err == nil && w >= 0 && w <= 64 {
			width = w
		}
	}
	switch f[0] {
	case 'D', 'd':
		s := strconv.FormatInt(abs64(i), 10)
		for len(s) < width {
			s = "0" + s
		}
		if i < 0 {
			s = "-" + s
		}
		return s
	case 'X', 'x':
		s := strconv.FormatUint(uint64(i), 16)
		if f[0] == 'X' {
			s = strings.ToUpper(s)
		}
		for len(s) < width {
			s = "0" + s
		}
		return s
	}
	return toStr(v)
}
