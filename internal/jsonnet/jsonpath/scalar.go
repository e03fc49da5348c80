package jsonpath

import (
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Scalar extracts one string value for paging tokens, JWTs and status
// checks (spec §5.3): the first match; a one-element array yields its
// element; null, missing, "" and [] mean "no value"; an array of scalars is
// joined with ","; numbers are rendered as .NET invariant strings; booleans
// as "true"/"false"; objects (and arrays holding containers) as their compact
// raw JSON. Runtime path errors (ErrIndexOutOfRange) also give "no value";
// use Select to see them.
func (p *Path) Scalar(doc []byte) (string, bool) {
	return p.ScalarString(string(doc))
}

// ScalarString is Scalar for a document already held as a string (no copy).
func (p *Path) ScalarString(doc string) (string, bool) {
	rs, err := p.SelectString(doc)
	if err != nil || len(rs) == 0 {
		return "", false
	}
	return ScalarOf(rs[0])
}

// ScalarOf applies the Scalar rules to one token.
func ScalarOf(r gjson.Result) (string, bool) {
	if isArray(r) {
		var elems []gjson.Result
		elems = arrayElems(r, elems)
		switch len(elems) {
		case 0:
			return "", false
		case 1:
			return ScalarOf(elems[0])
		}
		var sb strings.Builder
		n := 0
		for _, e := range elems {
			if e.Type == gjson.JSON {
				return r.Raw, true
			}
			if e.Type == gjson.Null {
				continue
			}
			s, _ := scalarValue(e)
			if n > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(s)
			n++
		}
		if n == 0 {
			return "", false
		}
		return sb.String(), true
	}
	return scalarValue(r)
}

func scalarValue(r gjson.Result) (string, bool) {
	switch r.Type {
	case gjson.String:
		return r.Str, r.Str != ""
	case gjson.Number:
		return invariantNumber(r.Raw, r.Num), true
	case gjson.True:
		return "true", true
	case gjson.False:
		return "false", true
	case gjson.JSON:
		return r.Raw, true
	}
	return "", false
}

// invariantNumber renders a JSON number the way Json.NET's JValue.ToString()
// with the invariant culture would: integers verbatim (Json.NET keeps them
// as Int64/BigInteger), floats in .NET Core's shortest round-trip form with
// "E+XX" notation at exponents >= 15 or < -5.
func invariantNumber(raw string, f float64) string {
	if raw != "" && !strings.ContainsAny(raw, ".eE") {
		if raw[0] == '-' && strings.Trim(raw[1:], "0") == "" {
			return "0"
		}
		return raw
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return raw
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	exp := int(math.Floor(math.Log10(math.Abs(f))))
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±XX
	if i := strings.IndexByte(e, 'e'); i >= 0 {
		if x, err := strconv.Atoi(e[i+1:]); err == nil {
			exp = x
		}
	}
	if exp >= 15 || exp < -5 {
		i := strings.IndexByte(e, 'e')
		mant, x := e[:i], e[i+1:]
		sign := x[0]
		digits := strings.TrimLeft(x[1:], "0")
		for len(digits) < 2 {
			digits = "0" + digits
		}
		return mant + "E" + string(sign) + digits
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
