package armexpr

import (
	"strings"
	"unicode/utf8"
)

// collectionFunctions: the array and object functions (concat and contains
// also take strings, as in ARM).
func collectionFunctions() map[string]function {
	return map[string]function{
		"concat":       {min: 0, max: -1, call: fnConcat},
		"contains":     {min: 2, max: 2, call: fnContains},
		"empty":        {min: 1, max: 1, call: fnEmpty},
		"length":       {min: 1, max: 1, call: fnLength},
		"first":        {min: 1, max: 1, call: endOf(true)},
		"last":         {min: 1, max: 1, call: endOf(false)},
		"array":        {min: 1, max: 1, call: fnArray},
		"createarray":  {min: 0, max: -1, call: fnCreateArray},
		"createobject": {min: 0, max: -1, call: fnCreateObject},
		"coalesce":     {min: 0, max: -1, call: fnCoalesce},
	}
}

// fnConcat joins arrays when the first argument is one, strings otherwise;
// mixing the two is an error.
func fnConcat(e *evaluator, name string, args []any) (any, error) {
	if len(args) == 0 {
		return "", nil
	}
	if _, ok := args[0].([]any); ok {
		return e.concatArrays(name, args)
	}
	var b strings.Builder
	for i, a := range args {
		if !isScalar(a) {
			return nil, e.fail(name, "", "argument %d is %s; cannot mix arrays and strings", i+1, typeName(a))
		}
		s := toStr(a)
		if b.Len()+len(s) > maxValueSize {
			return nil, e.fail(name, "", "result too large")
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func (e *evaluator) concatArrays(name string, args []any) (any, error) {
	out := []any{}
	for i, a := range args {
		arr, ok := a.([]any)
		if !ok {
			return nil, e.fail(name, "", "argument %d is %s; cannot mix arrays and strings", i+1, typeName(a))
		}
		if len(out)+len(arr) > maxValueSize {
			return nil, e.fail(name, "", "result too large")
		}
		out = append(out, arr...)
	}
	return out, nil
}

func fnContains(e *evaluator, name string, args []any) (any, error) {
	switch c := args[0].(type) {
	case string:
		return strings.Contains(c, toStr(args[1])), nil
	case []any:
		for _, x := range c {
			if equal(x, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		_, ok := lookupKeyOK(c, toStr(args[1]))
		return ok, nil
	case nil:
		return false, nil
	}
	if isScalar(args[0]) {
		return strings.Contains(toStr(args[0]), toStr(args[1])), nil
	}
	return nil, e.fail(name, "", "cannot search in %s", typeName(args[0]))
}

func fnEmpty(_ *evaluator, _ string, args []any) (any, error) {
	switch c := args[0].(type) {
	case nil:
		return true, nil
	case string:
		return c == "", nil
	case []any:
		return len(c) == 0, nil
	case map[string]any:
		return len(c) == 0, nil
	}
	return false, nil
}

func fnLength(e *evaluator, name string, args []any) (any, error) {
	switch c := args[0].(type) {
	case string:
		return int64(utf8.RuneCountInString(c)), nil
	case []any:
		return int64(len(c)), nil
	case map[string]any:
		return int64(len(c)), nil
	case nil:
		return int64(0), nil
	}
	return nil, e.fail(name, "", "no length for %s", typeName(args[0]))
}

// endOf is first (first=true) or last: the end element of an array or the
// end character of a string.
func endOf(first bool) func(e *evaluator, name string, args []any) (any, error) {
	return func(e *evaluator, name string, args []any) (any, error) {
		switch c := args[0].(type) {
		case []any:
			if len(c) == 0 {
				return nil, nil
			}
			if first {
				return c[0], nil
			}
			return c[len(c)-1], nil
		case string:
			if c == "" {
				return "", nil
			}
			r := []rune(c)
			if first {
				return string(r[0]), nil
			}
			return string(r[len(r)-1]), nil
		}
		return nil, e.fail(name, "", "expects an array or string, got %s", typeName(args[0]))
	}
}

func fnArray(_ *evaluator, _ string, args []any) (any, error) {
	if a, ok := args[0].([]any); ok {
		return a, nil
	}
	return []any{args[0]}, nil
}

func fnCreateArray(_ *evaluator, _ string, args []any) (any, error) {
	out := make([]any, len(args))
	copy(out, args)
	return out, nil
}

func fnCreateObject(e *evaluator, name string, args []any) (any, error) {
	if len(args)%2 != 0 {
		return nil, e.fail(name, "", "needs an even number of arguments")
	}
	out := make(map[string]any, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		out[toStr(args[i])] = args[i+1]
	}
	return out, nil
}

func fnCoalesce(_ *evaluator, _ string, args []any) (any, error) {
	for _, a := range args {
		if a != nil {
			return a, nil
		}
	}
	return nil, nil
}
