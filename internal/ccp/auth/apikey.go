package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

func init() { Register("APIKey", newAPIKey) }

// apiKeyAuth sends the key in a header, or — IsApiKeyInPostPayload — hands it to the request
// template through TemplateValues (§3.2).
type apiKeyAuth struct {
	fixedAuth
	headerName  string
	headerValue string
	inBody      bool
	keyName     string // ApiKeyName as written, for {_APIKeyName}
	key         string
}

// defaultAPIKeyIdentifier is S1's documented default prefix. It applies only when the
// definition gives neither ApiKeyName nor ApiKeyIdentifier: real connectors that name a header
// and omit the identifier need the raw key (Meraki, Cortex XDR, Island).
const defaultAPIKeyIdentifier = "token"

func newAPIKey(def definition.Auth, s Settings) (Authenticator, error) {
	f := def.Fields
	key, err := field(f, s.Credentials.APIKey, "ApiKey")
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, errors.New("ApiKey is missing; set auth.ApiKey (legacy APIPolling files: supply api_key in the receiver config)")
	}
	name, nameOK := f.StringOK("ApiKeyName")
	ident, identOK := f.StringOK("ApiKeyIdentifier")
	name, ident = strings.TrimSpace(name), strings.TrimSpace(ident)
	if unresolved(name) || unresolved(ident) {
		return nil, errors.New("ApiKeyName/ApiKeyIdentifier still hold a placeholder or ARM expression; supply their values under parameters")
	}
	a := &apiKeyAuth{
		inBody:  f.Bool("IsApiKeyInPostPayload"),
		keyName: name,
		key:     key,
	}
	a.headerName = name
	if a.headerName == "" {
		a.headerName = "Authorization"
	}
	prefix := ident
	if !nameOK && !identOK {
		prefix = defaultAPIKeyIdentifier
	}
	if prefix != "" {
		a.headerValue = prefix + " " + key
	} else {
		a.headerValue = key
	}
	a.sec.add(key)
	return a, nil
}

func (a *apiKeyAuth) Apply(_ context.Context, req *http.Request) error {
	if a.inBody {
		return nil
	}
	req.Header.Set(a.headerName, a.headerValue)
	return nil
}

// TemplateValues gives {_APIKeyName} and {_APIKey} when the key belongs in the POST body, and
// nothing otherwise.
func (a *apiKeyAuth) TemplateValues() map[string]string {
	if !a.inBody {
		return map[string]string{}
	}
	return map[string]string{TemplateAPIKeyName: a.keyName, TemplateAPIKey: a.key}
}
