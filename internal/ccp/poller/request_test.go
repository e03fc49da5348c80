package poller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBuiltins(t *testing.T) {
	s := time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)
	b := builtins{start: "S", end: "E", apiKeyName: "provhash", key: "K", hasKey: true, startT: s, endT: s.Add(5 * time.Minute)}
	for in, want := range map[string]string{
		"created:{_QueryWindowStartTime}..{_QueryWindowEndTime}":         "created:S..E",
		"{'{_APIKeyName}': '{_APIKey}'}":                                 "{'{_APIKeyName}': '{_APIKey}'}", // not a template: key stays out
		"{datetime:yyyy-MM-ddTHH:mm:ssZ}/{now:yyyy-MM-ddTHH:mm:ss.fffZ}": "2024-01-02T03:04:05Z/2024-01-02T03:09:05.678Z",
		"{now:}{datetime:%}":                                             "{now:}{datetime:%}",
		"no placeholders { }":                                            "no placeholders { }",
	} {
		assert.Equal(t, want, b.apply(in, false), in)
	}
	assert.Equal(t, "{'provhash': 'K'}", b.apply("{'{_APIKeyName}': '{_APIKey}'}", true))
}
