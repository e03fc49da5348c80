package connectorfile

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// UI is what a connector's connectorUiConfig tells a person about it: the connector page of
// the ccp_status extension shows it. Every string is as written in the file (untrusted): a
// reader must escape or sanitize it. {{graphQueriesTableName}} is replaced by the table name.
type UI struct {
	ID                  string // connectorUiConfig.id
	Kind                string // the poller's kind (RestApiPoller, APIPolling), set even when ok is false
	Title               string
	Publisher           string
	DescriptionMarkdown string
	TableName           string // graphQueriesTableName
	DataTypes           []string
	SampleQueries       []SampleQuery
	Prerequisites       []Prerequisite
	Instructions        []Instruction
}

// SampleQuery is one of sampleQueries.
type SampleQuery struct {
	Description, Query string
}

// Prerequisite is one permission or custom prerequisite (permissions.resourceProvider and
// permissions.customs).
type Prerequisite struct {
	Name, Description string
}

// Instruction is one of instructionSteps (innerSteps flattened after their parent, with Depth).
type Instruction struct {
	Title, Description string
	Depth              int
}

// LoadUI reads the connectorUiConfig that belongs to one poller of a connector file: the one
// inside the poller's own resource (legacy APIPolling), else the one whose id matches the
// poller's connectorDefinitionName, else the nearest one in the file (a dataConnectorDefinitions
// resource beside the poller). pollerName selects the poller like the ccp receiver's connector
// key (name, case-insensitive, or index; "" for the only poller); a name that matches no
// poller (a name only resolved with parameters) still finds a file's only connectorUiConfig.
// ok is false when the file holds no connectorUiConfig.
func LoadUI(path, pollerName string) (ui UI, ok bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return UI{}, false, err
	}
	if fi.Size() > maxFileSize {
		return UI{}, false, fmt.Errorf("%s: file larger than %d bytes", path, maxFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return UI{}, false, err
	}
	tree, err := ParseJSON(data)
	if err != nil {
		return UI{}, false, fmt.Errorf("%s: %w", path, err)
	}
	pollers, err := FromTree(tree, path)
	if err != nil {
		return UI{}, false, err
	}
	var found []uiCandidate
	collectUI(tree, "", 0, &found)
	p, err := findPoller(pollers, pollerName)
	if err != nil {
		if len(found) != 1 {
			return UI{}, false, fmt.Errorf("%s: %w", path, err)
		}
		p = Poller{Path: "\x00"} // the file's only connectorUiConfig
	}
	c, ok := chooseUI(found, p)
	if !ok {
		return UI{Kind: p.Kind}, false, nil
	}
	ui = uiOf(c.ui)
	ui.Kind = p.Kind
	return ui, true, nil
}

func findPoller(pollers []Poller, want string) (Poller, error) {
	if want == "" && len(pollers) == 1 {
		return pollers[0], nil
	}
	for _, p := range pollers {
		if want != "" && strings.EqualFold(p.Name, want) {
			return p, nil
		}
	}
	for _, p := range pollers {
		if want == fmt.Sprint(p.Index) {
			return p, nil
		}
	}
	return Poller{}, fmt.Errorf("no poller %q among %d", want, len(pollers))
}

type uiCandidate struct {
	path string
	ui   map[string]any
}

func collectUI(v any, path string, depth int, out *[]uiCandidate) {
	if depth > maxDepth {
		return
	}
	switch t := v.(type) {
	case []any:
		for i, x := range t {
			collectUI(x, fmt.Sprintf("%s[%d]", path, i), depth+1, out)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if m, ok := t[k].(map[string]any); ok && strings.EqualFold(k, "connectorUiConfig") {
				*out = append(*out, uiCandidate{path: join(path, k), ui: m})
				continue
			}
			collectUI(t[k], join(path, k), depth+1, out)
		}
	}
}

func chooseUI(cands []uiCandidate, p Poller) (uiCandidate, bool) {
	if len(cands) == 0 {
		return uiCandidate{}, false
	}
	own := join(join(p.Path, "properties"), "connectorUiConfig")
	for _, c := range cands {
		if c.path == own || (p.Path == "" && c.path == "connectorUiConfig") {
			return c, true
		}
	}
	if def := getStr(p.Properties, "connectorDefinitionName"); def != "" {
		for _, c := range cands {
			if strings.EqualFold(getStr(c.ui, "id"), def) {
				return c, true
			}
		}
	}
	best, bestLen := cands[0], -1
	for _, c := range cands {
		if n := commonPrefix(c.path, p.Path); n > bestLen {
			best, bestLen = c, n
		}
	}
	return best, true
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func uiOf(m map[string]any) UI {
	table := getStr(m, "graphQueriesTableName")
	sub := func(s string) string {
		if table == "" {
			return s
		}
		return strings.ReplaceAll(s, "{{graphQueriesTableName}}", table)
	}
	ui := UI{ID: getStr(m, "id"), Title: sub(getStr(m, "title")), Publisher: sub(getStr(m, "publisher")),
		DescriptionMarkdown: sub(getStr(m, "descriptionMarkdown")), TableName: table}
	for _, x := range objects(m, "dataTypes") {
		if n := sub(getStr(x, "name")); n != "" {
			ui.DataTypes = append(ui.DataTypes, n)
		}
	}
	for _, x := range objects(m, "sampleQueries") {
		ui.SampleQueries = append(ui.SampleQueries, SampleQuery{Description: sub(getStr(x, "description")), Query: sub(getStr(x, "query"))})
	}
	perms := getMap(m, "permissions")
	for _, x := range objects(perms, "resourceProvider") {
		name := nonEmpty(getStr(x, "providerDisplayName"), getStr(x, "provider"))
		ui.Prerequisites = append(ui.Prerequisites, Prerequisite{Name: sub(name), Description: sub(getStr(x, "permissionsDisplayText"))})
	}
	for _, x := range objects(perms, "customs") {
		ui.Prerequisites = append(ui.Prerequisites, Prerequisite{Name: sub(getStr(x, "name")), Description: sub(getStr(x, "description"))})
	}
	ui.Instructions = instructions(objects(m, "instructionSteps"), 0, sub)
	return ui
}

func instructions(steps []map[string]any, depth int, sub func(string) string) []Instruction {
	if depth > 10 {
		return nil
	}
	var out []Instruction
	for _, s := range steps {
		out = append(out, Instruction{Title: sub(getStr(s, "title")), Description: sub(getStr(s, "description")), Depth: depth})
		out = append(out, instructions(objects(s, "innerSteps"), depth+1, sub)...)
	}
	return out
}

// objects returns the objects of m[key] when it is an array (an object alone counts as one).
func objects(m map[string]any, key string) []map[string]any {
	if m == nil {
		return nil
	}
	v, _ := get(m, key)
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}
	case []any:
		out := make([]map[string]any, 0, len(t))
		for _, x := range t {
			if o, ok := x.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}
