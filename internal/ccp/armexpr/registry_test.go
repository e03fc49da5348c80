package armexpr

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// registryCases holds one succeeding call per registered function, keyed by
// its lower-case name, with the value it must produce.
var registryCases = map[string]struct {
	expr string
	want any
}{
	"if":                     {"[if(equals(1, 1), 'yes', parameters('unset'))]", "yes"}, // the other branch is not evaluated
	"and":                    {"[and(true(), false(), parameters('unset'))]", false},    // stops at the first false
	"or":                     {"[or(false(), true(), parameters('unset'))]", true},      // stops at the first true
	"not":                    {"[not('false')]", true},
	"true":                   {"[true()]", true},
	"false":                  {"[false()]", false},
	"null":                   {"[null()]", nil},
	"equals":                 {"[equals('3', 3)]", true},
	"less":                   {"[less(2, '10')]", true},
	"lessorequals":           {"[lessOrEquals('b', 'b')]", true},
	"greater":                {"[greater('b', 'a')]", true},
	"greaterorequals":        {"[greaterOrEquals(1, 2)]", false},
	"concat":                 {"[concat('a', 1, true())]", "a1True"},
	"contains":               {"[contains(createObject('Key', 1), 'KEY')]", true},
	"empty":                  {"[empty(createArray())]", true},
	"length":                 {"[length(createObject('a', 1, 'b', 2))]", int64(2)},
	"first":                  {"[first('héllo')]", "h"},
	"last":                   {"[last(createArray(1, 2, 3))]", int64(3)},
	"array":                  {"[array('x')]", []any{"x"}},
	"createarray":            {"[createArray('a', 1)]", []any{"a", int64(1)}},
	"createobject":           {"[createObject('a', 1)]", map[string]any{"a": int64(1)}},
	"coalesce":               {"[coalesce(null(), 'x', 'y')]", "x"},
	"format":                 {"[format('{0,-3}|{1:X}', 'a', 255)]", "a  |FF"},
	"tolower":                {"[toLower('ÄB')]", "äb"},
	"toupper":                {"[toUpper('äb')]", "ÄB"},
	"trim":                   {"[trim('  a b  ')]", "a b"},
	"replace":                {"[replace('a-b-c', '-', '')]", "abc"},
	"startswith":             {"[startsWith('Hello', 'hE')]", true},
	"endswith":               {"[endsWith('Hello', 'LO')]", true},
	"indexof":                {"[indexOf('abcabc', 'C')]", int64(2)},
	"lastindexof":            {"[lastIndexOf('abcabc', 'C')]", int64(5)},
	"split":                  {"[split('a,b;c', createArray(',', ';'))]", []any{"a", "b", "c"}},
	"substring":              {"[substring('hello', 1, 3)]", "ell"},
	"uniquestring":           {"[length(uniqueString('a', 'b'))]", int64(13)},
	"guid":                   {"[equals(guid('a'), guid('a'))]", true},
	"newguid":                {"[length(newGuid())]", int64(36)},
	"utcnow":                 {"[length(utcNow())]", int64(16)},
	"int":                    {"[int('-7')]", int64(-7)},
	"string":                 {"[string(createArray(1))]", "[1]"},
	"bool":                   {"[bool(0)]", false},
	"json":                   {"[json('[1, \"a\"]')]", []any{json.Number("1"), "a"}},
	"base64":                 {"[base64('hi')]", "aGk="},
	"base64tostring":         {"[base64ToString('aGk')]", "hi"}, // padding is optional
	"base64tojson":           {"[base64ToJson('eyJhIjp0cnVlfQ==').a]", true},
	"add":                    {"[add(2, '3')]", int64(5)},
	"sub":                    {"[sub(2, 3)]", int64(-1)},
	"mul":                    {"[mul(-2, 3)]", int64(-6)},
	"div":                    {"[div(7, -2)]", int64(-3)},
	"mod":                    {"[mod(-7, 3)]", int64(-1)},
	"parameters":             {"[parameters('P')]", "v"},
	"variables":              {"[variables('V')]", "v"},
	"subscription":           {"[subscription().subscriptionId]", "sub"},
	"resourcegroup":          {"[resourceGroup().id]", "/subscriptions/sub/resourceGroups/rg"},
	"deployment":             {"[deployment().name]", "deployment"},
	"tenant":                 {"[tenant().tenantId]", "00000000-0000-0000-0000-000000000000"},
	"resourceid":             {"[resourceId('rg2', 'Microsoft.Web/sites', 'w')]", "/subscriptions/sub/resourceGroups/rg2/providers/Microsoft.Web/sites/w"},
	"subscriptionresourceid": {"[subscriptionResourceId('Microsoft.Web/sites', 'w')]", "/subscriptions/sub/providers/Microsoft.Web/sites/w"},
	"extensionresourceid":    {"[extensionResourceId('/x/', 'Microsoft.Web/sites', 'w')]", "/x/providers/Microsoft.Web/sites/w"},
	"tenantresourceid":       {"[tenantResourceId('Microsoft.Web/sites', 'w')]", "/providers/Microsoft.Web/sites/w"},
}

func registryContext() *Context {
	return &Context{
		Parameters:     map[string]any{"p": "v"},
		Variables:      map[string]any{"v": "[parameters('p')]"},
		SubscriptionID: "sub",
		ResourceGroup:  "rg",
	}
}

// Every registered function has a case above and the case succeeds; a
// function added to the registry without one fails here.
func TestRegistryEveryFunctionWorks(t *testing.T) {
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c, ok := registryCases[name]
		if !assert.True(t, ok, "no registry case for %s()", name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			got, err := Eval(c.expr, registryContext())
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
	for name := range registryCases {
		assert.Contains(t, registry, name, "case for a function that is not registered")
	}
}

// A call with one argument too few or too many is refused with the
// function's name as written and the arity it needs.
func TestRegistryArity(t *testing.T) {
	for name, f := range registry {
		written := strings.ToUpper(name[:1]) + name[1:]
		var wrong []int
		if f.min > 0 {
			wrong = append(wrong, f.min-1)
		}
		if f.max >= 0 {
			wrong = append(wrong, f.max+1)
		}
		for _, n := range wrong {
			expr := "[" + written + "(" + strings.TrimSuffix(strings.Repeat("'a', ", n), ", ") + ")]"
			_, err := Eval(expr, registryContext())
			require.Error(t, err, expr)
			var ae *Error
			require.ErrorAs(t, err, &ae, expr)
			want := written
			if f.lazy != nil {
				want = name // lazy functions name themselves in lower case
			}
			assert.Equal(t, want, ae.Func, expr)
			assert.Contains(t, ae.Msg, "argument", expr)
		}
	}
	_, err := Eval("[substring('abc')]", nil)
	assert.ErrorContains(t, err, "substring(): needs 2 to 3 arguments, got 1")
	_, err = Eval("[and()]", nil)
	assert.ErrorContains(t, err, "and(): needs at least 1 argument(s), got 0")
	_, err = Eval("[Tenant('x')]", nil)
	assert.ErrorContains(t, err, "Tenant(): needs 0 argument(s), got 1")
}

// An unknown name is refused after its arguments are evaluated, so an
// argument's error wins.
func TestRegistryUnknownFunction(t *testing.T) {
	_, err := Eval("[noSuchFn('a')]", nil)
	assert.ErrorContains(t, err, "noSuchFn(): unsupported function")
	_, err = Eval("[noSuchFn(parameters('x'))]", nil)
	assert.ErrorContains(t, err, "parameter not supplied")
}
