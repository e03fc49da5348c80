package ccpstatusextension

import (
	"bytes"
	"html"
	"html/template"
	"net/url"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// maxMarkdown bounds the description rendered (a definition file is untrusted input).
const maxMarkdown = 64 << 10

// md renders CommonMark without raw HTML (goldmark's default: raw HTML becomes a comment) and
// with only http, https and mailto links; images become their alt text (the page loads nothing
// from elsewhere, so the CSP stays quiet).
var md = goldmark.New(goldmark.WithParserOptions(
	parser.WithASTTransformers(util.Prioritized(linkFilter{}, 0)),
))

// renderMarkdown returns sanitized HTML for a description from a definition file.
func renderMarkdown(src string) template.HTML {
	if len(src) > maxMarkdown {
		src = src[:maxMarkdown]
	}
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>") //nolint:gosec // escaped
	}
	return template.HTML(buf.String()) //nolint:gosec // goldmark without raw HTML, links filtered
}

// safeLink reports whether a link destination may stay a link: http, https, mailto, or a
// relative reference without a scheme.
func safeLink(dest []byte) bool {
	s := strings.TrimSpace(html.UnescapeString(string(dest)))
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return true
	case "":
		return !strings.Contains(strings.SplitN(s, "/", 2)[0], ":")
	}
	return false
}

type linkFilter struct{}

// Transform unwraps links with an unsafe destination and every image (keeping their text).
func (linkFilter) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	var drop []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := n.(type) {
		case *ast.Link:
			if !safeLink(t.Destination) {
				drop = append(drop, n)
			}
		case *ast.Image:
			drop = append(drop, n)
		case *ast.AutoLink:
			if !safeLink(t.URL(reader.Source())) {
				drop = append(drop, n)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, n := range drop {
		unwrap(n, reader.Source())
	}
}

// unwrap replaces n by its children (an autolink by its text).
func unwrap(n ast.Node, source []byte) {
	parent := n.Parent()
	if parent == nil {
		return
	}
	if al, ok := n.(*ast.AutoLink); ok {
		parent.ReplaceChild(parent, n, ast.NewString(al.Label(source)))
		return
	}
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		n.RemoveChild(n, c)
		parent.InsertBefore(parent, n, c)
		c = next
	}
	parent.RemoveChild(parent, n)
}
