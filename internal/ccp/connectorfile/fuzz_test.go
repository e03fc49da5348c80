package connectorfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
)

// FuzzParseAndResolve: arbitrary bytes never panic the loader or resolver,
// and these properties hold:
//   - ParseJSON agrees with encoding/json (UseNumber) on strict JSON, so the
//     lenient fallbacks never change a valid file's meaning;
//   - ParseJSON round-trips: marshalling its result and parsing again gives
//     the same tree (breaks if sanitizing invents or drops values, or if
//     numbers lose their text);
//   - FromTree, Resolve and FillDummies leave their inputs untouched (Resolve
//     documents "p is not modified"; breaks on aliasing of nested maps);
//   - FromTree and FillDummies are deterministic (breaks if map iteration
//     order leaks into pollers, dummies or missing-input lists), unless the
//     file calls utcNow/newGuid.
func FuzzParseAndResolve(f *testing.F) {
	for _, p := range []string{"testdata/walkthrough_template.json", "testdata/reference_apipolling.json",
		"testdata/corpus/Dragos__dataPoller.json", "testdata/corpus/Auth0__PollingConfig.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`[{"kind":"RestApiPoller","properties":{"a":"[[parameters('x')]","b":"{{y}}"},"condition":"[[equals(1,1)]"}]`))
	f.Add([]byte("\xef\xbb\xbf{\"kind\":\"RestApiPoller\",\"properties\":{\"a\":[1.50,2e3,],\"b\":\"x\ty\"},}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseJSON(b)
		checkStrictAgrees(t, b, v, err)
		if err != nil {
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("cannot marshal the parsed tree: %v", err)
		}
		if v2, err := ParseJSON(again); err != nil || !reflect.DeepEqual(v, v2) {
			t.Fatalf("round trip changed the tree: %s -> (%v) %v", again, err, v2)
		}
		ps, err := FromTree(v, "fuzz.json")
		if after := mustJSON(t, v); !bytes.Equal(after, again) {
			t.Fatalf("FromTree modified its input: %s -> %s", again, after)
		}
		if err != nil {
			return
		}
		timeDependent := bytes.Contains(bytes.ToLower(again), []byte("utcnow")) || bytes.Contains(bytes.ToLower(again), []byte("newguid"))
		ps2, _ := FromTree(v, "fuzz.json")
		if !timeDependent && !reflect.DeepEqual(ps, ps2) {
			t.Fatalf("FromTree is not deterministic on %s", again)
		}
		for _, p := range ps {
			checkResolvePure(t, p, timeDependent)
		}
		_, _ = ParamsFromConnectBody(b)
	})
}

// checkStrictAgrees: on input encoding/json accepts, ParseJSON gives the
// same tree as a strict UseNumber decode.
func checkStrictAgrees(t *testing.T, b []byte, v any, err error) {
	t.Helper()
	if !json.Valid(b) {
		return
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var want any
	if derr := d.Decode(&want); derr != nil {
		t.Fatalf("json.Valid but Decode fails: %v", derr)
	}
	if err != nil || !reflect.DeepEqual(v, want) {
		t.Fatalf("strict JSON %q: ParseJSON gave (%#v, %v), encoding/json %#v", b, v, err, want)
	}
}

// checkResolvePure resolves p twice each way and checks p is unchanged and,
// unless timeDependent, that FillDummies repeats itself exactly.
func checkResolvePure(t *testing.T, p Poller, timeDependent bool) {
	t.Helper()
	before := mustJSON(t, p.Properties)
	params := map[string]string{"x": "1"}
	d1, m1, e1 := FillDummies(p, params)
	_, _, _ = Resolve(p, nil)
	if after := mustJSON(t, p.Properties); !bytes.Equal(before, after) {
		t.Fatalf("Resolve/FillDummies modified the poller's properties: %s -> %s", before, after)
	}
	if timeDependent {
		return
	}
	d2, m2, e2 := FillDummies(p, params)
	if fmt.Sprint(e1) != fmt.Sprint(e2) || !reflect.DeepEqual(m1, m2) ||
		!bytes.Equal(mustJSON(t, d1.Properties), mustJSON(t, d2.Properties)) || d1.Name != d2.Name || d1.Condition != d2.Condition {
		t.Fatalf("FillDummies is not deterministic for %s: (%v, %v) vs (%v, %v)", before, m1, e1, m2, e2)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}
