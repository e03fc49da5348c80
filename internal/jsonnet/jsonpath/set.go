package jsonpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// ErrNotSimplePath is returned by SetInBody for paths that are not a plain
// chain of property names.
var ErrNotSimplePath = errors.New("jsonpath: only simple member paths ($.a.b, $['a'].b) can be set")

// IsBodyPath reports whether a paging parameter name is a JSONPath into the
// request body ("$.variables.after", "$['x']") rather than a plain name.
// Names such as "$page" are plain names, as in Json.NET.
func IsBodyPath(name string) bool {
	return strings.HasPrefix(name, "$.") || strings.HasPrefix(name, "$[")
}

// SetInBody sets value at a simple JSONPath (property names only, e.g.
// "$.variables.after", "$.request_data.search_from", or a bare "scrollId")
// inside a JSON object body, creating intermediate objects as needed and
// keeping the order of existing keys. An empty body is treated as {}.
// value may be a string, number, bool, nil, json.RawMessage (inserted
// verbatim, must be valid JSON) or anything encoding/json can marshal.
// If an intermediate value exists but is not an object, it is replaced by an
// object.
func SetInBody(body []byte, path string, value any) ([]byte, error) {
	p, err := Compile(path)
	if err != nil {
		return nil, err
	}
	if len(p.steps) == 0 {
		return nil, fmt.Errorf("%w: %q selects the root", ErrNotSimplePath, path)
	}
	names := make([]string, len(p.steps))
	for i, s := range p.steps {
		if s.kind != stepField {
			return nil, fmt.Errorf("%w: %q", ErrNotSimplePath, path)
		}
		names[i] = s.name
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if !gjson.ValidBytes(body) {
		return nil, errors.New("jsonpath: SetInBody: body is not valid JSON")
	}
	if !isObject(gjson.ParseBytes(body)) {
		return nil, errors.New("jsonpath: SetInBody: body is not a JSON object")
	}
	// Replace non-object intermediates so sjson does not index into arrays
	// or fail on scalars.
	for i := 1; i < len(names); i++ {
		cur := gjson.GetBytes(body, escapePath(names[:i], false))
		if cur.Exists() && !isObject(cur) {
			body, err = sjson.SetRawBytes(body, escapePath(names[:i], true), []byte("{}"))
			if err != nil {
				return nil, fmt.Errorf("jsonpath: SetInBody %q: %w", path, err)
			}
		}
	}
	sp := escapePath(names, true)
	var raw []byte
	switch v := value.(type) {
	case json.RawMessage:
		if !json.Valid(v) {
			return nil, errors.New("jsonpath: SetInBody: raw value is not valid JSON")
		}
		raw = v
	default:
		raw, err = json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("jsonpath: SetInBody %q: %w", path, err)
		}
	}
	out, err := sjson.SetRawBytes(body, sp, raw)
	if err != nil {
		return nil, fmt.Errorf("jsonpath: SetInBody %q: %w", path, err)
	}
	return out, nil
}

// escapePath joins property names into a gjson/sjson path, backslash-escaping
// path metacharacters. With force (sjson only) every component is marked as
// an object key (":" prefix) so numeric names do not create arrays.
func escapePath(names []string, force bool) string {
	var sb strings.Builder
	for i, n := range names {
		if i > 0 {
			sb.WriteByte('.')
		}
		if force {
			sb.WriteByte(':')
		}
		for j := 0; j < len(n); j++ {
			switch c := n[j]; c {
			case '.', '|', '#', '@', '*', '?', '\\', ':', '!', '=', '<', '>', '%', '[', ']', '{', '}', '(', ')', ',', '"':
				sb.WriteByte('\\')
				sb.WriteByte(c)
			default:
				sb.WriteByte(c)
			}
		}
	}
	return sb.String()
}
