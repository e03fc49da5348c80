package ccpreceiver

import (
	"fmt"
	"reflect"
)

// plainValues returns a copy of a free-form config tree (polling_config) in which confmap's
// expanded-value wrappers are replaced by their values. confmap unwraps ${env:X} results for
// typed fields only; inside a map[string]any a numeric or boolean ${env:X} arrives as a
// struct {Value any; Original string}, which the definition parser would refuse.
func plainValues(v any, depth int) any {
	if depth > 128 {
		return v
	}
	switch t := v.(type) {
	case nil, string, bool, int, int64, float64, uint64:
		return v
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = plainValues(x, depth+1)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = plainValues(x, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = plainValues(x, depth+1)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Struct {
		if val := rv.FieldByName("Value"); val.IsValid() && val.CanInterface() {
			if orig := rv.FieldByName("Original"); orig.IsValid() && orig.Kind() == reflect.String {
				return plainValues(val.Interface(), depth+1)
			}
		}
	}
	return v
}
