package armexpr

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func corpusParams() map[string]any {
	return map[string]any{
		"workspace":              "ws1",
		"workspace-location":     "westeurope",
		"Domain":                 "https://tenant.auth0.com",
		"apiUrl":                 "https://api.example.com",
		"queryWindow":            []any{"60", "120"},
		"selectedStream":         []any{"detections"},
		"selectedDataTypes":      []any{"CiscoMerakiOrganizations", "AuditEvents"},
		"packageType":            "enhanced",
		"salesforceGrantType":    "password",
		"username":               "alice",
		"password":               "s3cret",
		"clientId":               "cid",
		"clientSecret":           "csecret",
		"ingestDetectionDetails": "false",
		"minSeverity":            json.Number("3"),
		"maxSeverity":            "9",
		"dcrConfig": map[string]any{
			"dataCollectionEndpoint":        "https://dce.ingest.monitor.azure.com",
			"dataCollectionRuleImmutableId": "dcr-0123",
		},
	}
}

func TestEvalCorpusForms(t *testing.T) {
	ctx := &Context{Parameters: corpusParams(), Variables: map[string]any{"_solutionVersion": "3.0.0"}}
	cases := []struct {
		expr string
		want any
	}{
		{"[[parameters('clientId')]", "cid"},
		{"[parameters('clientId')]", "cid"},
		{"[[parameters('CLIENTID')]", "cid"}, // case-insensitive names
		{"[[parameters('dcrConfig').dataCollectionEndpoint]", "https://dce.ingest.monitor.azure.com"},
		{"[[parameters('dcrConfig').dataCollectionRuleImmutableId]", "dcr-0123"},
		{"[[parameters('dcrConfig')['dataCollectionRuleImmutableId']]", "dcr-0123"},
		{"[[int(parameters('queryWindow')[0])]", int64(60)},
		{"[[int(parameters('queryWindow')[1])]", int64(120)},
		{"[[equals(parameters('selectedStream')[0], 'detections')]", true},
		{"[[equals(parameters('selectedStream')[0], 'entities')]", false},
		{"[[concat(parameters('Domain'),'/oauth/token')]", "https://tenant.auth0.com/oauth/token"},
		{"[[concat(parameters('apiUrl'),'/oauth2/token')]", "https://api.example.com/oauth2/token"},
		{"[[contains(parameters('selectedDataTypes'), 'CiscoMerakiOrganizations')]", true},
		{"[[contains(parameters('selectedDataTypes'), 'CiscoMerakiNetworkClients')]", false},
		{"[[and(contains(parameters('selectedDataTypes'), 'AuditEvents'), equals(parameters('packageType'), 'enhanced'))]", true},
		{"[[and(contains(parameters('selectedDataTypes'), 'AuditEvents'), equals(parameters('packageType'), 'legacy'))]", false},
		{"[[if(equals(parameters('salesforceGrantType'), 'password'), parameters('username'), '')]", "alice"},
		{"[[if(equals(parameters('salesforceGrantType'), 'client_credentials'), 'Client Credentials', 'Password')]", "Password"},
		{"[[if(equals(parameters('ingestDetectionDetails'), 'false'), 'regular', 'detailed')]", "regular"},
		{"[[concat('Basic ', base64(concat(parameters('clientId'), ':', parameters('clientSecret'))))]", "Basic Y2lkOmNzZWNyZXQ="},
		// Dragos: '' escaping inside a literal
		{"[[concat('type!=''Baseline'';createdAt=ge=''{_QueryWindowStartTime}'';severity>=', parameters('minSeverity'), ';severity<=', parameters('maxSeverity'))]",
			"type!='Baseline';createdAt=ge='{_QueryWindowStartTime}';severity>=3;severity<=9"},
		{"[concat('MicrosoftSentinelPoDConnector/',variables('_solutionVersion'))]", "MicrosoftSentinelPoDConnector/3.0.0"},
		{"[parameters('workspace-location')]", "westeurope"},
		{"[resourceGroup().location]", "westeurope"},
		{"[concat(parameters('salesforceGrantType'),'$logFileUrl$')]", "password$logFileUrl$"},
		// the source-form slip 'parameters('workspace')' means parameters('workspace')
		{"[[concat('parameters('workspace')', '/Microsoft.SecurityInsights/','AzureDevOpsAuditLogs')]", "ws1/Microsoft.SecurityInsights/AzureDevOpsAuditLogs"},
		{"[format('{0}/{1}-{2:D3}', 'a', 'b', 7)]", "a/b-007"},
		{"[format('{{literal}} {0}', 'x')]", "{literal} x"},
		{"[not(equals(1, 2))]", true},
		{"[or(false(), true())]", true},
		{"[contains('abcdef', 'cd')]", true},
		{"[contains(parameters('dcrConfig'), 'DATACOLLECTIONENDPOINT')]", true},
		{"[int('42')]", int64(42)},
		{"[string(42)]", "42"},
		{"[string(true())]", "True"},
		{"[bool('true')]", true},
		{"[base64ToString('aGVsbG8=')]", "hello"},
		{"[toLower('ABC')]", "abc"},
		{"[toUpper('abc')]", "ABC"},
		{"[replace('a-b-c', '-', '+')]", "a+b+c"},
		{"[json('{\"a\":[1,2]}').a[1]]", json.Number("2")},
		{"[empty('')]", true},
		{"[empty(parameters('selectedStream'))]", false},
		{"[length(parameters('selectedDataTypes'))]", int64(2)},
		{"[length('héllo')]", int64(5)},
		{"[concat(createArray(1), createArray(2, 3))]", []any{int64(1), int64(2), int64(3)}},
		{"[ concat( 'a' , 'b' ) ]", "ab"},
		{"['it''s']", "it's"},
		{"[-5]", int64(-5)},
		{"[equals(parameters('minSeverity'), 3)]", true},
		{"[equals('3', 3)]", true},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			require.True(t, IsExpression(c.expr))
			got, err := Eval(c.expr, ctx)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestUniqueStringAndGuidStable(t *testing.T) {
	ctx := &Context{Parameters: corpusParams()}
	a, err := Eval("[uniqueString(parameters('workspace'))]", ctx)
	require.NoError(t, err)
	b, err := Eval("[uniqueString('ws1')]", ctx)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Len(t, a, 13)
	c, err := Eval("[uniqueString('ws2')]", ctx)
	require.NoError(t, err)
	assert.NotEqual(t, a, c)

	g1, err := Eval("[guid(subscription().subscriptionId)]", ctx)
	require.NoError(t, err)
	g2, err := Eval("[guid(subscription().subscriptionId)]", ctx)
	require.NoError(t, err)
	assert.Equal(t, g1, g2)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, g1)

	id, err := Eval("[concat('/subscriptions/',subscription().subscriptionId,'/resourceGroups/',resourceGroup().name,'/providers/Microsoft.OperationalInsights/workspaces/',parameters('workspace'),'/providers/Microsoft.SecurityInsights/dataConnectors/',guid(resourceGroup().id, deployment().name))]", ctx)
	require.NoError(t, err)
	assert.Contains(t, id, "/workspaces/ws1/providers/Microsoft.SecurityInsights/dataConnectors/")

	rid, err := Eval("[resourceId('Microsoft.OperationalInsights/workspaces', parameters('workspace'))]", ctx)
	require.NoError(t, err)
	assert.Equal(t, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/resourceGroup/providers/Microsoft.OperationalInsights/workspaces/ws1", rid)
}

func TestDefaultsAndVariables(t *testing.T) {
	tmpl := map[string]any{
		"parameters": map[string]any{
			"workspace":             map[string]any{"type": "string", "defaultValue": ""},
			"connectorResourceName": map[string]any{"type": "string", "defaultValue": "[newGuid()]"},
			"region":                map[string]any{"type": "string", "defaultValue": "[resourceGroup().location]"},
			"noDefault":             map[string]any{"type": "string"},
		},
		"variables": map[string]any{
			"base":    "[concat('https://', parameters('region'), '.example.com')]",
			"full":    "[concat(variables('base'), '/api')]",
			"obj":     map[string]any{"url": "[variables('full')]", "lit": "[[notAnExpression"},
			"loopA":   "[variables('loopB')]",
			"loopB":   "[variables('loopA')]",
			"escaped": "[[parameters('x')]",
		},
	}
	ctx := NewContext(tmpl, map[string]any{"workspace": "supplied"})
	v, err := Eval("[parameters('workspace')]", ctx)
	require.NoError(t, err)
	assert.Equal(t, "supplied", v)

	v, err = Eval("[variables('full')]", ctx)
	require.NoError(t, err)
	assert.Equal(t, "https://westeurope.example.com/api", v)

	v, err = Eval("[variables('obj')]", ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"url": "https://westeurope.example.com/api", "lit": "[notAnExpression"}, v)

	_, err = Eval("[variables('loopA')]", ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "circular")

	_, err = Eval("[parameters('noDefault')]", ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "noDefault")
	assert.Contains(t, err.Error(), "no defaultValue")

	_, err = Eval("[concat('a', parameters('undeclared'))]", ctx)
	require.Error(t, err)
	var ae *Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "parameters", ae.Func)
	assert.Equal(t, "undeclared", ae.Param)
	assert.Equal(t, "[concat('a', parameters('undeclared'))]", ae.Expr)

	// Missing hook fills what is absent
	ctx.Missing = func(name string, decl map[string]any, expr string) (any, bool) { return "dummy-" + name, true }
	v, err = Eval("[concat('a', parameters('undeclared'))]", ctx)
	require.NoError(t, err)
	assert.Equal(t, "adummy-undeclared", v)

	_, err = Eval("[variables('nope')]", ctx)
	require.ErrorContains(t, err, "variable not defined")
	ctx.MissingVariable = func(name, expr string) (any, bool) { return "var-" + name, true }
	v, err = Eval("[variables('nope')]", ctx)
	require.NoError(t, err)
	assert.Equal(t, "var-nope", v)
}

