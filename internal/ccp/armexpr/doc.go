// Package armexpr evaluates Azure Resource Manager (ARM) template expressions
// the way real Microsoft Sentinel connector files use them: a JSON string that
// is entirely "[expr]" or the escaped (nested-template) form "[[expr]".
//
// Values are the generic JSON values produced by encoding/json (with or
// without UseNumber) or by a YAML decoder: string, bool, nil, json.Number,
// float64, int/int64, []any and map[string]any. Integers produced by the
// evaluator are int64.
//
// Layout: parse.go turns expression text into nodes; eval.go walks them
// (Eval, ResolveTree, parameters and variables with their defaults, the
// value conversions). Functions are a registry (funcs.go): a lower-case name
// maps to its arity and implementation, and apply is a lookup, an arity
// check and a call. Each family has its own file: logical.go (if, and, or,
// not, comparisons), collections.go (arrays and objects), strings.go and
// format.go (strings, hashes, .NET composite formatting), conversion.go
// (int, string, bool, json, base64), numeric.go (arithmetic) and
// deployment.go (parameters, variables, subscription, resourceGroup,
// deployment, tenant, resource ids). Adding a function is one entry in its
// family's table plus a case in registry_test.go.
package armexpr
