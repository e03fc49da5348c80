package kql

import (
	"strings"

	"github.com/tidwall/gjson"
)

// function is one supported KQL function: its arity and what it computes from evaluated
// arguments.
type function struct {
	min, max int
	fn       func(args []gjson.Result) gjson.Result
}

// funcs is the supported function set, by lower-case name.
var funcs = map[string]function{
	"parse_json": {1, 1, func(a []gjson.Result) gjson.Result { return parseJSON(a[0]) }},
	"todynamic":  {1, 1, func(a []gjson.Result) gjson.Result { return parseJSON(a[0]) }},
	"tostring":   {1, 1, func(a []gjson.Result) gjson.Result { return strVal(toString(a[0])) }},
	"toint":      {1, 1, func(a []gjson.Result) gjson.Result { return toInt(a[0], 32) }},
	"tolong":     {1, 1, func(a []gjson.Result) gjson.Result { return toInt(a[0], 64) }},
	"isempty":    {1, 1, func(a []gjson.Result) gjson.Result { return boolVal(isEmpty(a[0])) }},
	"isnotempty": {1, 1, func(a []gjson.Result) gjson.Result { return boolVal(!isEmpty(a[0])) }},
	"isnull":     {1, 1, func(a []gjson.Result) gjson.Result { return boolVal(isNull(a[0])) }},
	"isnotnull":  {1, 1, func(a []gjson.Result) gjson.Result { return boolVal(!isNull(a[0])) }},
	"not":        {1, 1, func(a []gjson.Result) gjson.Result { return boolVal(a[0].Type != gjson.True) }},
	"strcat":     {1, 64, strcat},
	"coalesce":   {1, 64, coalesce},
}

func strcat(args []gjson.Result) gjson.Result {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(toString(a))
	}
	return strVal(b.String())
}

// coalesce is the first argument that is neither null nor the empty string, else null.
func coalesce(args []gjson.Result) gjson.Result {
	for _, a := range args {
		if !isEmpty(a) {
			return a
		}
	}
	return gjson.Result{}
}
