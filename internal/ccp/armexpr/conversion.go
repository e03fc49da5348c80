package armexpr

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// conversionFunctions: int, string, bool, json and the base64 family.
func conversionFunctions() map[string]function {
	return map[string]function{
		"int":            converts(toInt, func(i int64) any { return i }),
		"string":         {min: 1, max: 1, call: fnString},
		"bool":           converts(toBool, func(b bool) any { return b }),
		"json":           {min: 1, max: 1, call: fnJSON},
		"base64":         onString(func(s string) any { return base64.StdEncoding.EncodeToString([]byte(s)) }),
		"base64tostring": {min: 1, max: 1, call: fnBase64ToString},
		"base64tojson":   {min: 1, max: 1, call: fnBase64ToJSON},
	}
}

// converts is a function of one argument converted by conv; conv's error
// becomes the function's.
func converts[T any](conv func(any) (T, error), result func(T) any) function {
	return function{1, 1, func(e *evaluator, name string, args []any) (any, error) {
		v, err := conv(args[0])
		if err != nil {
			return nil, e.fail(name, "", "%v", err)
		}
		return result(v), nil
	}, nil}
}

func fnString(_ *evaluator, _ string, args []any) (any, error) {
	return toStr(args[0]), nil
}

// fnJSON decodes exactly one JSON value, numbers as json.Number.
func fnJSON(e *evaluator, name string, args []any) (any, error) {
	s, err := e.strArg(name, args[0])
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, e.fail(name, "", "invalid JSON: %v", err)
	}
	if d.More() {
		return nil, e.fail(name, "", "invalid JSON: trailing data")
	}
	return v, nil
}

func fnBase64ToString(e *evaluator, name string, args []any) (any, error) {
	b, err := e.base64Arg(name, args[0])
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// fnBase64ToJSON reports a decoding failure of the JSON as json()'s.
func fnBase64ToJSON(e *evaluator, name string, args []any) (any, error) {
	b, err := e.base64Arg(name, args[0])
	if err != nil {
		return nil, err
	}
	return fnJSON(e, "json", []any{string(b)})
}

// base64Arg decodes padded base64, or unpadded when padding is missing.
func (e *evaluator) base64Arg(name string, v any) ([]byte, error) {
	s, err := e.strArg(name, v)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(s), "="))
		if err != nil {
			return nil, e.fail(name, "", "invalid base64: %v", err)
		}
	}
	return b, nil
}
