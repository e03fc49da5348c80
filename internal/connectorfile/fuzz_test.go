package connectorfile

import (
	"os"
	"testing"
)

// FuzzParseAndResolve: arbitrary bytes never panic the loader or resolver.
func FuzzParseAndResolve(f *testing.F) {
	for _, p := range []string{"testdata/walkthrough_template.json", "testdata/reference_apipolling.json",
		"testdata/corpus/Dragos__dataPoller.json", "testdata/corpus/Auth0__PollingConfig.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`[{"kind":"RestApiPoller","properties":{"a":"[[parameters('x')]","b":"{{y}}"},"condition":"[[equals(1,1)]"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseJSON(b)
		if err != nil {
			return
		}
		ps, err := FromTree(v, "fuzz.json")
		if err != nil {
			return
		}
		for _, p := range ps {
			_, _, _ = FillDummies(p, map[string]string{"x": "1"})
			_, _, _ = Resolve(p, nil)
		}
		_, _ = ParamsFromConnectBody(b)
	})
}