func TestIsExpressionAndUnescape(t *testing.T) {
	for s, want := range map[string]bool{
		"[parameters('a')]":  true,
		"[[parameters('a')]": true,
		"[]":                 false,
		"[[]":                false,
		"[ ]":                false,
		"plain":              false,
		"[not closed":        false,
		"$[*].event":         false,
		"":                   false,
		"[":                  false,
	} {
		assert.Equal(t, want, IsExpression(s), s)
	}
	assert.Equal(t, "[notexpr", Unescape("[[notexpr"))
	assert.Equal(t, "plain", Unescape("plain"))
}

func TestResolveTree(t *testing.T) {
	ctx := &Context{Parameters: corpusParams()}
	in := map[string]any{
		"request": map[string]any{
			"apiEndpoint":      "[[concat(parameters('apiUrl'),'/api/v1/audit')]",
			"queryWindowInMin": "[[int(parameters('queryWindow')[0])]",
			"headers":          map[string]any{"X": "[[literal text"},
			"list":             []any{"[[parameters('username')]", json.Number("5"), nil, true},
		},
	}
	out, err := ResolveTree(in, ctx, "properties")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"request": map[string]any{
			"apiEndpoint":      "https://api.example.com/api/v1/audit",
			"queryWindowInMin": int64(60),
			"headers":          map[string]any{"X": "[literal text"},
			"list":             []any{"alice", json.Number("5"), nil, true},
		},
	}, out)
	// input untouched
	assert.Equal(t, "[[concat(parameters('apiUrl'),'/api/v1/audit')]", in["request"].(map[string]any)["apiEndpoint"])

	bad := map[string]any{"request": map[string]any{"list": []any{"ok", "[[parameters('nope')]"}}}
	_, err = ResolveTree(bad, ctx, "properties")
	require.Error(t, err)
	var ae *Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "properties.request.list[1]", ae.Path)
	assert.Contains(t, err.Error(), "properties.request.list[1]")
	assert.Contains(t, err.Error(), "nope")
	assert.Contains(t, err.Error(), "[[parameters('nope')]")
}

