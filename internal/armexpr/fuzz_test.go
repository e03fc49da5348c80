package armexpr

import (
	"bufio"
	"os"
	"testing"
)

// FuzzEval checks that evaluation never panics or hangs, whatever the input.
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
	} {
		f.Add(s)
	}
	ctx := &Context{
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
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Eval(s, ctx)
		_ = IsExpression(s)
		_, _ = ResolveTree(map[string]any{"x": []any{s}}, ctx, "root")
	})
}
