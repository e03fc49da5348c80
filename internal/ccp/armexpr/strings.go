package armexpr

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// stringFunctions: the string functions, the hashes (uniqueString, guid,
// newGuid) and utcNow. format's .NET composite formatting is in format.go.
func stringFunctions() map[string]function {
	return map[string]function{
		"format":      {min: 1, max: -1, call: fnFormat},
		"tolower":     onString(func(s string) any { return strings.ToLower(s) }),
		"toupper":     onString(func(s string) any { return strings.ToUpper(s) }),
		"trim":        onString(func(s string) any { return strings.TrimSpace(s) }),
		"replace":     {min: 3, max: 3, call: fnReplace},
		"startswith":  caseless(func(s, x string) any { return strings.HasPrefix(s, x) }),
		"endswith":    caseless(func(s, x string) any { return strings.HasSuffix(s, x) }),
		"indexof":     caseless(func(s, x string) any { return int64(strings.Index(s, x)) }),
		"lastindexof": caseless(func(s, x string) any { return int64(strings.LastIndex(s, x)) }),
		"split":       {min: 2, max: 2, call: fnSplit},
		"substring":   {min: 2, max: 3, call: fnSubstring},
		"uniquestring": {min: 1, max: -1, call: func(_ *evaluator, _ string, args []any) (any, error) {
			return uniqueString(args), nil
		}},
		"guid": {min: 1, max: -1, call: func(_ *evaluator, _ string, args []any) (any, error) {
			return guidOf(args), nil
		}},
		// Deterministic so that resolved names are stable between runs.
		"newguid": constant(guidOf([]any{"newGuid"})),
		"utcnow": {min: 0, max: 1, call: func(*evaluator, string, []any) (any, error) {
			return time.Now().UTC().Format("20060102T150405Z"), nil
		}},
	}
}

func fnFormat(e *evaluator, name string, args []any) (any, error) {
	f, err := e.strArg(name, args[0])
	if err != nil {
		return nil, err
	}
	return e.format(f, args[1:])
}

func fnReplace(e *evaluator, name string, args []any) (any, error) {
	strs, err := e.strArgs(name, args)
	if err != nil {
		return nil, err
	}
	s, old, nw := strs[0], strs[1], strs[2]
	if old == "" {
		return s, nil
	}
	if cnt := strings.Count(s, old); cnt > 0 && len(nw) > len(old) &&
		int64(len(s))+int64(cnt)*int64(len(nw)-len(old)) > maxValueSize {
		return nil, e.fail(name, "", "result too large")
	}
	return strings.ReplaceAll(s, old, nw), nil
}

// caseless is a function of two values compared as lower-case strings.
func caseless(f func(s, x string) any) function {
	return function{2, 2, func(_ *evaluator, _ string, args []any) (any, error) {
		return f(strings.ToLower(toStr(args[0])), strings.ToLower(toStr(args[1]))), nil
	}, nil}
}

// fnSplit splits on one separator or on each of an array of separators.
func fnSplit(e *evaluator, name string, args []any) (any, error) {
	s, err := e.strArg(name, args[0])
	if err != nil {
		return nil, err
	}
	var seps []string
	if a, ok := args[1].([]any); ok {
		for _, x := range a {
			seps = append(seps, toStr(x))
		}
	} else {
		seps = []string{toStr(args[1])}
	}
	parts := []string{s}
	for _, sep := range seps {
		if sep == "" {
			continue
		}
		var next []string
		for _, p := range parts {
			next = append(next, strings.Split(p, sep)...)
			if len(next) > maxValueSize {
				return nil, e.fail(name, "", "result too large")
			}
		}
		parts = next
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func fnSubstring(e *evaluator, name string, args []any) (any, error) {
	s, err := e.strArg(name, args[0])
	if err != nil {
		return nil, err
	}
	start, err := toInt(args[1])
	if err != nil {
		return nil, e.fail(name, "", "start: %v", err)
	}
	end := int64(len(s))
	if len(args) == 3 {
		l, err := toInt(args[2])
		if err != nil {
			return nil, e.fail(name, "", "length: %v", err)
		}
		if l < 0 || start < 0 || l > int64(len(s))-start {
			return nil, e.fail(name, "", "range out of bounds")
		}
		end = start + l
	}
	if start < 0 || start > end {
		return nil, e.fail(name, "", "range out of bounds")
	}
	return s[start:end], nil
}

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// uniqueString returns a stable 13-character hash of its arguments (ARM uses
// a different hash with the same shape).
func uniqueString(args []any) string {
	h := sha256.New()
	for _, a := range args {
		s := toStr(a)
		var l [8]byte
		binary.BigEndian.PutUint64(l[:], uint64(len(s)))
		h.Write(l[:])
		h.Write([]byte(s))
	}
	sum := h.Sum(nil)
	return b32.EncodeToString(sum[:8])[:13]
}

// guidOf returns a stable name-based (version 5 style) GUID of its arguments.
func guidOf(args []any) string {
	h := sha1.New()
	h.Write([]byte("11fb06fb-712d-4ddd-98c7-e71bbd588830")) // fixed namespace
	for _, a := range args {
		s := toStr(a)
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	u := h.Sum(nil)[:16]
	u[6] = (u[6] & 0x0f) | 0x50
	u[8] = (u[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