func TestErrors(t *testing.T) {
	ctx := &Context{Parameters: corpusParams()}
	for expr, wantSub := range map[string]string{
		"[concat('a']":                      "missing ')'",
		"[unknownFn(1)]":                    "unknownFn",
		"[int('x')]":                        "int()",
		"[parameters('dcrConfig').missing]": "missing",
		"[parameters('queryWindow')[5]]":    "out of range",
		"['unterminated]":                   "unterminated",
		"[if(true(), 'a')]":                 "if()",
		"[format('{3}', 'a')]":              "format()",
		"[concat(createArray(1), 'x')]":     "cannot mix",
		"[json('{')]":                       "invalid JSON",
		"[div(1, 0)]":                       "division",
		"[parameters(1)]":                   "name must be a string",
		"[concat('a') extra]":               "unexpected",
		"[base64ToString('!!!')]":           "invalid base64",
		"[substring('abc', 2, 5)]":          "out of bounds",
		"[parameters('username').x]":        "cannot read property",
	} {
		_, err := Eval(expr, ctx)
		if assert.Error(t, err, expr) {
			assert.Contains(t, err.Error(), wantSub, expr)
			assert.Contains(t, err.Error(), strings.TrimSpace(expr), "error names the expression")
		}
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("concat(", 200) + "'a'" + strings.Repeat(")", 200)
	_, err := Eval("["+deep+"]", nil)
	require.Error(t, err)

	// exponential growth through replace is refused, not attempted
	e := "'aaaaaaaaaa'"
	for i := 0; i < 12; i++ {
		e = "replace(" + e + ", 'a', 'aaaaaaaaaa')"
	}
	_, err = Eval("["+e+"]", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "too large")

	// exponential growth through variables is bounded by memoisation + size
	vars := map[string]any{"v0": "[string('abcdefghij')]"}
	for i := 1; i < 40; i++ {
		vars["v"+itoa(i)] = "[concat(variables('v" + itoa(i-1) + "'), variables('v" + itoa(i-1) + "'))]"
	}
	_, err = Eval("[variables('v39')]", &Context{Variables: vars})
	require.Error(t, err)
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// Every expression found in the shared corpus evaluates once parameters are
// available (filled with dummies here).
func TestCorpusExpressionsEvaluate(t *testing.T) {
	f, err := os.Open("testdata/corpus_expressions.txt")
	require.NoError(t, err)
	defer f.Close()
	ctx := &Context{
		Variables: map[string]any{"_solutionVersion": "3.0.0"},
		Missing: func(name string, decl map[string]any, expr string) (any, bool) {
			switch {
			case strings.Contains(strings.ToLower(name), "window"):
				return "60", true
			case name == "dcrConfig":
				return map[string]any{"dataCollectionEndpoint": "https://dce", "dataCollectionRuleImmutableId": "dcr-1"}, true
			}
			return "dummy-" + name, true
		},
	}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		n++
		require.True(t, IsExpression(line), line)
		v, err := Eval(line, ctx)
		require.NoError(t, err, line)
		if s, ok := v.(string); ok {
			assert.NotContains(t, s, "[[", line)
		}
	}
	require.NoError(t, sc.Err())
	assert.Greater(t, n, 100)
}
