package jsonpath

import (
	"testing"

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
	f.Fuzz(func(t *testing.T, path string, doc []byte) {
		p, err := Compile(path)
		if err != nil {
			return
		}
		rs, _ := p.Select(doc)
		if gjson.ValidBytes(doc) {
			for _, r := range rs {
				if r.Type == gjson.JSON && !gjson.Valid(r.Raw) {
					t.Fatalf("invalid raw match %q", r.Raw)
				}
			}
		}
		p.Scalar(doc)
		// The match cap holds: at most max matches, or ErrTooManyMatches and nothing.
		const max = 3
		capped, err := p.SelectStringMax(string(doc), max)
		if len(capped) > max || (err != nil && capped != nil) {
			t.Fatalf("cap %d: %d matches, err %v", max, len(capped), err)
		}
		if err == nil && len(rs) <= max && len(capped) != len(rs) {
			t.Fatalf("under the cap the results must not change: %d vs %d", len(capped), len(rs))
		}
		if gjson.ValidBytes(doc) {
			if out, err := SetInBody(doc, path, "v"); err == nil && !gjson.ValidBytes(out) {
				t.Fatalf("SetInBody produced invalid JSON %q", out)
			}
		}
	})
}
