package ccpreceiver

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/confmap"
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

// paramNode is one value under parameters as the user wrote it, held as JSON text: a string
// is quoted, a number or boolean is its literal, a map or list is a JSON object or array
// ("" stands for null). Its kind is string so that confmap hands over a ${env:...} result as
// the text it expanded to (a secret of digits keeps its leading zeros), not as a YAML-parsed
// number. confmap decodes scalars and lists through UnmarshalScalar and maps through
// Unmarshal; nested values come back through the same two methods.
type paramNode string

var (
	_ confmap.ScalarUnmarshaler = (*paramNode)(nil)
	_ confmap.Unmarshaler       = (*paramNode)(nil)
)

// UnmarshalScalar reads a string, number, boolean, null or list. Errors name the type,
// never the value: parameters may be secrets.
func (n *paramNode) UnmarshalScalar(sv confmap.ScalarValue) error {
	switch v := sv.GetRaw().(type) {
	case nil:
		*n = ""
	case paramNode: // null: confmap hands over the zero value of the target
		*n = v
	case string:
		*n = paramNode(jsonText(v))
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		*n = paramNode(jsonText(v))
	case []any:
		var items []paramNode
		if err := sv.Unmarshal(&items); err != nil {
			return err
		}
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = it.json()
		}
		*n = paramNode("[" + strings.Join(parts, ",") + "]")
	default:
		return fmt.Errorf("a %T is not a parameter value (want a string, number, boolean, map or list)", v)
	}
	return nil
}

// Unmarshal reads a map into a JSON object with sorted keys.
func (n *paramNode) Unmarshal(conf *confmap.Conf) error {
	var members map[string]paramNode
	if err := conf.Unmarshal(&members); err != nil {
		return err
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonText(k))
		b.WriteByte(':')
		b.WriteString(members[k].json())
	}
	b.WriteByte('}')
	*n = paramNode(b.String())
	return nil
}

func (n paramNode) json() string {
	if n == "" {
		return "null"
	}
	return string(n)
}

// text is the value as the resolver takes it: a string as itself, anything else as JSON
// (the resolver decodes JSON objects and arrays; numbers and booleans are read by the
// declared ARM type).
func (n paramNode) text() string {
	if n == "" {
		return ""
	}
	var s string
	if strings.HasPrefix(string(n), `"`) && json.Unmarshal([]byte(n), &s) == nil {
		return s
	}
	return string(n)
}

func jsonText(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "null" // not reached: strings, numbers and booleans always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// connectorRef is the connector key: a poller name or a zero-based index, which YAML reads
// as an integer (connector: 0).
type connectorRef string

var _ confmap.ScalarUnmarshaler = (*connectorRef)(nil)

func (c *connectorRef) UnmarshalScalar(sv confmap.ScalarValue) error {
	switch v := sv.GetRaw().(type) {
	case nil:
		*c = ""
	case connectorRef: // null: confmap hands over the zero value of the target
		*c = v
	case string:
		*c = connectorRef(v)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		*c = connectorRef(fmt.Sprint(v))
	default:
		return fmt.Errorf("connector: %v is neither a poller name nor a zero-based index (write connector: 0 or connector: MyPoller)", v)
	}
	return nil
}
