package armexpr

// numericFunctions: integer arithmetic on int64, as ARM's.
func numericFunctions() map[string]function {
	return map[string]function{
		"add": arith(false, func(a, b int64) int64 { return a + b }),
		"sub": arith(false, func(a, b int64) int64 { return a - b }),
		"mul": arith(false, func(a, b int64) int64 { return a * b }),
		"div": arith(true, func(a, b int64) int64 { return a / b }),
		"mod": arith(true, func(a, b int64) int64 { return a % b }),
	}
}

// arith is a function of two integers; divides refuses a zero divisor and
// the one quotient that overflows (MinInt64 / -1) instead of panicking.
func arith(divides bool, op func(a, b int64) int64) function {
	return function{2, 2, func(e *evaluator, name string, args []any) (any, error) {
		a, err := toInt(args[0])
		if err != nil {
			return nil, e.fail(name, "", "%v", err)
		}
		b, err := toInt(args[1])
		if err != nil {
			return nil, e.fail(name, "", "%v", err)
		}
		if divides && (b == 0 || (a == -1<<63 && b == -1)) {
			return nil, e.fail(name, "", "division by zero or overflow")
		}
		return op(a, b), nil
	}, nil}
}
