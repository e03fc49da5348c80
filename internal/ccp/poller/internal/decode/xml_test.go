package decode

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestXMLLikeJsonNet(t *testing.T) {
	in := `<?xml version="1.0"?>
<response status="ok">
  <events>
    <event id="1"><user>alice</user><action>login</action></event>
    <event id="2"><user>bob</user><action>logout</action><note/></event>
  </events>
  <next>abc</next>
</response>`
	out, err := Decode(strings.NewReader(in), Options{Format: "xml"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"response": {"@status": "ok", "events": {"event": [
	  {"@id": "1", "user": "alice", "action": "login"},
	  {"@id": "2", "user": "bob", "action": "logout", "note": null}]}, "next": "abc"}}`, string(out))

	_, err = Decode(strings.NewReader(`<a><b></a>`), Options{Format: "xml"})
	assert.ErrorIs(t, err, ErrInvalid)
	deep := strings.Repeat("<a>", 2000) + strings.Repeat("</a>", 2000)
	_, err = Decode(strings.NewReader(deep), Options{Format: "xml"})
	assert.ErrorIs(t, err, ErrTooDeep)
	_, err = Decode(bytes.NewReader([]byte(`<a>x</a><b/>`)), Options{Format: "xml"})
	assert.Error(t, err)
}
