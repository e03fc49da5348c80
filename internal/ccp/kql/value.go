package kql

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

func strVal(s string) gjson.Result {
	b, _ := json.Marshal(s)
	return gjson.Result{Type: gjson.String, Str: s, Raw: string(b)}
}

func numVal(text string) gjson.Result {
	f, _ := strconv.ParseFloat(text, 64)
	return gjson.Result{Type: gjson.Number, Num: f, Raw: text}
}

func isNull(v gjson.Result) bool { return v.Type == gjson.Null }

// toString is KQL tostring(): strings unquoted, numbers as written, booleans true/false,
// objects and arrays as compact JSON, null as "".
func toString(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return ""
	case gjson.String:
		return v.Str
	case gjson.Number:
		return v.Raw
	case gjson.True:
		return "true"
	case gjson.False:
		return "false"
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(v.Raw)) == nil {
		return b.String()
	}
	return v.Raw
}

// parseJSON is parse_json()/todynamic(): a string holding JSON becomes that value; anything
// else (already dynamic, or text that is not JSON) is returned as is.
func parseJSON(v gjson.Result) gjson.Result {
	if v.Type != gjson.String {
		return v
	}
	s := strings.TrimSpace(v.Str)
	if s == "" || !gjson.Valid(s) {
		return v
	}
	return gjson.Parse(s)
}

func toInt(v gjson.Result, bits int) gjson.Result {
	var f float64
	switch v.Type {
	case gjson.Number:
		if n, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
			return intVal(n, bits)
		}
		f = v.Num
	case gjson.String:
		s := strings.TrimSpace(v.Str)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return intVal(n, bits)
		}
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return gjson.Result{}
		}
	case gjson.True:
		return intVal(1, bits)
	case gjson.False:
		return intVal(0, bits)
	default:
		return gjson.Result{}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f >= 9.2e18 || f <= -9.2e18 {
		return gjson.Result{}
	}
	return intVal(int64(f), bits)
}

func intVal(n int64, bits int) gjson.Result {
	if bits == 32 && (n > math.MaxInt32 || n < math.MinInt32) {
		return gjson.Result{}
	}
	return numVal(strconv.FormatInt(n, 10))
}

func boolVal(b bool) gjson.Result {
	if b {
		return gjson.Result{Type: gjson.True, Raw: "true"}
	}
	return gjson.Result{Type: gjson.False, Raw: "false"}
}

func isEmpty(v gjson.Result) bool {
	return v.Type == gjson.Null || v.Type == gjson.String && v.Str == ""
}

func equal(l, r gjson.Result, fold bool) bool {
	if l.Type == gjson.Number && r.Type == gjson.Number {
		return l.Num == r.Num
	}
	if fold {
		return strings.EqualFold(toString(l), toString(r))
	}
	return toString(l) == toString(r)
}

// member is property access on a property bag; anything else (or a missing key) is null.
// Keys are matched exactly, as in KQL.
func member(v gjson.Result, key string) gjson.Result {
	if !v.IsObject() {
		return gjson.Result{}
	}
	var out gjson.Result
	v.ForEach(func(k, val gjson.Result) bool {
		if k.Str == key {
			out = val // last duplicate wins, as Json.NET does
		}
		return true
	})
	return out
}

// index is array indexing; negative indexes count from the end, as in KQL.
func index(v gjson.Result, i int) gjson.Result {
	if !v.IsArray() {
		return gjson.Result{}
	}
	arr := v.Array()
	if i < 0 {
		i += len(arr)
	}
	if i < 0 || i >= len(arr) {
		return gjson.Result{}
	}
	return arr[i]
}

// expand is the mv-expand of one value: array elements; a property bag's entries as
// single-entry bags ({"key": value}) or, with bagexpansion=array, as [key, value] pairs;
// any other value (including null and empty arrays) as a single null-or-scalar row.
func expand(v gjson.Result, bagArr bool) []gjson.Result {
	switch {
	case v.IsArray():
		return v.Array()
	case v.IsObject():
		var out []gjson.Result
		v.ForEach(func(k, val gjson.Result) bool {
			key, _ := json.Marshal(k.Str)
			var raw string
			if bagArr {
				raw = "[" + string(key) + "," + val.Raw + "]"
			} else {
				raw = "{" + string(key) + ":" + val.Raw + "}"
			}
			out = append(out, gjson.Parse(raw))
			return true
		})
		return out
	}
	return []gjson.Result{v}
}
