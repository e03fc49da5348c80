package kql

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The KQL strings of every nested poller in the corpus, verbatim.
const (
	kqlBigID      = "source | project res = parse_json(data) | project dataSourceName = res.dataSourceName, policyName = res.policyName"
	kqlSource     = "source"
	kqlMeraki     = "source | project res = parse_json(data) | mvexpand res | project networkId = tostring(res['id'])"
	kqlCrowd      = "source | project res = parse_json(data) | project resources = res['resources'] | mvexpand resources | project Url_PlaceHolder = resources"
	kqlSalesforce = "source | project res = parse_json(data) | project logFileUrl = res.LogFile"
)

func TestKQLCorpus(t *testing.T) {
	tests := []struct {
		name      string
		kql       string
		record    string
		inherited map[string]string
		want      []Row
	}{
		{
			name:   "BigID case -> data source",
			kql:    kqlBigID,
			record: `{"id":"c1","dataSourceName":"s3-prod","policyName":"PII exposed","extra":[1,2]}`,
			want:   []Row{{"dataSourceName": "s3-prod", "policyName": "PII exposed"}},
		},
		{
			name:   "BigID missing field is empty",
			kql:    kqlBigID,
			record: `{"id":"c1","dataSourceName":"s3-prod"}`,
			want:   []Row{{"dataSourceName": "s3-prod", "policyName": ""}},
		},
		{
			name:      "BigID source passes inherited placeholders",
			kql:       kqlSource,
			record:    `{"name":"s3-prod","type":"s3"}`,
			inherited: map[string]string{"dataSourceName": "s3-prod", "policyName": "PII exposed"},
			want: []Row{{"dataSourceName": "s3-prod", "policyName": "PII exposed",
				"data": `{"name":"s3-prod","type":"s3"}`}},
		},
		{
			// mv-expand of a property bag: one single-entry bag per key; only the "id" entry
			// has res['id'], the other rows are empty and dropped by the runner.
			name:   "Meraki network object",
			kql:    kqlMeraki,
			record: `{"id":"N_1","organizationId":"o1","name":"HQ","tags":["a"]}`,
			want:   []Row{{"networkId": "N_1"}, {"networkId": ""}, {"networkId": ""}, {"networkId": ""}},
		},
		{
			name:   "Meraki array of networks",
			kql:    kqlMeraki,
			record: `[{"id":"N_1"},{"id":"N_2","name":"x"}]`,
			want:   []Row{{"networkId": "N_1"}, {"networkId": "N_2"}},
		},
		{
			name:   "Meraki numeric id",
			kql:    kqlMeraki,
			record: `[{"id":12345678901234567890}]`,
			want:   []Row{{"networkId": "12345678901234567890"}},
		},
		{
			name:   "CrowdStrike whole body, ids fan out",
			kql:    kqlCrowd,
			record: `{"meta":{"pagination":{"offset":0,"total":3}},"resources":["id-1","id-2","id-3"],"errors":[]}`,
			want:   []Row{{"Url_PlaceHolder": "id-1"}, {"Url_PlaceHolder": "id-2"}, {"Url_PlaceHolder": "id-3"}},
		},
		{
			name:   "CrowdStrike empty resources",
			kql:    kqlCrowd,
			record: `{"resources":[]}`,
			want:   []Row{},
		},
		{
			name:   "CrowdStrike no resources key: one null row",
			kql:    kqlCrowd,
			record: `{"errors":[{"code":500}]}`,
			want:   []Row{{"Url_PlaceHolder": ""}},
		},
		{
			name:   "Salesforce log file url",
			kql:    kqlSalesforce,
			record: `{"attributes":{"type":"EventLogFile"},"Id":"0AT1","LogFile":"/services/data/v66.0/sobjects/EventLogFile/0AT1/LogFile"}`,
			want:   []Row{{"logFileUrl": "/services/data/v66.0/sobjects/EventLogFile/0AT1/LogFile"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Compile(tc.kql)
			require.NoError(t, err)
			rows, err := q.Run(tc.record, tc.inherited)
			require.NoError(t, err)
			assert.Equal(t, tc.want, rows)
		})
	}
}

func TestKQLExpressions(t *testing.T) {
	rec := `{"a":{"b":[10,{"c":"deep"}],"x.y":"dotted","n":"42","f":3.9,"t":true,"o":{"k":1}},"list":["p","","q"],"kv":{"u":1,"v":2}}`
	tests := []struct {
		kql  string
		want []Row
	}{
		{`source | project v = parse_json(data).a.b[1].c`, []Row{{"v": "deep"}}},
		{`source | project v = todynamic(data)["a"]['x.y']`, []Row{{"v": "dotted"}}},
		{`source | project v = parse_json(data).a.b[-2]`, []Row{{"v": "10"}}},
		{`source | project v = parse_json(data).a.b[5]`, []Row{{"v": ""}}},
		{`source | project v = toint(parse_json(data).a.n) , w = toint(parse_json(data).a.f), z = tolong(parse_json(data).a.t)`, []Row{{"v": "42", "w": "3", "z": "1"}}},
		{`source | project v = tostring(parse_json(data).a.o)`, []Row{{"v": `{"k":1}`}}},
		{`source | project d = parse_json(data) | project d.a.n`, []Row{{"d_a_n": "42"}}},
		{`source | project d = parse_json(data) | mv-expand l = d.list | where isnotempty(l) | project l`, []Row{{"l": "p"}, {"l": "q"}}},
		{`source | project d = parse_json(data) | mv-expand l = d.list limit 2 | project-away d`, []Row{{"l": "p"}, {"l": ""}}},
		{`source | project d = parse_json(data) | mv-expand bagexpansion=array e = d.kv | project k = tostring(e[0]), v = e[1]`, []Row{{"k": "u", "v": "1"}, {"k": "v", "v": "2"}}},
		{`source | project d = parse_json(data) | mv-expand e = d.kv | project k = e.v`, []Row{{"k": ""}, {"k": "2"}}},
		{`source | extend d = parse_json(data) | extend s = strcat("n=", d.a.n, '/', d.a.t) | project-away data, d`, []Row{{"s": "n=42/true"}}},
		{`source | project d = parse_json(data) | mv-expand l = d.list | where l == "q" or l =~ "P" | project-rename item = l | project-away d`, []Row{{"item": "p"}, {"item": "q"}}},
		{`source | project d = parse_json(data) | mv-expand l = d.list | where not(isempty(l)) and l != 'p' | take 5 | project l`, []Row{{"l": "q"}}},
		{`source | project v = coalesce(parse_json(data).missing, parse_json(data).a.n)`, []Row{{"v": "42"}}},
		{"source\n| project v = parse_json(data).a.n // comment\n", []Row{{"v": "42"}}},
		{`source | project v = isnull(parse_json(data).nope), w = isnotnull(parse_json(data).a)`, []Row{{"v": "true", "w": "true"}}},
	}
	for _, tc := range tests {
		t.Run(tc.kql, func(t *testing.T) {
			q, err := Compile(tc.kql)
			require.NoError(t, err)
			rows, err := q.Run(rec, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.want, rows)
		})
	}
}

func TestKQLInheritedAsColumns(t *testing.T) {
	q, err := Compile(`source | project url = strcat(orgId, "/", tostring(parse_json(data).id))`)
	require.NoError(t, err)
	rows, err := q.Run(`{"id":7}`, map[string]string{"orgId": "o1"})
	require.NoError(t, err)
	assert.Equal(t, []Row{{"orgId": "o1", "url": "o1/7"}}, rows)

	cols, err := q.Columns([]string{"orgId"})
	require.NoError(t, err)
	assert.Equal(t, []string{"orgId", "url"}, cols)
	_, err = q.Columns(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown column "orgId"`)
}

func TestKQLColumns(t *testing.T) {
	tests := map[string][]string{
		kqlBigID:      {"dataSourceName", "policyName"},
		kqlSource:     {"data"},
		kqlMeraki:     {"networkId"},
		kqlCrowd:      {"Url_PlaceHolder"},
		kqlSalesforce: {"logFileUrl"},
		`source | extend x = 1 | project-away data`: {"x"},
	}
	for text, want := range tests {
		q, err := Compile(text)
		require.NoError(t, err, text)
		got, err := q.Columns(nil)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
}

func TestKQLErrors(t *testing.T) {
	tests := []struct {
		kql, want string
		pos       int
	}{
		{`src | project a = data`, "must start with the table name source", 1},
		{`source | summarize count()`, `operator "summarize" is not in the supported subset`, 10},
		{`source | project a = bogus(data)`, "function bogus() is not in the supported subset", 22},
		{`source | project a = parse_json(data`, `expected ")"`, 37},
		{`source | project parse_json(data)`, "give this expression a column name", 18},
		{`source | project a = 'abc`, "unterminated string literal", 22},
		{`source | project a = data.`, "expected a property name", 27},
		{`source project a = data`, `expected "|"`, 8},
		{`source | project a = data b`, `unexpected "b" after project`, 27},
		{`source | take x`, "take needs a non-negative integer", 15},
		{`source | project a = tostring(data, data)`, "tostring() takes 1 argument(s), got 2", 22},
		{`source | project a = data ; `, "unexpected character ';'", 27},
		{`source |`, "expected an operator", 9},
	}
	for _, tc := range tests {
		t.Run(tc.kql, func(t *testing.T) {
			_, err := Compile(tc.kql)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), tc.kql, "the error quotes the query")
			var ke *Error
			require.True(t, errors.As(err, &ke))
			assert.Equal(t, tc.pos, ke.Pos)
		})
	}
}

