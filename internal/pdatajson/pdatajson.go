// Package pdatajson writes JSON text straight into pdata values, so an event becomes a
// structured log body without a detour through map[string]any (which costs allocations per
// field and loses integer precision).
package pdatajson

import (
	"math"
	"strconv"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// maxDepth bounds recursion on hostile, deeply nested input; deeper parts are kept as text.
const maxDepth = 64

// SetValue fills dest with the JSON value in raw (an object becomes a map, an array a slice,
// integers Int, other numbers Double). Invalid JSON is kept as a string.
func SetValue(dest pcommon.Value, raw string) {
	if !gjson.Valid(raw) {
		dest.SetStr(raw)
		return
	}
	set(dest, gjson.Parse(raw), 0)
}

// SetValidated is SetValue for text already known to be valid JSON (an event cut out of a
// validated response), skipping the second validation pass.
func SetValidated(dest pcommon.Value, raw string) {
	set(dest, gjson.Parse(raw), 0)
}

// SetMap fills dest with the members of a JSON object; it reports false when raw is not one.
func SetMap(dest pcommon.Map, raw string) bool {
	r := gjson.Parse(raw)
	if !r.IsObject() || !gjson.Valid(raw) {
		return false
	}
	fillMap(dest, r, 0)
	return true
}

func set(dest pcommon.Value, r gjson.Result, depth int) {
	if depth >= maxDepth && (r.IsObject() || r.IsArray()) {
		dest.SetStr(r.Raw)
		return
	}
	switch r.Type {
	case gjson.Null:
		// An empty value is how pdata spells null.
	case gjson.True:
		dest.SetBool(true)
	case gjson.False:
		dest.SetBool(false)
	case gjson.String:
		dest.SetStr(r.Str)
	case gjson.Number:
		setNumber(dest, r)
	case gjson.JSON:
		if r.IsObject() {
			fillMap(dest.SetEmptyMap(), r, depth+1)
			return
		}
		s := dest.SetEmptySlice()
		r.ForEach(func(_, v gjson.Result) bool {
			set(s.AppendEmpty(), v, depth+1)
			return true
		})
	}
}

func fillMap(m pcommon.Map, r gjson.Result, depth int) {
	r.ForEach(func(k, v gjson.Result) bool {
		// PutEmpty keeps the last of duplicate keys, like Json.NET.
		set(m.PutEmpty(k.Str), v, depth)
		return true
	})
}

func setNumber(dest pcommon.Value, r gjson.Result) {
	raw := r.Raw
	integral := true
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == '.' || c == 'e' || c == 'E' {
			integral = false
			break
		}
	}
	if integral {
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			dest.SetInt(n)
			return
		}
	}
	f := r.Num
	if math.IsInf(f, 0) || math.IsNaN(f) {
		dest.SetStr(raw)
		return
	}
	dest.SetDouble(f)
}
