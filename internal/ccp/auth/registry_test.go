package auth

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

func TestRegistry(t *testing.T) {
	for _, typ := range []string{"Basic", "basic", "APIKEY", "apikey", "OAuth2", "oauth2", "None"} {
		require.True(t, Supported(typ), typ)
	}
	for _, typ := range []string{"Oracle", "AWS", "GCP", "GitHub", "ServiceBus", "ServicePrincipal", "Kerberos", ""} {
		require.False(t, Supported(typ), typ)
	}
	_, err := New(definition.Auth{Type: "Oracle"}, Settings{})
	require.ErrorContains(t, err, `"Oracle" is not supported`)
	require.ErrorContains(t, err, "OCI")
	require.ErrorContains(t, err, "APIKey")
	_, err = New(definition.Auth{Type: "Kerberos"}, Settings{})
	require.ErrorContains(t, err, `"Kerberos" is not supported (supported: `)
	_, err = New(definition.Auth{}, Settings{})
	require.ErrorContains(t, err, "no type")

	a, err := New(definition.Auth{Type: "None"}, Settings{})
	require.NoError(t, err)
	require.Empty(t, apply(t, a).Header)
	require.Panics(t, func() { Register("basic", newBasic) })
}
