package nested

import (
	"slices"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/kql"
)

// parseStep parses a step's poller object; a variable so that a test can count the parses.
var parseStep = definition.Parse

// typedKeys are the request fields whose placeholders childDef fills in the parsed
// definition; a placeholder anywhere else makes every call parse the step again.
var typedKeys = []string{"apiendpoint", "headers", "queryparameters", "queryparameterstemplate"}

// template parses the node's step once, its $placeholders$ as written, when every placeholder
// it fills stands in a field childDef can fill in the parsed definition. nil otherwise: each
// call then parses the step with its placeholders filled (which reads them as numbers,
// booleans, ... where they stand).
func template(n *node) *definition.Definition {
	for k, v := range n.step.Request {
		if slices.Contains(typedKeys, strings.ToLower(strings.TrimSpace(k))) {
			continue
		}
		refs := map[string]bool{}
		collectRefs(v, refs, 0)
		for _, u := range n.used {
			if refs[u] {
				return nil
			}
		}
	}
	def, err := parseStep(n.step.Props(nil), n.step.Path)
	if err != nil {
		return nil
	}
	// The step's own rate is kept by its transport; the engine uses the connector's Limiter.
	def.Request.RateLimitQPS = 0
	return def
}

// childDef is the definition of one child call: the node's template with the row's
// placeholders filled in (escaped for where they land, see substituteField), or, without a
// template, the step parsed with them filled in.
func childDef(n *node, row kql.Row) (*definition.Definition, error) {
	if n.tmpl == nil {
		def, err := parseStep(n.step.Props(filler(row, n.used)), n.step.Path)
		if err != nil {
			return nil, err
		}
		def.Request.RateLimitQPS = 0
		return def, nil
	}
	d := *n.tmpl
	q := &d.Request
	if len(n.used) > 0 {
		q.APIEndpoint = strings.TrimSpace(substituteURL(q.APIEndpoint, row, n.used))
		q.Headers = fillParams(q.Headers, row, n.used, headerSafe)
		q.QueryParameters = fillParams(q.QueryParameters, row, n.used, verbatim)
		q.QueryParametersTemplate = substituteTemplate(q.QueryParametersTemplate, row, n.used)
	}
	if err := definition.CheckEndpoint(n.step.Path, q.APIEndpoint); err != nil {
		return nil, err
	}
	return &d, nil
}

// fillParams fills placeholders in the names and values of params, in name order as
// definition.Fields.Params gives them.
func fillParams(params []definition.Param, row kql.Row, used []string, esc func(string) string) []definition.Param {
	if len(params) == 0 {
		return params
	}
	out := make([]definition.Param, len(params))
	for i, p := range params {
		out[i] = definition.Param{Name: replacePlaceholders(p.Name, row, used, esc), Value: substituteTree(p.Value, row, used, esc, 0)}
	}
	slices.SortFunc(out, func(a, b definition.Param) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func verbatim(s string) string { return s }
