package decode

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// xmlNode is one element while converting; children keep document order and repeated names
// are grouped into arrays, as Json.NET's SerializeXmlNode does.
type xmlNode struct {
	name     string
	attrs    []xml.Attr
	text     strings.Builder
	children []*xmlNode
}

// xmlToJSON converts an XML document the way Json.NET does (the converter CCP uses):
// attributes become "@name", text beside attributes or children becomes "#text", an element
// with only text becomes a string, an empty element null, and repeated children an array.
func xmlToJSON(data []byte, maxDepth int) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	root := &xmlNode{}
	stack := []*xmlNode{root}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: XML: %v", ErrInvalid, err)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > maxDepth {
				return nil, fmt.Errorf("%w: XML nested deeper than %d levels", ErrTooDeep, maxDepth)
			}
			n := &xmlNode{name: qname(t.Name), attrs: t.Attr}
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 1 {
				top.text.Write(t)
			}
		}
	}
	if len(root.children) != 1 {
		return nil, fmt.Errorf("%w: XML document needs exactly one root element", ErrInvalid)
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	writeMembers(&buf, root.children)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func qname(n xml.Name) string {
	if n.Space != "" && !strings.Contains(n.Space, "/") {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}

// writeMembers writes children as object members, grouping repeated names into arrays.
func writeMembers(buf *bytes.Buffer, children []*xmlNode) {
	order := []string{}
	groups := map[string][]*xmlNode{}
	for _, c := range children {
		if _, ok := groups[c.name]; !ok {
			order = append(order, c.name)
		}
		groups[c.name] = append(groups[c.name], c)
	}
	for i, name := range order {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, name)
		buf.WriteByte(':')
		g := groups[name]
		if len(g) == 1 {
			writeNode(buf, g[0])
			continue
		}
		buf.WriteByte('[')
		for j, n := range g {
			if j > 0 {
				buf.WriteByte(',')
			}
			writeNode(buf, n)
		}
		buf.WriteByte(']')
	}
}

func writeNode(buf *bytes.Buffer, n *xmlNode) {
	text := strings.TrimSpace(n.text.String())
	switch {
	case len(n.attrs) == 0 && len(n.children) == 0 && text == "":
		buf.WriteString("null")
		return
	case len(n.attrs) == 0 && len(n.children) == 0:
		writeString(buf, text)
		return
	}
	buf.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			buf.WriteByte(',')
		}
		first = false
	}
	for _, a := range n.attrs {
		sep()
		writeString(buf, "@"+qname(a.Name))
		buf.WriteByte(':')
		writeString(buf, a.Value)
	}
	if text != "" {
		sep()
		writeString(buf, "#text")
		buf.WriteByte(':')
		writeString(buf, text)
	}
	if len(n.children) > 0 {
		sep()
		writeMembers(buf, n.children)
	}
	buf.WriteByte('}')
}
