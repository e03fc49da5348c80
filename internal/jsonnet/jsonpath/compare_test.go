package jsonpath

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expected results in this file come from Json.NET's own tests, named per case:
//   - JPE = JamesNK/Newtonsoft.Json, Src/Newtonsoft.Json.Tests/Linq/JsonPath/JPathExecuteTests.cs
//   - QET = JamesNK/Newtonsoft.Json, Src/Newtonsoft.Json.Tests/Linq/JsonPath/QueryExpressionTests.cs
// Cases marked "source:" have no Json.NET test; their expectation is read from Json.NET's code
// (Src/Newtonsoft.Json/Linq/JsonPath/BooleanQueryExpression.cs MatchTokens, JValue.CompareTo).
// Cases marked "deliberate:" are this package's documented choice where Json.NET throws.

func selectCount(t *testing.T, doc, path string) int {
	t.Helper()
	rs, err := MustCompile(path).SelectString(doc)
	require.NoError(t, err, path)
	return len(rs)
}

func TestStringNumberOrdering(t *testing.T) {
	usingmem := `{"usingmem": "214376"}`
	personsStr := `{"persons": [{"name": "John", "age": "26"}, {"name": "Jane", "age": "2"}]}`
	personsNum := `{"persons": [{"name": "John", "age": 26}, {"name": "Jane", "age": 2}]}`
	for _, tc := range []struct {
		name, doc, path string
		want            []string
	}{
		// JPE GreaterThanIssue1518: each of the four paths selects the root object.
		{"JPE GreaterThanIssue1518 >10", usingmem, `$..[?(@.usingmem>10)]`, []string{usingmem}},
		{"JPE GreaterThanIssue1518 >27000", usingmem, `$..[?(@.usingmem>27000)]`, []string{usingmem}},
		{"JPE GreaterThanIssue1518 >21437", usingmem, `$..[?(@.usingmem>21437)]`, []string{usingmem}},
		{"JPE GreaterThanIssue1518 >21438", usingmem, `$..[?(@.usingmem>21438)]`, []string{usingmem}},
		// JPE GreaterThanWithIntegerParameterAndStringValue: one result (John, "26").
		{"JPE GreaterThanWithIntegerParameterAndStringValue", personsStr, `$.persons[?(@.age > 3)].name`, []string{`"John"`}},
		// JPE GreaterThanWithStringParameterAndIntegerValue: one result (John, 26).
		{"JPE GreaterThanWithStringParameterAndIntegerValue", personsNum, `$.persons[?(@.age > '3')].name`, []string{`"John"`}},
		// QET BooleanExpressionTest_GreaterThanOperator: GreaterThan 3 over the array's elements.
		{"QET GreaterThan [\"2\",\"26\"]", `[["2","26"]]`, `$[?(@[*] > 3)]`, []string{`["2","26"]`}},
		{"QET GreaterThan [2,26]", `[[2,26]]`, `$[?(@[*] > 3)]`, []string{`[2,26]`}},
		{"QET GreaterThan [2,3]", `[[2,3]]`, `$[?(@[*] > 3)]`, nil},
		{"QET GreaterThan [\"2\",\"3\"]", `[["2","3"]]`, `$[?(@[*] > 3)]`, nil},
		// QET BooleanExpressionTest_GreaterThanOrEqualsOperator.
		{"QET GreaterThanOrEquals [\"2\",\"26\"]", `[["2","26"]]`, `$[?(@[*] >= 3)]`, []string{`["2","26"]`}},
		{"QET GreaterThanOrEquals [2,3]", `[[2,3]]`, `$[?(@[*] >= 3)]`, []string{`[2,3]`}},
		{"QET GreaterThanOrEquals [\"2\",\"3\"]", `[["2","3"]]`, `$[?(@[*] >= 3)]`, []string{`["2","3"]`}},
		{"QET GreaterThanOrEquals [2,1]", `[[2,1]]`, `$[?(@[*] >= 3)]`, nil},
		{"QET GreaterThanOrEquals [\"2\",\"1\"]", `[["2","1"]]`, `$[?(@[*] >= 3)]`, nil},
		// QET BooleanExpressionTest: LessThan 3 is false for ("11", 5); LessThanOrEquals 3 too.
		{"QET LessThan [\"11\",5]", `[["11",5]]`, `$[?(@[*] < 3)]`, nil},
		{"QET LessThanOrEquals [\"11\",5]", `[["11",5]]`, `$[?(@[*] <= 3)]`, nil},
		// source: JValue.CompareTo converts the string to the number's type; white space and a
		// sign are accepted by .NET's Int64 parsing.
		{"source: signed string with spaces", `[{"v":" -4 "}]`, `$[?(@.v < -3)].v`, []string{`" -4 "`}},
		// deliberate: Json.NET reads the string with Convert.ToInt64 against an integer and throws
		// for "2.5"; here a decimal string compares numerically.
		{"deliberate: decimal string vs integer", `[{"v":"2.5"}]`, `$[?(@.v > 2)].v`, []string{`"2.5"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := MustCompile(tc.path).SelectString(tc.doc)
			require.NoError(t, err)
			assertRaws(t, tc.want, rs)
		})
	}
}

// deliberate: a string that is not a number against a number makes Json.NET throw (JValue.Compare
// → Convert.ToInt64 FormatException) and the whole selection fails. Here that comparison is false,
// the other elements are still selected, and SelectStringWarn reports it once with the path, the
// value and a count.
func TestNonNumericStringComparisonWarns(t *testing.T) {
	doc := `{"persons": [{"name": "John", "age": "26"}, {"name": "X", "age": "unknown"}, {"name": "Y", "age": "n/a"}]}`
	path := `$.persons[?(@.age > 3)].name`
	var got []CompareWarning
	rs, err := MustCompile(path).SelectStringWarn(doc, 0, func(w CompareWarning) { got = append(got, w) })
	require.NoError(t, err)
	assert.Equal(t, []string{`"John"`}, raws(rs))
	require.Len(t, got, 1, "one warning per selection")
	assert.Equal(t, CompareWarning{Path: path, Op: ">", Value: "unknown", Number: "3", Count: 2}, got[0])
	assert.Contains(t, got[0].String(), `"unknown" > 3`)

	// The literal side may be the string: 26 < 'abc'.
	got = nil
	_, err = MustCompile(`$.persons[?(@.age < 'abc')]`).SelectStringWarn(`{"persons":[{"age":26}]}`, 0, func(w CompareWarning) { got = append(got, w) })
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, CompareWarning{Path: `$.persons[?(@.age < 'abc')]`, Op: "<", Value: "abc", Number: "26", Count: 1}, got[0])

	// Numeric strings, equality operators and string-vs-string orderings warn about nothing.
	for _, p := range []string{`$.persons[?(@.age > 'a')]`, `$.persons[?(@.age == 3)]`, `$.persons[?(@.age != 3)]`} {
		_, err = MustCompile(p).SelectStringWarn(doc, 0, func(w CompareWarning) { t.Errorf("%s: unexpected warning %v", p, w) })
		require.NoError(t, err)
	}
	// A long value is cut in the warning.
	long := strings.Repeat("z", 200)
	got = nil
	_, err = MustCompile(`$[?(@ > 1)]`).SelectStringWarn(`["`+long+`"]`, 0, func(w CompareWarning) { got = append(got, w) })
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, strings.Repeat("z", 64)+"...", got[0].Value)
}

func TestNotEqualsAlias(t *testing.T) {
	// JPE NotEqualsQuery: [ ?( @..hi <> 'ha' ) ] keeps only the array holding {"hi":"ho"}.
	rs, err := MustCompile(`[ ?( @..hi <> 'ha' ) ]`).SelectString(`[[{"hi":"ho"}],[{"hi":"ha"}]]`)
	require.NoError(t, err)
	assert.Equal(t, []string{`[{"hi":"ho"}]`}, raws(rs))
	// JPE MultipleQueries: [?(@ <> 1)][?(@ <> 4)][?(@ < 7)] over 1..9 selects nothing (the first
	// filter yields integers, which have no children to filter).
	assert.Equal(t, 0, selectCount(t, `[1,2,3,4,5,6,7,8,9]`, `[?(@ <> 1)][?(@ <> 4)][?(@ < 7)]`))
	// <> is != : same results on JPE NotEqualsAndNonPrimativeValues' document.
	doc := `[{"name":"string","value":"aString"},{"name":"number","value":123},{"name":"array","value":[1,2,3,4]},{"name":"object","value":{"1":1}}]`
	assert.Equal(t, 3, selectCount(t, doc, `$.[?(@.value<>123)]`))
	assert.Equal(t, 4, selectCount(t, doc, `$.[?(@.value<>1)]`))
}

func TestStrictEquality(t *testing.T) {
	// JPE EqualsStrict with StrictMatchTestData (each pair is also tested inverted, as
	// StrictMatchWithInverseTestData does): $.Values[?(@.Property === v2)] matches exactly when
	// matchStrict, and !== exactly when not. Json.NET's test writes '1' in the JSON document too
	// (it accepts single quotes); here the document uses "1".
	data := []struct {
		v1, v2 string
		strict bool
	}{
		{"1", "1", true}, {"1", "1.0", true}, {"1", "true", false}, {"1", "'1'", false},
		{"'1'", "'1'", true}, {"false", "false", true}, {"true", "false", false}, {"1", "1.1", false},
		{"1", "null", false}, {"null", "null", true}, {"null", "'null'", false},
	}
	check := func(v1, v2 string, strict bool) {
		doc := `{"Values":[{"Property":` + strings.ReplaceAll(v1, "'", `"`) + `}]}`
		assert.Equal(t, strict, selectCount(t, doc, `$.Values[?(@.Property === `+v2+`)]`) > 0, "%s === %s", v1, v2)
		assert.Equal(t, !strict, selectCount(t, doc, `$.Values[?(@.Property !== `+v2+`)]`) > 0, "%s !== %s", v1, v2)
	}
	for _, d := range data {
		check(d.v1, d.v2, d.strict)
		if d.v1 != d.v2 {
			check(d.v2, d.v1, d.strict)
		}
	}

	// JPE IdentityOperator.
	doc := `{"Values":[{"Coercible":1,"Name":"Number"},{"Coercible":"1","Name":"String"}]}`
	names := func(p string) []string {
		rs, err := MustCompile(p).SelectString(doc)
		require.NoError(t, err)
		return raws(rs)
	}
	assert.Equal(t, []string{`"Number"`}, names(`Values[?(@.Coercible === 1)].Name`))
	assert.Equal(t, []string{`"String"`}, names(`Values[?(@.Coercible !== 1)].Name`))
	assert.Equal(t, []string{`"String"`}, names(`Values[?(@.Coercible === '1')].Name`))
	assert.Equal(t, []string{`"Number"`}, names(`Values[?(@.Coercible !== '1')].Name`))
	// The test's comments record what == and != return: { "String" } and { "Number" }.
	assert.Equal(t, []string{`"String"`}, names(`Values[?(@.Coercible == '1')].Name`))
	assert.Equal(t, []string{`"Number"`}, names(`Values[?(@.Coercible != '1')].Name`))

	// source: MatchTokens answers true for a non-JValue token only with != (NotEquals) and
	// Exists, so !== against an array or object is false while != is true
	// (JPE NotEqualsAndNonPrimativeValues: $.[?(@.value!=1)] selects all 4).
	npv := `[{"name":"string","value":"aString"},{"name":"number","value":123},{"name":"array","value":[1,2,3,4]},{"name":"object","value":{"1":1}}]`
	assert.Equal(t, 4, selectCount(t, npv, `$.[?(@.value!=1)]`))
	assert.Equal(t, 2, selectCount(t, npv, `$.[?(@.value!==1)]`))
}
