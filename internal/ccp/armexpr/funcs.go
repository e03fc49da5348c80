package armexpr

import (
	"fmt"
	"strings"
)

// function is one entry of the registry: its arity and its implementation.
// Most functions get their arguments evaluated (call); a few decide which
// arguments to evaluate themselves (lazy: if, and, or short-circuit).
type function struct {
	min, max int // number of arguments; max < 0: no upper bound
	call     func(e *evaluator, name string, args []any) (any, error)
	lazy     func(e *evaluator, name string, args []*node) (any, error)
}

// registry maps a lower-case function name to its entry. Each family lives
// in its own file; init joins them so that a name registered twice is a
// programming error caught at start-up, not a silent override.
var registry = map[string]function{}

func init() {
	for _, family := range []map[string]function{
		logicalFunctions(), collectionFunctions(), stringFunctions(),
		conversionFunctions(), numericFunctions(), deploymentFunctions(),
	} {
		for name, f := range family {
			if _, dup := registry[name]; dup {
				panic(fmt.Sprintf("armexpr: function %q registered twice", name))
			}
			registry[name] = f
		}
	}
}

func (e *evaluator) call(n *node) (any, error) {
	fn := strings.ToLower(n.str)
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxEvalDepth+maxParseDepth {
		return nil, e.fail(n.str, "", "nested too deeply")
	}
	if f, ok := registry[fn]; ok && f.lazy != nil {
		// lazy functions name themselves in lower case in their messages
		if err := e.arity(fn, len(n.args), f.min, f.max); err != nil {
			return nil, err
		}
		return f.lazy(e, fn, n.args)
	}
	// arguments are evaluated before the name is looked up, so their errors
	// come first even for an unknown function
	args, err := e.args(n)
	if err != nil {
		return nil, err
	}
	v, err := e.apply(n.str, fn, args)
	if err != nil {
		return nil, err
	}
	return e.checkSize(n.str, v)
}

// apply calls the function fn (lower case) with evaluated args; name is the
// function as written, used in messages.
func (e *evaluator) apply(name, fn string, args []any) (any, error) {
	f, ok := registry[fn]
	if !ok || f.call == nil {
		return nil, e.fail(name, "", "unsupported function")
	}
	if err := e.arity(name, len(args), f.min, f.max); err != nil {
		return nil, err
	}
	return f.call(e, name, args)
}

func (e *evaluator) arity(fn string, n, min, max int) error {
	if n >= min && (max < 0 || n <= max) {
		return nil
	}
	switch {
	case max < 0:
		return e.fail(fn, "", "needs at least %d argument(s), got %d", min, n)
	case min == max:
		return e.fail(fn, "", "needs %d argument(s), got %d", min, n)
	}
	return e.fail(fn, "", "needs %d to %d arguments, got %d", min, max, n)
}

func (e *evaluator) checkSize(fn string, v any) (any, error) {
	switch t := v.(type) {
	case string:
		if len(t) > maxValueSize {
			return nil, e.fail(fn, "", "result larger than %d bytes", maxValueSize)
		}
	case []any:
		if len(t) > maxValueSize {
			return nil, e.fail(fn, "", "result larger than %d elements", maxValueSize)
		}
	}
	return v, nil
}

func (e *evaluator) strArg(fn string, v any) (string, error) {
	switch v.(type) {
	case []any, map[string]any:
		return "", e.fail(fn, "", "expects a string, got %s", typeName(v))
	}
	return toStr(v), nil
}

// strArgs converts every argument with strArg; the first refusal wins.
func (e *evaluator) strArgs(fn string, args []any) ([]string, error) {
	strs := make([]string, len(args))
	for i, a := range args {
		s, err := e.strArg(fn, a)
		if err != nil {
			return nil, err
		}
		strs[i] = s
	}
	return strs, nil
}

// constant is a function of no arguments with a fixed value.
func constant(v any) function {
	return function{0, 0, func(*evaluator, string, []any) (any, error) { return v, nil }, nil}
}

// onString is a function of one string argument that cannot fail otherwise.
func onString(f func(s string) any) function {
	return function{1, 1, func(e *evaluator, name string, args []any) (any, error) {
		s, err := e.strArg(name, args[0])
		if err != nil {
			return nil, err
		}
		return f(s), nil
	}, nil}
}
