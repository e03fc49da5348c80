package armexpr

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

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

func (e *evaluator) wantArgs(fn string, args []*node, min, max int) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		switch {
		case max < 0:
			return e.fail(fn, "", "needs at least %d argument(s), got %d", min, len(args))
		case min == max:
			return e.fail(fn, "", "needs %d argument(s), got %d", min, len(args))
		default:
			return e.fail(fn, "", "needs %d to %d arguments, got %d", min, max, len(args))
		}
	}
	return nil
}

func (e *evaluator) strArg(fn string, v any) (string, error) {
	switch v.(type) {
	case []any, map[string]any:
		return "", e.fail(fn, "", "expects a string, got %s", typeName(v))
	}
	return toStr(v), nil
}

func (e *evaluator) call(n *node) (any, error) {
	fn := strings.ToLower(n.str)
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxEvalDepth+maxParseDepth {
		return nil, e.fail(n.str, "", "nested too deeply")
	}
	// functions with lazily evaluated arguments first
	switch fn {
	case "if":
		if err := e.wantArgs("if", n.args, 3, 3); err != nil {
			return nil, err
		}
		c, err := e.eval(n.args[0])
		if err != nil {
			return nil, err
		}
		b, err := toBool(c)
		if err != nil {
			return nil, e.fail("if", "", "condition: %v", err)
		}
		if b {
			return e.eval(n.args[1])
		}
		return e.eval(n.args[2])
	case "and", "or":
		if err := e.wantArgs(fn, n.args, 1, -1); err != nil {
			return nil, err
		}
		for _, a := range n.args {
			v, err := e.eval(a)
			if err != nil {
				return nil, err
			}
			b, err := toBool(v)
			if err != nil {
				return nil, e.fail(fn, "", "%v", err)
			}
			if fn == "and" && !b {
				return false, nil
			}
			if fn == "or" && b {
				return true, nil
			}
		}
		return fn == "and", nil
	}

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

func (e *evaluator) apply(name, fn string, args []any) (any, error) {
	argn := func(min, max int) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			switch {
			case max < 0:
				return e.fail(name, "", "needs at least %d argument(s), got %d", min, len(args))
			case min == max:
				return e.fail(name, "", "needs %d argument(s), got %d", min, len(args))
			default:
				return e.fail(name, "", "needs %d to %d arguments, got %d", min, max, len(args))
			}
		}
		return nil
	}
	str := func(i int) (string, error) { return e.strArg(name, args[i]) }

	switch fn {
	case "parameters", "variables":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, e.fail(name, "", "name must be a string, got %s", typeName(args[0]))
		}
		if fn == "parameters" {
			return e.parameter(s)
		}
		return e.variable(s)

	case "true", "false":
		if err := argn(0, 0); err != nil {
			return nil, err
		}
		return fn == "true", nil
	case "null":
		if err := argn(0, 0); err != nil {
			return nil, err
		}
		return nil, nil

	case "concat":
		if len(args) == 0 {
			return "", nil
		}
		if _, ok := args[0].([]any); ok {
			var out []any
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
			if out == nil {
				out = []any{}
			}
			return out, nil
		}
		var b strings.Builder
		for i, a := range args {
			switch a.(type) {
			case []any, map[string]any:
				return nil, e.fail(name, "", "argument %d is %s; cannot mix arrays and strings", i+1, typeName(a))
			}
			s := toStr(a)
			if b.Len()+len(s) > maxValueSize {
				return nil, e.fail(name, "", "result too large")
			}
			b.WriteString(s)
		}
		return b.String(), nil

	case "format":
		if err := argn(1, -1); err != nil {
			return nil, err
		}
		f, err := str(0)
		if err != nil {
			return nil, err
		}
		return e.format(f, args[1:])

	case "equals":
		if err := argn(2, 2); err != nil {
			return nil, err
		}
		return equal(args[0], args[1]), nil
	case "not":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		b, err := toBool(args[0])
		if err != nil {
			return nil, e.fail(name, "", "%v", err)
		}
		return !b, nil
	case "less", "lessorequals", "greater", "greaterorequals":
		if err := argn(2, 2); err != nil {
			return nil, err
		}
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
		switch fn {
		case "less":
			return c < 0, nil
		case "lessorequals":
			return c <= 0, nil
		case "greater":
			return c > 0, nil
		}
		return c >= 0, nil

	case "contains":
		if err := argn(2, 2); err != nil {
			return nil, err
		}
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

	case "empty":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
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
	case "length":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
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

	case "int":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		i, err := toInt(args[0])
		if err != nil {
			return nil, e.fail(name, "", "%v", err)
		}
		return i, nil
	case "string":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		return toStr(args[0]), nil
	case "bool":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		b, err := toBool(args[0])
		if err != nil {
			return nil, e.fail(name, "", "%v", err)
		}
		return b, nil
	case "json":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		s, err := str(0)
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
	case "array":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		if a, ok := args[0].([]any); ok {
			return a, nil
		}
		return []any{args[0]}, nil
	case "createarray":
		out := make([]any, len(args))
		copy(out, args)
		return out, nil
	case "createobject":
		if len(args)%2 != 0 {
			return nil, e.fail(name, "", "needs an even number of arguments")
		}
		out := make(map[string]any, len(args)/2)
		for i := 0; i < len(args); i += 2 {
			out[toStr(args[i])] = args[i+1]
		}
		return out, nil
	case "coalesce":
		for _, a := range args {
			if a != nil {
				return a, nil
			}
		}
		return nil, nil
	case "first", "last":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		switch c := args[0].(type) {
		case []any:
			if len(c) == 0 {
				return nil, nil
			}
			if fn == "first" {
				return c[0], nil
			}
			return c[len(c)-1], nil
		case string:
			if c == "" {
				return "", nil
			}
			r := []rune(c)
			if fn == "first" {
				return string(r[0]), nil
			}
			return string(r[len(r)-1]), nil
		}
		return nil, e.fail(name, "", "expects an array or string, got %s", typeName(args[0]))

	case "base64":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "base64tostring", "base64tojson":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		s, err := str(0)
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
		if fn == "base64tojson" {
			return e.apply("json", "json", []any{string(b)})
		}
		return string(b), nil
	case "tolower", "toupper", "trim":
		if err := argn(1, 1); err != nil {
			return nil, err
		}
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		switch fn {
		case "tolower":
			return strings.ToLower(s), nil
		case "toupper":
			return strings.ToUpper(s), nil
		}
		return strings.TrimSpace(s), nil
	case "replace":
		if err := argn(3, 3); err != nil {
			return nil, err
		}
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		old, err := str(1)
		if err != nil {
			return nil, err
		}
		nw, err := str(2)
		if err != nil {
			return nil, err
		}
		if old == "" {
			return s, nil
		}
		if cnt := strings.Count(s, old); cnt > 0 && len(nw) > len(old) &&
			int64(len(s))+int64(cnt)*int64(len(nw)-len(old)) > maxValueSize {
			return nil, e.fail(name, "", "result too large")
		}
		return strings.ReplaceAll(s, old, nw), nil
	case "startswith", "endswith":
		if err := argn(2, 2); err != nil {
			return nil, err
		}
		s := strings.ToLower(toStr(args[0]))
		x := strings.ToLower(toStr(args[1]))
		if fn == "startswith" {
			return strings.HasPrefix(s, x), nil
		}
		return strings.HasSuffix(s, x), nil
	case "indexof", "lastindexof":
		if err := argn(2, 2); err != nil {
			return nil, err
		}
		s := strings.ToLower(toStr(args[0]))
		x := strings.ToLower(toStr(args[1]))
		if fn == "indexof" {
			return int64(strings.Index(s, x)), nil
		}
		return int64(strings.LastIndex(s, x)), nil
	case "split":
		if err := argn(2, 2); err != nil {
			return nil, err
		}
		s, err := str(0)
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
	case "substring":
		if err := argn(2, 3); err != nil {
			return nil, err
		}
		s, err := str(0)
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

	case "add", "sub", "mul", "div", "mod":
		if err := argn(2, 2); err != nil {
			return nil, err
		}
		a, err := toInt(args[0])
		if err != nil {
			return nil, e.fail(name, "", "%v", err)
		}
		b, err := toInt(args[1])
		if err != nil {
			return nil, e.fail(name, "", "%v", err)
		}
		switch fn {
		case "add":
			return a + b, nil
		case "sub":
			return a - b, nil
		case "mul":
			return a * b, nil
		}
		if b == 0 || (a == -1<<63 && b == -1) {
			return nil, e.fail(name, "", "division by zero or overflow")
		}
		if fn == "div" {
			return a / b, nil
		}
		return a % b, nil

	case "uniquestring":
		if err := argn(1, -1); err != nil {
			return nil, err
		}
		return uniqueString(args), nil
	case "guid":
		if err := argn(1, -1); err != nil {
			return nil, err
		}
		return guidOf(args), nil
	case "newguid":
		if err := argn(0, 0); err != nil {
			return nil, err
		}
		// Deterministic so that resolved names are stable between runs.
		return guidOf([]any{"newGuid"}), nil
	case "utcnow":
		if err := argn(0, 1); err != nil {
			return nil, err
		}
		return time.Now().UTC().Format("20060102T150405Z"), nil

	case "subscription":
		if err := argn(0, 0); err != nil {
			return nil, err
		}
		sub := e.subID()
		return map[string]any{
			"id":             "/subscriptions/" + sub,
			"subscriptionId": sub,
			"tenantId":       e.tenantID(),
			"displayName":    "subscription",
		}, nil
	case "resourcegroup":
		if err := argn(0, 0); err != nil {
			return nil, err
		}
		return map[string]any{
			"id":       "/subscriptions/" + e.subID() + "/resourceGroups/" + e.rgName(),
			"name":     e.rgName(),
			"type":     "Microsoft.Resources/resourceGroups",
			"location": e.location(),
		}, nil
	case "deployment":
		if err := argn(0, 0); err != nil {
			return nil, err
		}
		dn := e.ctx.DeploymentName
		if dn == "" {
			dn = "deployment"
		}
		return map[string]any{"name": dn, "properties": map[string]any{}}, nil
	case "tenant":
		if err := argn(0, 0); err != nil {
			return nil, err
		}
		return map[string]any{"tenantId": e.tenantID()}, nil
	case "resourceid", "subscriptionresourceid", "extensionresourceid", "tenantresourceid":
		if err := argn(2, -1); err != nil {
			return nil, err
		}
		return e.resourceID(fn, args)
	}
	return nil, e.fail(name, "", "unsupported function")
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

