package armexpr

import "strings"

// logicalFunctions: if, and, or, not, true, false, null and the comparisons.
func logicalFunctions() map[string]function {
	return map[string]function{
		"if":              {min: 3, max: 3, lazy: fnIf},
		"and":             {min: 1, max: -1, lazy: shortCircuit(false)},
		"or":              {min: 1, max: -1, lazy: shortCircuit(true)},
		"not":             converts(toBool, func(b bool) any { return !b }),
		"true":            constant(true),
		"false":           constant(false),
		"null":            constant(nil),
		"equals":          {min: 2, max: 2, call: fnEquals},
		"less":            compare(func(c int) bool { return c < 0 }),
		"lessorequals":    compare(func(c int) bool { return c <= 0 }),
		"greater":         compare(func(c int) bool { return c > 0 }),
		"greaterorequals": compare(func(c int) bool { return c >= 0 }),
	}
}

// fnIf evaluates only the branch it returns.
func fnIf(e *evaluator, name string, args []*node) (any, error) {
	c, err := e.eval(args[0])
	if err != nil {
		return nil, err
	}
	b, err := toBool(c)
	if err != nil {
		return nil, e.fail(name, "", "condition: %v", err)
	}
	if b {
		return e.eval(args[1])
	}
	return e.eval(args[2])
}

// shortCircuit is and (stopAt false) or or (stopAt true): it stops at the
// first argument equal to stopAt and answers it, else !stopAt.
func shortCircuit(stopAt bool) func(e *evaluator, name string, args []*node) (any, error) {
	return func(e *evaluator, name string, args []*node) (any, error) {
		for _, a := range args {
			v, err := e.eval(a)
			if err != nil {
				return nil, err
			}
			b, err := toBool(v)
			if err != nil {
				return nil, e.fail(name, "", "%v", err)
			}
			if b == stopAt {
				return stopAt, nil
			}
		}
		return !stopAt, nil
	}
}

func fnEquals(_ *evaluator, _ string, args []any) (any, error) {
	return equal(args[0], args[1]), nil
}

// compare orders two values as integers when either is a number, else as
// strings, and answers ok(sign of the comparison).
func compare(ok func(c int) bool) function {
	return function{2, 2, func(e *evaluator, name string, args []any) (any, error) {
		var c int
		if isNumber(args[0]) || isNumber(args[1]) {
			a, err1 := toInt(args[0])
			b, err2 := toInt(args[1])
			if err1 != nil || err2 != nil {
				return nil, e.fail(name, "", "cannot compare %s and %s", typeName(args[0]), typeName(args[1]))
			}
			c = cmpInt(a, b)
		} else {
			c = strings.Compare(toStr(args[0]), toStr(args[1]))
		}
		return ok(c), nil
	}, nil}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
