package jsonpath

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Seed paths are the JSONPaths found in /work/shared/ccp-corpus
// (eventsJsonPaths, nextPageTokenJsonPath, JwtTokenJsonPath, ...).
var corpusPaths = []string{
	"", "$", "$.data", "$.resources", "$.items", "$.items[*]", "$.results", "$.responseData[*]",
	"$[*].event", "$.reply.data", "$.records", "$.entries", "$..records", "$..entries",
	"$..messagesDelivered", "$.data.alerts.edges[*].node", "$[?(@.TableKind == 'PrimaryResult')].Rows[0][0]",
	"$[*]", "$.rows[*]", "$.response.authlogs", "$.[-1:].log_id", "..response_metadata.next_cursor",
	"null", "$.pagination.nextCursor", "$.meta.pagination.after", "$.data.token", "$.variables.after",
	"$.request_data.search_from", "$page", "$[-1]", "$.alerts[-1:]._id", "$['a b'][0,1]", "$..*",
	"$[?(@.a >= 1 && @.b != 'x' || @.c)]", "$[::-1]", "$..[?(@.x =~ /a.*/i)]",
}

// FuzzSelect: Compile/Select/Scalar/SetInBody never panic, and:
//   - matches of a valid document are valid JSON;
//   - determinism: selecting twice gives the same matches;
//   - the match cap holds: at most max matches, or ErrTooManyMatches and
//     nothing; under the cap the results are exactly the uncapped ones;
//   - agreement with encoding/json on plain member paths ($.a.b, up to four
//     identifiers): one match holding the value a last-wins decode finds, or
//     none (breaks on wrong duplicate-key, array or missing-key handling);
//   - SetInBody round trip on a duplicate-free object: the path then selects
//     the value set, and setting it again changes nothing.
func FuzzSelect(f *testing.F) {
	docs := []string{
		`{"data":[{"id":1},{"id":2}],"pagination":{"nextCursor":"abc"}}`,
		`[{"log_id":"1"},{"log_id":"2"}]`,
		`[{"TableKind":"PrimaryResult","Rows":[["c"]]}]`,
		`{"null":"x","$page":1,"a b":[1,2]}`,
		`{"response_metadata":{"next_cursor":""}}`,
		`5`, `"s"`, `[]`, `{}`, `{"a":`, `[[[[`,
	}
	for i, p := range corpusPaths {
		f.Add(p, []byte(docs[i%len(docs)]))
	}
	f.Add("$.a.b", []byte(`{"a":{"b":1},"a":{"b":[2.50,{"c":3}]}}`))
	f.Add("$.request_data.search_from", []byte(`{"request_data":7,"x":[1]}`))
	f.Fuzz(func(t *testing.T, path string, doc []byte) {
		p, err := Compile(path)
		if err != nil {
			return
		}
		rs, selErr := p.Select(doc)
		valid := gjson.ValidBytes(doc)
		if valid {
			for _, r := range rs {
				if r.Type == gjson.JSON && !gjson.Valid(r.Raw) {
					t.Fatalf("invalid raw match %q", r.Raw)
				}
			}
		}
		rs2, selErr2 := p.Select(doc)
		if !reflect.DeepEqual(raws(rs), raws(rs2)) || (selErr == nil) != (selErr2 == nil) {
			t.Fatalf("%q: not deterministic: %q vs %q", path, raws(rs), raws(rs2))
		}
		p.Scalar(doc)
		// The match cap holds: at most max matches, or ErrTooManyMatches and nothing.
		const max = 3
		capped, err := p.SelectStringMax(string(doc), max)
		if len(capped) > max || (err != nil && capped != nil) {
			t.Fatalf("cap %d: %d matches, err %v", max, len(capped), err)
		}
		if err == nil && selErr == nil && len(rs) <= max && !reflect.DeepEqual(raws(capped), raws(rs)) {
			t.Fatalf("under the cap the results must not change: %q vs %q", raws(capped), raws(rs))
		}
		if valid && json.Valid(doc) {
			checkMemberPath(t, path, doc, rs, selErr)
			checkSetRoundTrip(t, path, doc)
		}
	})
}

var memberPath = regexp.MustCompile(`^\$(\.[A-Za-z_][A-Za-z0-9_]{0,15}){1,4}$`)

func decodeNumbers(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// checkMemberPath compares a plain member path with a walk over the
// encoding/json decode of doc (duplicate keys: the last wins, as in Json.NET).
func checkMemberPath(t *testing.T, path string, doc []byte, rs []gjson.Result, err error) {
	t.Helper()
	if !memberPath.MatchString(path) {
		return
	}
	cur, derr := decodeNumbers(doc)
	if derr != nil {
		return
	}
	found := true
	for _, name := range strings.Split(path, ".")[1:] {
		m, ok := cur.(map[string]any)
		if cur, found = m[name]; !ok || !found {
			found = false
			break
		}
	}
	if err != nil || len(rs) != map[bool]int{true: 1, false: 0}[found] {
		t.Fatalf("%q on %s: %q (%v), reference found=%v", path, doc, raws(rs), err, found)
	}
	if !found {
		return
	}
	if got, gerr := decodeNumbers([]byte(rs[0].Raw)); gerr != nil || !reflect.DeepEqual(got, cur) {
		t.Fatalf("%q on %s: match %s, reference %#v", path, doc, rs[0].Raw, cur)
	}
}

// checkSetRoundTrip sets "v" at path in the duplicate-free form of doc.
func checkSetRoundTrip(t *testing.T, path string, doc []byte) {
	t.Helper()
	if !utf8.ValidString(path) {
		return // paths come from decoded JSON, always UTF-8; gjson cannot match a broken key
	}
	v, err := decodeNumbers(doc)
	if err != nil {
		return
	}
	if _, ok := v.(map[string]any); !ok {
		return
	}
	norm, _ := json.Marshal(v)
	out, err := SetInBody(norm, path, "v")
	if err != nil {
		return
	}
	if !gjson.ValidBytes(out) {
		t.Fatalf("SetInBody produced invalid JSON %q", out)
	}
	if got, ok := MustCompile(path).Scalar(out); !ok || got != "v" {
		t.Fatalf("SetInBody(%s, %q) = %s, where the path selects (%q, %v)", norm, path, out, got, ok)
	}
	if again, err := SetInBody(out, path, "v"); err != nil || !bytes.Equal(again, out) {
		t.Fatalf("setting %q twice changed %s to %s (%v)", path, out, again, err)
	}
}