func (e *evaluator) subID() string {
	if e.ctx.SubscriptionID != "" {
		return e.ctx.SubscriptionID
	}
	return "00000000-0000-0000-0000-000000000000"
}

func (e *evaluator) tenantID() string {
	if e.ctx.TenantID != "" {
		return e.ctx.TenantID
	}
	return "00000000-0000-0000-0000-000000000000"
}

func (e *evaluator) rgName() string {
	if e.ctx.ResourceGroup != "" {
		return e.ctx.ResourceGroup
	}
	return "resourceGroup"
}

func (e *evaluator) location() string {
	if e.ctx.Location != "" {
		return e.ctx.Location
	}
	return "westeurope"
}

// resourceID builds a plausible resource id; only its shape matters here.
func (e *evaluator) resourceID(fn string, args []any) (any, error) {
	strs := make([]string, len(args))
	for i, a := range args {
		s, err := e.strArg(fn, a)
		if err != nil {
			return nil, err
		}
		strs[i] = s
	}
	// the resource type is the first argument shaped like "Namespace/type"
	ti := -1
	for i, s := range strs {
		if strings.Contains(s, "/") && strings.Contains(strings.SplitN(s, "/", 2)[0], ".") {
			ti = i
			break
		}
	}
	if ti < 0 {
		return nil, e.fail(fn, "", "no resource type argument")
	}
	prefix := ""
	scope := strs[:ti]
	switch fn {
	case "extensionresourceid":
		if len(scope) > 0 {
			prefix = strings.TrimRight(scope[0], "/")
		}
	case "tenantresourceid":
	case "subscriptionresourceid":
		sub := e.subID()
		if len(scope) >= 1 {
			sub = scope[0]
		}
		prefix = "/subscriptions/" + sub
	default:
		sub, rg := e.subID(), e.rgName()
		switch len(scope) {
		case 1:
			rg = scope[0]
		case 2:
			sub, rg = scope[0], scope[1]
		}
		prefix = "/subscriptions/" + sub + "/resourceGroups/" + rg
	}
	segs := strings.Split(strs[ti], "/")
	names := strs[ti+1:]
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString("/providers/")
	b.WriteString(segs[0])
	for i, t := range segs[1:] {
		b.WriteString("/")
		b.WriteString(t)
		if i < len(names) {
			b.WriteString("/")
			b.WriteString(names[i])
		}
	}
	return b.String(), nil
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

// format implements .NET composite formatting: {index[,alignment][:format]}
// with {{ and }} as escapes. Numeric format strings D<n>/N<n>/X are honoured
// loosely; others are ignored.
func (e *evaluator) format(f string, args []any) (any, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '}' {
			if i+1 < len(f) && f[i+1] == '}' {
				i++
			}
			b.WriteByte('}')
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(f[i:], '}')
		if end < 0 {
			return nil, e.fail("format", "", "unclosed '{' in format string")
		}
		spec := f[i+1 : i+end]
		i += end
		fmtStr := ""
		if j := strings.IndexByte(spec, ':'); j >= 0 {
			spec, fmtStr = spec[:j], spec[j+1:]
		}
		align := int64(0)
		if j := strings.IndexByte(spec, ','); j >= 0 {
			a, err := strconv.ParseInt(strings.TrimSpace(spec[j+1:]), 10, 32)
			if err != nil {
				return nil, e.fail("format", "", "bad alignment in {%s}", spec)
			}
			align = a
			spec = spec[:j]
		}
		idx, err := strconv.Atoi(strings.TrimSpace(spec))
		if err != nil || idx < 0 || idx >= len(args) {
			return nil, e.fail("format", "", "placeholder {%s} has no matching argument (%d given)", spec, len(args))
		}
		s := formatOne(args[idx], fmtStr)
		pad := int(abs64(align)) - utf8.RuneCountInString(s)
		if b.Len()+len(s)+max(pad, 0) > maxValueSize {
			return nil, e.fail("format", "", "result too large")
		}
		if pad > 0 && align > 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
		b.WriteString(s)
		if pad > 0 && align < 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
	}
	return b.String(), nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func formatOne(v any, f string) string {
	if f == "" || !isNumber(v) {
		return toStr(v)
	}
	i, err := toInt(v)
	if err != nil {
		return toStr(v)
	}
	width := 0
	if len(f) > 1 {
		if w, err := strconv.Atoi(f[1:]); err == nil && w >= 0 && w <= 64 {
			width = w
		}
	}
	switch f[0] {
	case 'D', 'd':
		s := strconv.FormatInt(abs64(i), 10)
		for len(s) < width {
			s = "0" + s
		}
		if i < 0 {
			s = "-" + s
		}
		return s
	case 'X', 'x':
		s := strconv.FormatUint(uint64(i), 16)
		if f[0] == 'X' {
			s = strings.ToUpper(s)
		}
		for len(s) < width {
			s = "0" + s
		}
		return s
	}
	return toStr(v)
}
