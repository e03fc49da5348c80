package definition

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Fields gives case-insensitive, alias-aware, type-tolerant access to one JSON object of a
// definition. Real connector files spell keys in two naming generations and in any case
// ("Paging", "pageSizeParaName", "rateLimitQps"), and give booleans and numbers as strings;
// Fields absorbs all of that and remembers which keys were read so the rest can be reported.
type Fields struct {
	path string
	m    map[string]any
	keys map[string]string // normalised key -> original key (last one wins, as Json.NET does)
	used map[string]bool
	errs *[]error
}

func norm(k string) string { return strings.ToLower(strings.TrimSpace(k)) }

// NewFields wraps a decoded JSON/YAML object. path names the object in messages ("auth").
func NewFields(path string, m map[string]any) *Fields {
	f := &Fields{path: path, m: m, keys: map[string]string{}, used: map[string]bool{}, errs: new([]error)}
	for k := range m {
		f.keys[norm(k)] = k
	}
	return f
}

func (f *Fields) child(name string, m map[string]any) *Fields {
	c := NewFields(f.path+"."+name, m)
	c.errs = f.errs
	return c
}

// Path is the object's location in the definition, for messages.
func (f *Fields) Path() string { return f.path }

// lookup returns the value of the first present alias; JSON null counts as absent.
func (f *Fields) lookup(names ...string) (any, string, bool) {
	if f == nil {
		return nil, "", false
	}
	for _, n := range names {
		nk := norm(n)
		orig, ok := f.keys[nk]
		if !ok {
			continue
		}
		f.used[nk] = true
		v := f.m[orig]
		if v == nil {
			continue
		}
		return v, orig, true
	}
	return nil, "", false
}

// Has reports whether any alias is present with a non-null value.
func (f *Fields) Has(names ...string) bool {
	_, _, ok := f.lookup(names...)
	return ok
}

func (f *Fields) fail(key, format string, a ...any) {
	*f.errs = append(*f.errs, fmt.Errorf("%s.%s: %s", f.path, key, fmt.Sprintf(format, a...)))
}

// String returns a string field; numbers and booleans are stringified.
func (f *Fields) String(names ...string) string {
	s, _ := f.StringOK(names...)
	return s
}

// StringOK is String that also tells whether the field was present (an empty string is present).
func (f *Fields) StringOK(names ...string) (string, bool) {
	v, key, ok := f.lookup(names...)
	if !ok {
		return "", false
	}
	s, ok := scalarString(v)
	if !ok {
		f.fail(key, "expected a string, got %s", kindOf(v))
		return "", false
	}
	return s, true
}

// Bool accepts true/false and the strings "true"/"False" real files use.
func (f *Fields) Bool(names ...string) bool {
	b, _ := f.BoolOK(names...)
	return b
}

// BoolOK is Bool that also tells whether the field was present.
func (f *Fields) BoolOK(names ...string) (bool, bool) {
	v, key, ok := f.lookup(names...)
	if !ok {
		return false, false
	}
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		if strings.TrimSpace(t) == "" {
			return false, false
		}
		b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(t)))
		if err != nil {
			f.fail(key, "expected a boolean, got %q", t)
			return false, false
		}
		return b, true
	}
	f.fail(key, "expected a boolean, got %s", kindOf(v))
	return false, false
}

// Float accepts numbers and numeric strings.
func (f *Fields) Float(names ...string) (float64, bool) {
	v, key, ok := f.lookup(names...)
	if !ok {
		return 0, false
	}
	switch t := v.(type) {
	case float64:
		return t, true
	case float32:
		return float64(t), true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case uint64:
		return float64(t), true
	case json.Number:
		x, err := t.Float64()
		if err == nil {
			return x, true
		}
	case string:
		if strings.TrimSpace(t) == "" {
			return 0, false
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err == nil {
			return x, true
		}
	}
	f.fail(key, "expected a number, got %v", v)
	return 0, false
}

// Int accepts integers, integral floats and numeric strings.
func (f *Fields) Int(names ...string) (int, bool) {
	x, ok := f.Float(names...)
	if !ok {
		return 0, false
	}
	if x != float64(int64(x)) {
		_, key, _ := f.lookup(names...)
		f.fail(key, "expected an integer, got %v", x)
		return 0, false
	}
	return int(x), true
}

// Object returns a nested object, or nil when absent.
func (f *Fields) Object(names ...string) *Fields {
	v, key, ok := f.lookup(names...)
	if !ok {
		return nil
	}
	m, ok := asMap(v)
	if !ok {
		f.fail(key, "expected an object, got %s", kindOf(v))
		return nil
	}
	return f.child(key, m)
}

// Params returns a map-valued field (headers, queryParameters) with its keys kept as written,
// sorted by name so requests are deterministic; null values are dropped.
func (f *Fields) Params(names ...string) []Param {
	v, key, ok := f.lookup(names...)
	if !ok {
		return nil
	}
	m, ok := asMap(v)
	if !ok {
		f.fail(key, "expected an object of name/value pairs, got %s", kindOf(v))
		return nil
	}
	out := make([]Param, 0, len(m))
	for k, val := range m {
		if val == nil {
			continue
		}
		out = append(out, Param{Name: k, Value: val})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Strings returns a list of strings; a single string is accepted as a one-element list.
func (f *Fields) Strings(names ...string) []string {
	v, key, ok := f.lookup(names...)
	if !ok {
		return nil
	}
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := scalarString(e)
			if !ok {
				f.fail(key, "expected a list of strings, found %s", kindOf(e))
				return nil
			}
			out = append(out, s)
		}
		return out
	case []string:
		return t
	}
	f.fail(key, "expected a list of strings, got %s", kindOf(v))
	return nil
}

// Ints returns a list of integers (successStatusCodes).
func (f *Fields) Ints(names ...string) []int {
	ss := f.Strings(names...)
	out := make([]int, 0, len(ss))
	for _, s := range ss {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			_, key, _ := f.lookup(names...)
			f.fail(key, "expected a list of integers, found %q", s)
			return nil
		}
		out = append(out, n)
	}
	return out
}

// Raw returns the value as decoded, for fields whose shape varies.
func (f *Fields) Raw(names ...string) (any, bool) {
	v, _, ok := f.lookup(names...)
	return v, ok
}

// Unused lists the keys that nothing read, for the "unknown key" warning.
func (f *Fields) Unused() []string {
	if f == nil {
		return nil
	}
	var out []string
	for nk, orig := range f.keys {
		if !f.used[nk] {
			out = append(out, f.path+"."+orig)
		}
	}
	sort.Strings(out)
	return out
}

// Errors returns the type errors met so far in this object tree.
func (f *Fields) Errors() []error {
	if f == nil {
		return nil
	}
	return *f.errs
}

// Param is one name/value pair of a headers or queryParameters map. Value keeps its JSON type
// so a JSON body can carry numbers, while URLs use ValueString.
type Param struct {
	Name  string
	Value any
}

// ValueString renders the value as text the way CCP does for query strings.
func (p Param) ValueString() string {
	if s, ok := scalarString(p.Value); ok {
		return s
	}
	b, _ := json.Marshal(p.Value)
	return string(b)
}

func scalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(t), 'f', -1, 32), true
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case uint64:
		return strconv.FormatUint(t, 10), true
	case json.Number:
		return t.String(), true
	}
	return "", false
}

func asMap(v any) (map[string]any, bool) {
	switch t := v.(type) {
	case map[string]any:
		return t, true
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, val := range t {
			m[fmt.Sprint(k)] = val
		}
		return m, true
	}
	return nil, false
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
