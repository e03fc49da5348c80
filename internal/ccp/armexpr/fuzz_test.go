package armexpr

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEval: evaluation never panics or hangs, and four properties hold for
// every input s:
//   - determinism: evaluating twice gives equal values and equal errors
//     (breaks if a result or message depends on map order or on state left
//     by an earlier call), unless s calls utcNow/newGuid;
//   - caps: no string or array in a result exceeds maxValueSize;
//   - ResolveTree agrees with Eval per leaf: an expression string becomes
//     Eval's value, any other string is Unescape'd (breaks if tree walking
//     and single evaluation drift apart, e.g. on "[[" escapes);
//   - a string literal round-trips: ['s'] with quotes doubled evaluates to s,
//     length() counts its runes and concat() of its two halves rebuilds it
//     (breaks if quoting or escaping loses or adds a character).
func FuzzEval(f *testing.F) {
	if fh, err := os.Open("testdata/corpus_expressions.txt"); err == nil {
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			f.Add(sc.Text())
		}
		fh.Close()
	}
	for _, s := range []string{
		"[format('{0,5}|{1:D4}', 'a', 12)]",
		"[json('{\"a\":[1,{\"b\":2}]}').a[1].b]",
		"[variables('v')]",
		"[replace('aaa', 'a', 'bb')]",
		"[split('a,b;c', createArray(',', ';'))]",
		"[substring('hello', 1, 3)]",
		"[resourceId('Microsoft.OperationalInsights/workspaces', 'ws')]",
		"[[notclosed",
		"['it''s']",
		"[[variables('v')]",
		"[parameters('OBJ').K]",
	} {
		f.Add(s)
	}
	ctx := fuzzContext()
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Eval(s, ctx)
		checkCaps(t, s, v, 0)
		lower := strings.ToLower(s)
		if !strings.Contains(lower, "utcnow") && !strings.Contains(lower, "newguid") {
			v2, err2 := Eval(s, ctx)
			if !reflect.DeepEqual(v, v2) || fmt.Sprint(err) != fmt.Sprint(err2) {
				t.Fatalf("%q: not deterministic: (%#v, %v) then (%#v, %v)", s, v, err, v2, err2)
			}
			checkTreeAgrees(t, s, v, err, ctx)
		}
		checkLiteral(t, s)
	})
}

func fuzzContext() *Context {
	return &Context{
		Parameters: map[string]any{
			"p": "v", "arr": []any{"1", "2"}, "obj": map[string]any{"k": "v"},
		},
		TemplateParameters: map[string]any{
			"d": map[string]any{"defaultValue": "[concat(parameters('p'), variables('v'))]"},
		},
		Variables: map[string]any{
			"v":    "[parameters('p')]",
			"loop": "[variables('loop')]",
			"tree": map[string]any{"a": []any{"[variables('v')]"}},
		},
		Missing: func(name string, decl map[string]any, expr string) (any, bool) {
			if name == "refuse" {
				return nil, false
			}
			return "dummy", true
		},
	}
}

// checkCaps fails when a string or array inside v is larger than maxValueSize.
func checkCaps(t *testing.T, s string, v any, depth int) {
	t.Helper()
	if depth > maxTreeDepth+maxEvalDepth {
		t.Fatalf("%q: result nested deeper than %d", s, depth)
	}
	switch x := v.(type) {
	case string:
		if len(x) > maxValueSize {
			t.Fatalf("%q: string result of %d bytes, cap %d", s, len(x), maxValueSize)
		}
	case []any:
		if len(x) > maxValueSize {
			t.Fatalf("%q: array result of %d elements, cap %d", s, len(x), maxValueSize)
		}
		for _, e := range x {
			checkCaps(t, s, e, depth+1)
		}
	case map[string]any:
		for _, e := range x {
			checkCaps(t, s, e, depth+1)
		}
	}
}

// checkTreeAgrees: ResolveTree of {"x": [s]} is {"x": [Eval(s)]} for an
// expression (an error naming the leaf's path when Eval fails) and
// {"x": [Unescape(s)]} for any other string.
func checkTreeAgrees(t *testing.T, s string, v any, err error, ctx *Context) {
	t.Helper()
	tree, terr := ResolveTree(map[string]any{"x": []any{s}}, ctx, "root")
	if !IsExpression(s) {
		want := map[string]any{"x": []any{Unescape(s)}}
		if terr != nil || !reflect.DeepEqual(tree, want) {
			t.Fatalf("%q is no expression: ResolveTree gave (%#v, %v), want %#v", s, tree, terr, want)
		}
		return
	}
	if err != nil {
		var ae *Error
		if terr == nil || !errors.As(terr, &ae) || ae.Path != "root.x[0]" {
			t.Fatalf("%q: Eval failed (%v) but ResolveTree gave (%#v, %v)", s, err, tree, terr)
		}
		return
	}
	if want := map[string]any{"x": []any{v}}; terr != nil || !reflect.DeepEqual(tree, want) {
		t.Fatalf("%q: ResolveTree gave (%#v, %v), Eval gave %#v", s, tree, terr, v)
	}
}

// checkLiteral evaluates s quoted as an ARM string literal.
func checkLiteral(t *testing.T, s string) {
	t.Helper()
	if len(s) > maxExprLen/4 {
		return
	}
	q := func(x string) string { return "'" + strings.ReplaceAll(x, "'", "''") + "'" }
	if got, err := Eval("["+q(s)+"]", nil); err != nil || got != s {
		t.Fatalf("literal %s: got (%#v, %v), want %q", q(s), got, err, s)
	}
	if got, err := Eval("[length("+q(s)+")]", nil); err != nil || got != int64(utf8.RuneCountInString(s)) {
		t.Fatalf("length(%s): got (%#v, %v), want %d", q(s), got, err, utf8.RuneCountInString(s))
	}
	half := len(s) / 2
	if got, err := Eval("[concat("+q(s[:half])+", "+q(s[half:])+")]", nil); err != nil || got != s {
		t.Fatalf("concat of the halves of %q: got (%#v, %v)", s, got, err)
	}
}
