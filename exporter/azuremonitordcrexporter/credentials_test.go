package azuremonitordcrexporter

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
)

func TestCredentialTypes(t *testing.T) {
	cert, bundle, err := logsingestion.NewClientCertificate("client-1")
	require.NoError(t, err)
	dir := t.TempDir()
	certFile := filepath.Join(dir, "client.pem")
	require.NoError(t, os.WriteFile(certFile, bundle, 0o600))
	tokenFile := filepath.Join(dir, "federated-token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("eyJ.projected-service-account-token.sig"), 0o600))
	emu := startEmulator(t, func(o *logsingestion.Options) {
		o.ClientCertificates = append(o.ClientCertificates, cert)
		o.FederatedTokens = []string{"eyJ.projected-service-account-token.sig"}
		o.ManagedIdentityResourceID = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/collector"
	})

	cases := []struct {
		name  string
		auth  AuthConfig
		env   map[string]string
		grant string
	}{
		{"client_secret", AuthConfig{Type: AuthClientSecret, TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1"}, nil, "client_secret"},
		{"client_certificate", AuthConfig{Type: AuthClientCertificate, TenantID: "tenant-1", ClientID: "client-1", CertificatePath: certFile}, nil, "client_certificate"},
		{"workload_identity", AuthConfig{Type: AuthWorkloadIdentity, TenantID: "tenant-1", ClientID: "client-1", FederatedTokenFile: tokenFile}, nil, "federated"},
		{"workload_identity_env", AuthConfig{Type: AuthWorkloadIdentity}, map[string]string{
			"AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "client-1", "AZURE_FEDERATED_TOKEN_FILE": tokenFile}, "federated"},
		{"managed_identity_system", AuthConfig{Type: AuthManagedIdentity}, map[string]string{
			"IDENTITY_ENDPOINT": emu.IdentityEndpoint(), "IDENTITY_HEADER": emu.IdentityHeader()}, "managed_identity_appservice"},
		{"managed_identity_user_assigned", AuthConfig{Type: AuthManagedIdentity,
			ManagedIdentityResourceID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/collector"},
			map[string]string{"IDENTITY_ENDPOINT": emu.IdentityEndpoint(), "IDENTITY_HEADER": emu.IdentityHeader()}, "managed_identity_appservice"},
		{"default_chain_env_secret", AuthConfig{Type: AuthDefault}, map[string]string{
			"AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "client-1", "AZURE_CLIENT_SECRET": "secret-1"}, "client_secret"},
	}
	total := 0
	for _, c := range cases {
		total += 20
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			before := emu.Stats().TokenRequests[c.grant]
			cfg := emulatorConfig(emu)
			c.auth.AuthorityHost = emu.AuthorityHost()
			cfg.Auth = c.auth
			require.NoError(t, cfg.Validate())
			e := mustStartRaw(t, cfg) // includes the startup check
			require.NoError(t, e.pushLogs(context.Background(), genLogs(20, 300, c.name)))
			assert.Len(t, ids(emu.Rows(testDCR, testStream)), total)
			assert.Equal(t, before+1, emu.Stats().TokenRequests[c.grant], "token acquired once and cached")
		})
	}
}

// TestAzureCLICredential uses a fake `az` on PATH. The real service refuses user tokens
// (UnsupportedAccessTokenType), which the startup check reports through component status.
func TestAzureCLICredential(t *testing.T) {
	emu := startEmulator(t, nil)
	dir := t.TempDir()
	writeAz := func(token string) {
		script := "#!/bin/sh\ncat <<'EOF'\n{\"accessToken\":\"" + token + "\",\"expires_on\":" +
			strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + ",\"tenant\":\"tenant-1\",\"tokenType\":\"Bearer\"}\nEOF\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "az"), []byte(script), 0o700))
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfg := emulatorConfig(emu)
	cfg.Auth = AuthConfig{Type: AuthAzureCLI}

	writeAz(emu.MintToken(logsingestion.TokenSpec{User: true}))
	refused := mustStartRaw(t, cfg) // reported, not fatal: the collector keeps running
	require.ErrorContains(t, refused.status.last().Err(), "UnsupportedAccessTokenType")
	require.ErrorContains(t, refused.status.last().Err(), "application identity")

	writeAz(emu.MintToken(logsingestion.TokenSpec{}))
	e := mustStartRaw(t, cfg)
	require.NoError(t, e.pushLogs(context.Background(), genLogs(10, 200, "cli")))
	assert.Equal(t, 10, emu.RowCount())
}
