package poller

import (
	"github.com/tidwall/gjson"

	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/jsonpath"
	"github.com/otelcol-ccp/otelcol-ccp/internal/pdatajson/jsonscan"
)

// docPath is a compiled JSONPath of the definition. A path made only of member names
// ("$.data", "$.next_page_token", the usual case) is looked up through the page's index of
// its root members, so the events path, the next-page token and the flags of one page cost one
// scan of the body together instead of one scan each.
type docPath struct {
	*jsonpath.Path
	fields []string // the member names, nil when the path has other steps
}

func compilePath(src string) (*docPath, error) {
	p, err := jsonpath.Compile(src)
	if err != nil {
		return nil, err
	}
	fields, _ := p.Fields()
	return &docPath{Path: p, fields: fields}, nil
}

// selectWarn is jsonpath's SelectStringWarn on the page.
func (p *docPath) selectWarn(d *pageDoc, max int, warn func(jsonpath.CompareWarning)) ([]gjson.Result, error) {
	if p.fields == nil || d.unindexed() {
		return p.SelectStringWarn(d.str(), max, warn)
	}
	if v, ok := d.lookup(p.fields); ok {
		return []gjson.Result{gjson.Parse(v)}, nil
	}
	return nil, nil
}

// scalar is jsonpath's ScalarString on the page.
func (p *docPath) scalar(d *pageDoc) (string, bool) {
	if p.fields == nil || d.unindexed() {
		return p.ScalarString(d.str())
	}
	if v, ok := d.lookup(p.fields); ok {
		return jsonpath.ScalarOf(gjson.Parse(v))
	}
	return "", false
}

// pageDoc is one page's decoded body (valid JSON) and, from its first lookup on, the index of
// its root object's members.
type pageDoc struct {
	text    string
	state   uint8 // docNew, docObject, docOther (not an object: no member matches), docBad
	members []member
}

const (
	docNew uint8 = iota
	docObject
	docOther
	docBad
)

type member struct {
	name       string
	start, end int
}

func (d *pageDoc) str() string {
	if d == nil {
		return ""
	}
	return d.text
}

// unindexed says lookups must go through jsonpath: the body could not be indexed (it is
// always valid JSON, so this is a safety net) or there is none.
func (d *pageDoc) unindexed() bool {
	if d == nil {
		return true
	}
	if d.state == docNew {
		d.index()
	}
	return d.state == docBad
}

func (d *pageDoc) index() {
	i := jsonscan.SkipSpace(d.text, 0)
	if i >= len(d.text) || d.text[i] != '{' {
		d.state = docOther
		return
	}
	d.state = docObject
	if !jsonscan.Members(d.text, i, func(name string, start, end int) bool {
		d.members = append(d.members, member{name, start, end})
		return true
	}) {
		d.state, d.members = docBad, nil
	}
}

// lookup follows names from the root, taking on each object the last member of each name
// (duplicates: the last wins, as in jsonpath and Json.NET); it returns the value's text.
func (d *pageDoc) lookup(names []string) (string, bool) {
	if d.state != docObject {
		return "", false
	}
	v, found := "", false
	for k := len(d.members) - 1; k >= 0; k-- {
		if m := d.members[k]; m.name == names[0] {
			v, found = d.text[m.start:m.end], true
			break
		}
	}
	for _, name := range names[1:] {
		if !found {
			break
		}
		obj := v
		found = false
		jsonscan.Members(obj, 0, func(n string, start, end int) bool {
			if n == name {
				v, found = obj[start:end], true
			}
			return true
		})
	}
	return v, found
}
