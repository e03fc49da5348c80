package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
)

// paramShape is the form an ARM object or array parameter takes under the receiver's
// parameters: a YAML map of the members the poller reads, or a YAML list.
type paramShape struct {
	kind    string   // "object", "array", or "" for a plain value
	members []string // object: the members the poller reads, in file order
}

// shapeOf tells an object or array parameter from its dummy (the resolver makes a map for
// an object-typed declaration or a member read, a list for an array type) and the members
// the poller reads (connectorfile.ObjectMembers).
func shapeOf(m connectorfile.Missing, reads map[string][]string) paramShape {
	if m.Kind != "parameter" {
		return paramShape{}
	}
	switch v := m.Value.(type) {
	case map[string]any:
		members := reads[strings.ToLower(m.Name)]
		if len(members) == 0 {
			members = sortedKeys(v)
		}
		return paramShape{kind: "object", members: members}
	case []any:
		return paramShape{kind: "array"}
	}
	return paramShape{}
}

// describe names a parameter with its shape: "object parameter dcrConfig {a, b}".
func (s paramShape) describe(name string) string {
	switch s.kind {
	case "object":
		return fmt.Sprintf("object parameter %s {%s}", name, strings.Join(s.members, ", "))
	case "array":
		return fmt.Sprintf("array parameter %s [...]", name)
	}
	return name
}

// writeShaped writes an object parameter as a YAML map (one line per member) or an array
// parameter as a YAML flow list. Values come from --parameters: the object as JSON, its
// members as "name.member" (dcrConfig's also under their own names), the list as JSON or
// comma-separated. A secret member or array is read from the environment (env registers
// the variable and returns the reference).
func writeShaped(buf *bytes.Buffer, in input, params map[string]string, env func(string) string) {
	key := yq(in.name)
	given, hasGiven := lookupParam(params, in.name)
	if in.shape.kind == "array" {
		switch {
		case in.secret:
			fmt.Fprintf(buf, "    %s: %s # a JSON or comma-separated list\n", key, yq(env(in.name)))
		case hasGiven:
			fmt.Fprintf(buf, "    %s: %s\n", key, yamlList(given))
		default:
			fmt.Fprintf(buf, "    %s: [] # required: no value given (--parameters %s=a,b)\n", key, in.name)
		}
		return
	}
	var obj map[string]any
	if hasGiven {
		_ = json.Unmarshal([]byte(given), &obj)
	}
	members := append([]string(nil), in.shape.members...)
	for _, k := range sortedKeys(obj) {
		if !containsFold(members, k) {
			members = append(members, k)
		}
	}
	if len(members) == 0 {
		fmt.Fprintf(buf, "    %s: {} # required: the file reads no member by name; give the object as a YAML map\n", key)
		return
	}
	fmt.Fprintf(buf, "    %s:\n", key)
	for _, m := range members {
		v, ok := memberValue(obj, params, in.name, m)
		switch {
		case in.secret || secretish(m):
			fmt.Fprintf(buf, "      %s: %s\n", yq(m), yq(env(in.name+"_"+m)))
		case ok:
			fmt.Fprintf(buf, "      %s: %s\n", yq(m), v)
		default:
			fmt.Fprintf(buf, "      %s: \"\" # required: no value given (--parameters %s.%s=...)\n", yq(m), in.name, m)
		}
	}
}

// memberValue finds a member's value as a YAML scalar: in the object given as JSON, under
// "object.member", or, for dcrConfig, under the member's own name.
func memberValue(obj map[string]any, params map[string]string, name, member string) (string, bool) {
	for k, v := range obj {
		if strings.EqualFold(k, member) {
			return yamlScalar(v), true
		}
	}
	if v, ok := lookupParam(params, name+"."+member); ok {
		return yamlScalar(v), true
	}
	if strings.EqualFold(name, "dcrConfig") {
		if v, ok := lookupParam(params, member); ok {
			return yamlScalar(v), true
		}
	}
	return "", false
}

// yamlList renders a list given as JSON or as comma-separated text as a YAML flow list.
func yamlList(s string) string {
	var items []any
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &items); err != nil {
		items = nil
		for _, part := range strings.Split(s, ",") {
			items = append(items, strings.TrimSpace(part))
		}
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = yamlScalar(it)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// yamlScalar renders a string quoted with "$" escaped for the collector's expansion, and
// anything else as JSON (valid YAML).
func yamlScalar(v any) string {
	if s, ok := v.(string); ok {
		return yq(strings.ReplaceAll(s, "$", "$$"))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return `""`
	}
	return strings.ReplaceAll(string(b), "$", "$$")
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// dummyLine is how validate names an input it filled with a dummy.
func dummyLine(m connectorfile.Missing, reads map[string][]string) string {
	s := shapeOf(m, reads).describe(m.Name)
	if m.Label != "" {
		s += " (" + m.Label + ")"
	}
	return s
}
