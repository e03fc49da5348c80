// Package connectorfile finds Microsoft Sentinel CCP pollers in a connector
// file of any accepted shape and resolves their placeholders and ARM
// expressions before polling.
//
// Accepted shapes: a single dataConnectors resource, an array of them, an ARM
// template (resources[], nested Microsoft.Resources/deployments templates
// under properties.template, solution contentTemplates under
// properties.mainTemplate), legacy APIPolling resources (properties.pollingConfig
// + properties.connectorUiConfig) and a bare pollingConfig / properties
// object. Any object with keys "kind" and "properties" (case-insensitive) is a
// connector resource, except resources whose "type" says they are not data
// connectors (dataConnectorDefinitions are read for their UI instead).
//
// Trees are the generic values of encoding/json with UseNumber (or of a YAML
// decoder); key case is preserved.
package connectorfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
)

// maxDepth bounds recursion over hostile input.
const maxDepth = 200

// maxFileSize bounds what Load reads.
const maxFileSize = 64 << 20

// UIParam is one input the connector's UI asks the user for.
type UIParam struct {
	// Name is the parameter name: a Textbox/Dropdown "name", or a legacy
	// placeholder name without braces ("placeHolder1"), or a Connect API
	// credential name ("apiKey", "username", "password", "clientId", ...).
	Name        string
	Label       string
	Placeholder string
	Password    bool
	// Kind is "textbox", "dropdown", "placeholder" (legacy
	// userRequestPlaceHoldersInput) or "credential" (supplied by the Connect
	// call of a legacy APIKey/BasicAuth/OAuthForm instruction).
	Kind string
	// Options lists a dropdown's values; Multi is set for multi-select.
	Options []string
	Multi   bool
	// Legacy placeholder details.
	PlaceHolderName  string   // as written, e.g. "{{placeHolder1}}"
	RequestObjectKey string   // e.g. "apiEndpoint"
	PollingKeyPaths  []string // e.g. "$.request.queryParameters.test1"
}

// Poller is one connector resource found in a file.
type Poller struct {
	// Name is the resolved resource name's last segment (the connection
	// name); when it cannot be resolved yet it is Kind + "-" + Index.
	Name string
	// Index is the poller's position among the pollers of the file (0-based,
	// document order).
	Index int
	Kind  string
	// Condition is the resource's ARM condition. Load sets it to true unless
	// the condition can already be evaluated; Resolve evaluates it. A false
	// condition means the poller is skipped (not deployed).
	Condition bool
	// Properties are the RestApiPoller properties or, for APIPolling, the
	// pollingConfig (the properties themselves when there is no
	// pollingConfig, as in the walkthrough template).
	Properties map[string]any
	Legacy     bool
	UIParams   []UIParam
	Source     string // file path
	// Path is the JSON path of the resource inside the file ("" for the root).
	Path string
	// FullName is the resolved ARM name ("ws/Microsoft.SecurityInsights/x"),
	// or the raw name when unresolved.
	FullName string
	// ConditionExpr is the raw condition, "" when the resource has none.
	ConditionExpr string

	rawName   any
	rawCond   any
	propsPath string // JSON path of Properties
	scope     *scope
}

// scope is the ARM template a resource belongs to.
type scope struct {
	parameters map[string]any // declarations
	variables  map[string]any
	passed     map[string]any // values passed by an enclosing deployment
	outer      *scope
}

// Load reads a connector file (JSON; a UTF-8 BOM, trailing commas and raw
// control characters inside strings are tolerated) and returns its pollers.
func Load(path string) ([]Poller, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("%s: file larger than %d bytes", path, maxFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := ParseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return FromTree(v, path)
}

// ParseJSON decodes JSON with UseNumber, leniently.
func ParseJSON(data []byte) (any, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	v, err := decode(data)
	if err == nil {
		return v, nil
	}
	fixed := sanitize(data)
	if v2, err2 := decode(fixed); err2 == nil {
		return v2, nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(data, se.Offset)
		return nil, fmt.Errorf("invalid JSON at line %d column %d: %v", line, col, se)
	}
	return nil, fmt.Errorf("invalid JSON: %w", err)
}

func decode(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("invalid JSON: data after the top-level value")
	}
	return v, nil
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// sanitize removes trailing commas before '}' / ']' and escapes raw control
// characters inside strings. One linear pass.
func sanitize(data []byte) []byte {
	out := make([]byte, 0, len(data))
	inStr, esc := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			case c < 0x20:
				out = append(out, fmt.Sprintf(`\u%04x`, c)...)
				continue
			}
			out = append(out, c)
			continue
		}
		switch c {
		case '"':
			inStr = true
		case ',':
			j := i + 1
			for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\r' || data[j] == '\n') {
				j++
			}
			if j < len(data) && (data[j] == '}' || data[j] == ']') {
				continue // drop trailing comma
			}
		}
		out = append(out, c)
	}
	return out
}