func TestKQLRuntimeErrors(t *testing.T) {
	q, err := Compile(`source | project a = nope`)
	require.NoError(t, err)
	_, err = q.Run(`{}`, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown column "nope"`)
	assert.Contains(t, err.Error(), "position 22")
}

func TestKQLBounds(t *testing.T) {
	deep := "source | project a = "
	for i := 0; i < 100; i++ {
		deep += "tostring("
	}
	_, err := Compile(deep + "data")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nested deeper")

	big := make([]byte, 0, MaxRows*4)
	big = append(big, '[')
	for i := 0; i <= MaxRows; i++ {
		if i > 0 {
			big = append(big, ',')
		}
		big = append(big, '1')
	}
	big = append(big, ']')
	q, err := Compile(`source | project d = parse_json(data) | mv-expand d`)
	require.NoError(t, err)
	_, err = q.Run(string(big), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than")
}

func FuzzKQL(f *testing.F) {
	for _, s := range []string{kqlBigID, kqlSource, kqlMeraki, kqlCrowd, kqlSalesforce, `source | where isnotempty(x)`} {
		f.Add(s, `{"a":[1,{"b":2}],"resources":["x"]}`)
	}
	f.Fuzz(func(t *testing.T, text, rec string) {
		q, err := Compile(text)
		if err != nil {
			return
		}
		_, _ = q.Columns(nil)
		_, _ = q.Run(rec, map[string]string{"x": "1"})
	})
}
