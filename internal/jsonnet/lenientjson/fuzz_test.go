package lenientjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzNormalize: never panics; when ok the output is valid JSON, and
// normalising it again is the identity (strict JSON is a fixed point).
func FuzzNormalize(f *testing.F) {
	for _, tt := range corpusTemplates {
		f.Add([]byte(tt.in))
	}
	for _, s := range []string{
		`{'cid': 1234567, '{_APIKeyName}': '{_APIKey}'}`, `{'ids': ['$Url_PlaceHolder$']}`,
		`{a: [1, 2,], /* c */ b: 'x\'y' // z` + "\n}", `[1.0, -0, 1e10]`, `{'a': {_QueryWindowStartTime}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, ok := Normalize(in)
		if !ok {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q from %q", out, in)
		}
		again, ok := Normalize(out)
		if !ok || !bytes.Equal(again, out) {
			t.Fatalf("not a fixed point: %q -> %q (%v)", out, again, ok)
		}
	})
}