// FromTree finds the pollers in an already decoded tree. source names the
// file in errors and in Poller.Source.
func FromTree(v any, source string) ([]Poller, error) {
	w := &walker{source: source}
	if err := w.walk(v, "", nil, 0); err != nil {
		return nil, err
	}
	if len(w.pollers) == 0 {
		if m, ok := v.(map[string]any); ok {
			if p, ok := bare(m, "", 0); ok {
				p.Source = source
				w.pollers = append(w.pollers, p)
			}
		}
	}
	if len(w.pollers) == 0 {
		return nil, fmt.Errorf("%s: no connector resource (object with kind and properties), pollingConfig or poller properties found", source)
	}
	for i := range w.pollers {
		p := &w.pollers[i]
		p.Index = i
		p.Source = source
		if len(p.UIParams) == 0 {
			p.UIParams = append([]UIParam(nil), w.defUI...)
		}
		p.UIParams = dedupeUI(p.UIParams)
		p.initNameAndCondition()
	}
	return w.pollers, nil
}

type walker struct {
	source  string
	pollers []Poller
	defUI   []UIParam // from dataConnectorDefinitions resources
}

func get(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	ks := make([]string, 0, 1)
	for k := range m {
		if strings.EqualFold(strings.TrimSpace(k), key) {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return nil, false
	}
	sort.Strings(ks)
	return m[ks[0]], true
}

func getMap(m map[string]any, key string) map[string]any {
	v, _ := get(m, key)
	r, _ := v.(map[string]any)
	return r
}

func getStr(m map[string]any, key string) string {
	v, _ := get(m, key)
	s, _ := v.(string)
	return s
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isTemplate(m map[string]any) bool {
	r, ok := get(m, "resources")
	if !ok {
		return false
	}
	if _, ok := r.([]any); !ok {
		return false
	}
	for _, k := range []string{"$schema", "contentVersion", "parameters", "variables"} {
		if _, ok := get(m, k); ok {
			return true
		}
	}
	return false
}

func (w *walker) walk(v any, path string, sc *scope, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: %s: JSON nested more than %d levels", w.source, path, maxDepth)
	}
	switch t := v.(type) {
	case []any:
		for i, x := range t {
			if err := w.walk(x, fmt.Sprintf("%s[%d]", path, i), sc, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		if isTemplate(t) {
			inner := &scope{outer: sc}
			inner.parameters = getMap(t, "parameters")
			inner.variables = getMap(t, "variables")
			sc = inner
		}
		kind, hasKind := get(t, "kind")
		props, hasProps := get(t, "properties")
		if hasKind && hasProps {
			ks, kok := kind.(string)
			pm, pok := props.(map[string]any)
			typ := strings.ToLower(getStr(t, "type"))
			switch {
			case kok && pok && (strings.HasSuffix(typ, "dataconnectordefinitions") ||
				(typ == "" && strings.EqualFold(ks, "Customizable") && getMap(pm, "connectorUiConfig") != nil)):
				w.defUI = append(w.defUI, uiFrom(getMap(pm, "connectorUiConfig"), 0)...)
				return nil
			case kok && pok && (typ == "" || strings.HasSuffix(typ, "/dataconnectors")):
				w.pollers = append(w.pollers, newPoller(t, ks, pm, path, sc))
				return nil
			}
		}
		// a deployment passes parameter values to its nested template
		if tm := getMap(t, "template"); tm != nil && isTemplate(tm) {
			if pv := getMap(t, "parameters"); pv != nil {
				inner := &scope{outer: sc, passed: pv,
					parameters: getMap(tm, "parameters"), variables: getMap(tm, "variables")}
				if err := w.walkTemplateBody(tm, join(path, "template"), inner, depth+1); err != nil {
					return err
				}
				for _, k := range slices.Sorted(maps.Keys(t)) {
					if strings.EqualFold(k, "template") {
						continue
					}
					if err := w.walk(t[k], join(path, k), sc, depth+1); err != nil {
						return err
					}
				}
				return nil
			}
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if err := w.walk(t[k], join(path, k), sc, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkTemplateBody walks a template's members with an already built scope.
func (w *walker) walkTemplateBody(tm map[string]any, path string, sc *scope, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: %s: JSON nested more than %d levels", w.source, path, maxDepth)
	}
	for _, k := range slices.Sorted(maps.Keys(tm)) {
		if err := w.walk(tm[k], join(path, k), sc, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func newPoller(res map[string]any, kind string, props map[string]any, path string, sc *scope) Poller {
	p := Poller{Kind: kind, Path: path, scope: sc, Condition: true}
	p.rawName, _ = get(res, "name")
	p.rawCond, _ = get(res, "condition")
	if s, ok := p.rawCond.(string); ok {
		p.ConditionExpr = s
	} else if p.rawCond != nil {
		p.ConditionExpr = fmt.Sprint(p.rawCond)
	}
	p.Legacy = strings.EqualFold(kind, "APIPolling")
	p.Properties = props
	p.propsPath = join(path, "properties")
	if p.Legacy {
		if pc := getMap(props, "pollingConfig"); pc != nil {
			p.Properties = pc
			p.propsPath = join(p.propsPath, "pollingConfig")
		}
	}
	if ui := getMap(props, "connectorUiConfig"); ui != nil {
		p.UIParams = uiFrom(ui, 0)
	}
	return p
}

// bare recognises a top-level object that is not a resource: {pollingConfig,
// connectorUiConfig}, {properties: ...} or a properties/pollingConfig
// object itself ({auth, request, response, ...}).
func bare(m map[string]any, path string, depth int) (Poller, bool) {
	if depth > 3 {
		return Poller{}, false
	}
	if pc := getMap(m, "pollingConfig"); pc != nil {
		p := Poller{Kind: "APIPolling", Legacy: true, Properties: pc, Condition: true,
			Path: path, propsPath: join(path, "pollingConfig")}
		if ui := getMap(m, "connectorUiConfig"); ui != nil {
			p.UIParams = uiFrom(ui, 0)
		}
		return p, true
	}
	if pr := getMap(m, "properties"); pr != nil {
		return bare(pr, join(path, "properties"), depth+1)
	}
	if getMap(m, "request") != nil && (getMap(m, "auth") != nil || getMap(m, "response") != nil) {
		p := Poller{Kind: "RestApiPoller", Properties: m, Condition: true, Path: path, propsPath: path}
		if a := getMap(m, "auth"); a != nil {
			if _, ok := get(a, "authType"); ok {
				p.Kind, p.Legacy = "APIPolling", true
			}
		}
		return p, true
	}
	return Poller{}, false
}

// uiFrom collects inputs from a connectorUiConfig.
func uiFrom(v any, depth int) []UIParam {
	if depth > maxDepth {
		return nil
	}
	var out []UIParam
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			out = append(out, uiFrom(x, depth+1)...)
		}
	case map[string]any:
		typ := strings.ToLower(getStr(t, "type"))
		params := getMap(t, "parameters")
		if params != nil {
			switch typ {
			case "textbox":
				if name := getStr(params, "name"); name != "" {
					out = append(out, UIParam{Name: name, Label: getStr(params, "label"),
						Placeholder: getStr(params, "placeholder"), Kind: "textbox",
						Password: strings.EqualFold(getStr(params, "type"), "password")})
				}
			case "dropdown":
				if name := getStr(params, "name"); name != "" {
					u := UIParam{Name: name, Label: getStr(params, "label"), Placeholder: getStr(params, "placeholder"), Kind: "dropdown"}
					if mv, ok := get(params, "multiSelect"); ok {
						u.Multi = mv == true || mv == "true"
					}
					if opts, ok := get(params, "options"); ok {
						if arr, ok := opts.([]any); ok {
							for _, o := range arr {
								if om, ok := o.(map[string]any); ok {
									if k := getStr(om, "key"); k != "" {
										u.Options = append(u.Options, k)
									}
								}
							}
						}
					}
					out = append(out, u)
				}
			case "apikey":
				out = append(out, UIParam{Name: "apiKey", Label: "API Key", Password: true, Kind: "credential"})
			case "basicauth":
				out = append(out,
					UIParam{Name: "username", Label: "Username", Kind: "credential"},
					UIParam{Name: "password", Label: "Password", Password: true, Kind: "credential"})
			case "oauthform":
				out = append(out,
					UIParam{Name: "clientId", Label: nonEmpty(getStr(params, "clientIdLabel"), "Client ID"), Kind: "credential"},
					UIParam{Name: "clientSecret", Label: nonEmpty(getStr(params, "clientSecretLabel"), "Client Secret"), Password: true, Kind: "credential"})
			}
			if in, ok := get(params, "userRequestPlaceHoldersInput"); ok {
				if arr, ok := in.([]any); ok {
					for _, x := range arr {
						if e, ok := x.(map[string]any); ok {
							out = append(out, placeholderParam(e))
						}
					}
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if strings.EqualFold(k, "parameters") {
				continue
			}
			out = append(out, uiFrom(t[k], depth+1)...)
		}
	}
	return out
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func placeholderParam(e map[string]any) UIParam {
	ph := getStr(e, "placeHolderName")
	u := UIParam{Name: stripBraces(ph), Label: getStr(e, "displayText"), Kind: "placeholder",
		PlaceHolderName: ph, RequestObjectKey: getStr(e, "requestObjectKey")}
	u.PollingKeyPaths = stringList(e, "pollingKeyPaths")
	return u
}

func stringList(m map[string]any, key string) []string {
	v, _ := get(m, key)
	switch t := v.(type) {
	case string:
		if t != "" {
			return []string{t}
		}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func stripBraces(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && len(s) >= 4 {
		return strings.TrimSpace(s[2 : len(s)-2])
	}
	return s
}

func dedupeUI(in []UIParam) []UIParam {
	seen := map[string]bool{}
	var out []UIParam
	for _, u := range in {
		k := u.Kind + "\x00" + strings.ToLower(u.Name)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, u)
	}
	return out
}
