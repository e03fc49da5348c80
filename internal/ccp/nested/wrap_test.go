package nested

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
)

// wrapOrgs builds the org poller of orgServer as a connector does: parent engine, then Wrap.
func wrapOrgs(t *testing.T, srv *orgServer, child string) poller.WindowPoller {
	t.Helper()
	def, err := ParseDefinition(orgProps(t, srv.URL, orgKQL, child), "orgs.json")
	require.NoError(t, err)
	require.NotNil(t, def.Steps)
	a := apiKeyAuth(t)
	eo := poller0(nil)
	eo.HTTPClient, eo.Auth = srv.Client(), a
	eng, err := poller.New(def, eo)
	require.NoError(t, err)
	p, err := Wrap(eng, def, a, Options{Engine: eo, Path: "orgs.json"})
	require.NoError(t, err)
	return p
}

// The wrapped poller delivers each parent page already expanded through the steps, for the
// window PollWindow was given.
func TestWrapExpandsPages(t *testing.T) {
	srv := newOrgServer(t, []string{"a", "b"}, map[string][]string{"a": {`{"e":1}`}, "b": {`{"e":2}`, `{"e":3}`}})
	p := wrapOrgs(t, srv, `, "shouldJoinNestedData": true, "joinedDataStepName": "ev"`)
	var pages []poller.Page
	_, err := p.PollWindow(context.Background(), testWindow, "", "", func(_ context.Context, pg poller.Page) error {
		pages = append(pages, pg)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, pages, 1)
	assert.Equal(t, []string{
		`{"id":"a","meta":{"region":"eu"},"ev":{"e":1}}`,
		`{"id":"b","meta":{"region":"eu"},"ev":[{"e":2},{"e":3}]}`,
	}, pages[0].Events)
	assert.Empty(t, Warnings(p))
}

// A failed child call fails PollWindow and the page is not delivered.
func TestWrapFailsThePage(t *testing.T) {
	srv := newOrgServer(t, []string{"a", "b"}, map[string][]string{"a": {`{"e":1}`}, "b": {}})
	srv.fail = "b"
	p := wrapOrgs(t, srv, "")
	delivered := 0
	_, err := p.PollWindow(context.Background(), testWindow, "", "", func(context.Context, poller.Page) error {
		delivered++
		return nil
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nested steps of page 1")
	assert.Zero(t, delivered)
}

// Without steps Wrap returns the engine itself.
func TestWrapWithoutSteps(t *testing.T) {
	def, err := definition.Parse(ParentProps(orgProps(t, "https://h.example", orgKQL, "")), "p")
	require.NoError(t, err)
	eng, err := poller.New(def, poller.Options{})
	require.NoError(t, err)
	p, err := Wrap(eng, def, nil, Options{})
	require.NoError(t, err)
	assert.Same(t, eng, p)
	assert.Nil(t, Warnings(p))
}
