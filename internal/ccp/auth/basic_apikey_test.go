package auth

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBasic(t *testing.T) {
	tests := []struct {
		name    string
		auth    map[string]any
		creds   Credentials
		want    string
		wantErr string
	}{
		{"definition values", map[string]any{"type": "Basic", "UserName": "alice", "Password": "pa:ss"}, Credentials{}, "alice:pa:ss", ""},
		{"lower-case keys", map[string]any{"type": "basic", "username": "bob", "password": "pw12"}, Credentials{}, "bob:pw12", ""},
		{"legacy connect-time credentials", map[string]any{"authType": "Basic"}, Credentials{Username: "carol", Password: "legacy-pw"}, "carol:legacy-pw", ""},
		{"definition wins over credentials", map[string]any{"type": "Basic", "UserName": "dave", "Password": "def-pw"}, Credentials{Username: "x", Password: "y"}, "dave:def-pw", ""},
		{"empty definition values filled", map[string]any{"type": "Basic", "UserName": "", "Password": ""}, Credentials{Username: "erin", Password: "cfg-pw"}, "erin:cfg-pw", ""},
		{"missing password", map[string]any{"type": "Basic", "UserName": "frank"}, Credentials{}, "", "Password is missing"},
		{"missing user", map[string]any{"authType": "Basic"}, Credentials{}, "", "UserName is missing"},
		{"unresolved placeholder", map[string]any{"type": "Basic", "UserName": "{{username}}", "Password": "x"}, Credentials{}, "", "placeholder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, req := applyCase(t, tc.auth, tc.creds, tc.wantErr)
			if a == nil {
				return
			}
			require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(tc.want)), req.Header.Get("Authorization"))
			a.Invalidate() // no-op
			require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(tc.want)), apply(t, a).Header.Get("Authorization"))
		})
	}
}

func TestAPIKey(t *testing.T) {
	tests := []struct {
		name     string
		auth     map[string]any
		creds    Credentials
		header   string // header name expected
		value    string // its value
		inBody   bool
		template map[string]string
		wantErr  string
	}{
		{"defaults: no name, no identifier => Authorization: token <key>",
			map[string]any{"type": "APIKey", "ApiKey": "k1"}, Credentials{}, "Authorization", "token k1", false, nil, ""},
		{"name without identifier => raw key (Meraki)",
			map[string]any{"type": "APIKey", "ApiKey": "k2", "ApiKeyName": "X-Cisco-Meraki-API-Key"}, Credentials{}, "X-Cisco-Meraki-API-Key", "k2", false, nil, ""},
		{"Authorization name without identifier => raw key (Cortex XDR)",
			map[string]any{"type": "APIKey", "ApiKey": "k3", "ApiKeyName": "Authorization"}, Credentials{}, "Authorization", "k3", false, nil, ""},
		{"identifier without name => Authorization with identifier",
			map[string]any{"type": "APIKey", "ApiKey": "k4", "ApiKeyIdentifier": "Bearer"}, Credentials{}, "Authorization", "Bearer k4", false, nil, ""},
		{"identifier present but empty => no prefix",
			map[string]any{"type": "APIKey", "ApiKey": "k5", "ApiKeyIdentifier": ""}, Credentials{}, "Authorization", "k5", false, nil, ""},
		{"name present but empty => Authorization, no prefix",
			map[string]any{"type": "APIKey", "ApiKey": "k6", "ApiKeyName": ""}, Credentials{}, "Authorization", "k6", false, nil, ""},
		{"null identifier counts as absent",
			map[string]any{"type": "APIKey", "ApiKey": "k7", "ApiKeyIdentifier": nil}, Credentials{}, "Authorization", "token k7", false, nil, ""},
		{"SSWS lower-case keys (Okta)",
			map[string]any{"type": "APIKey", "apiKey": "k8", "apiKeyName": "Authorization", "apiKeyIdentifier": "SSWS"}, Credentials{}, "Authorization", "SSWS k8", false, nil, ""},
		{"legacy upper-case keys, key from credentials (GitHub native)",
			map[string]any{"authType": "APIKey", "APIKeyName": "Authorization", "APIKeyIdentifier": "token"}, Credentials{APIKey: "ghp_legacy"}, "Authorization", "token ghp_legacy", false, nil, ""},
		{"IsAPIKeyInPostPayload string False => header (Island)",
			map[string]any{"authType": "APIKey", "APIKeyName": "Api-Key", "IsAPIKeyInPostPayload": "False"}, Credentials{APIKey: "isl"}, "Api-Key", "isl", false, nil, ""},
		{"IsAPIKeyInPostPayload true => no header, template values (LastPass)",
			map[string]any{"authType": "APIKey", "APIKeyName": "provhash", "IsAPIKeyInPostPayload": true}, Credentials{APIKey: "lp-hash"}, "", "", true,
			map[string]string{"{_APIKeyName}": "provhash", "{_APIKey}": "lp-hash"}, ""},
		{"IsApiKeyInPostPayload string true",
			map[string]any{"type": "APIKey", "ApiKey": "kb", "ApiKeyName": "key", "IsApiKeyInPostPayload": "true"}, Credentials{}, "", "", true,
			map[string]string{"{_APIKeyName}": "key", "{_APIKey}": "kb"}, ""},
		{"missing key", map[string]any{"authType": "APIKey", "APIKeyName": "Authorization"}, Credentials{}, "", "", false, nil, "ApiKey is missing"},
		{"unresolved ARM expression", map[string]any{"type": "APIKey", "ApiKey": "[[parameters('apiKey')]"}, Credentials{}, "", "", false, nil, "placeholder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, req := applyCase(t, tc.auth, tc.creds, tc.wantErr)
			if a == nil {
				return
			}
			tp, ok := a.(TemplateProvider)
			require.True(t, ok)
			if tc.inBody {
				require.Empty(t, req.Header, "no header when the key is in the body")
				require.Equal(t, tc.template, tp.TemplateValues())
				return
			}
			require.Len(t, req.Header, 1)
			require.Equal(t, tc.value, req.Header.Get(tc.header))
			require.Empty(t, tp.TemplateValues())
		})
	}
}
