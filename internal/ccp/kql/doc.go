// Package kql holds the subset of the Kusto Query Language that nested CCP steps use in
// stepPlaceholdersParsingKql (spec §7): a query runs over the one-row table source whose column
// data holds one parent record as raw JSON text, and every output column becomes a $column$
// placeholder of the child request. Compile parses a query (lex.go, parse.go, expr.go), Run
// evaluates it over one record (run.go, eval.go, funcs.go, value.go), and Columns lists at load
// time the names a query yields and refuses columns it reads that cannot exist (columns.go).
//
//	source [| op]...                             (Lookout leaves out "source |": the query may start with an operator)
//	op   := project a = expr, b = expr, expr     (unnamed column: c keeps its name, c.x / c['x'] becomes c_x)
//	      | extend a = expr, ...
//	      | project-away col, ...
//	      | project-rename new = old, ...
//	      | mv-expand | mvexpand [bagexpansion=bag|array] [name =] expr, ... [limit N]
//	      | where expr
//	      | take N | limit N
//	expr := column | inherited placeholder name | 'str' | "str" | @'verbatim' | number | true | false | null
//	      | expr.name | expr['name'] | expr["name"] | expr[index]   (negative index counts from the end)
//	      | parse_json(x) | todynamic(x) | tostring(x) | toint(x) | tolong(x)
//	      | isempty(x) | isnotempty(x) | isnull(x) | isnotnull(x) | not(x) | strcat(x, ...) | coalesce(x, ...)
//	      | expr == expr | expr != expr | expr =~ expr | expr !~ expr | expr and expr | expr or expr | (expr)
//
// Values are JSON values (gjson); member access on anything but an object, or a missing key,
// is null. mv-expand: an array yields one row per element; a property bag yields one row per
// key as the single-entry bag {"key": value} (KQL's default bagexpansion=bag), or [key, value]
// with bagexpansion=array; any other value, including null, yields one row unchanged (an
// empty array yields none); several expressions expand in parallel, padded with null.
// parse_json of a string that is not JSON returns the string. tostring renders strings
// unquoted, numbers as written, objects and arrays as compact JSON and null as "". Errors
// quote the query and give a 1-based position. One query yields at most MaxRows rows per
// record; queries are at most 8 KiB with 32 pipe stages and 64 levels of nesting.
package kql
