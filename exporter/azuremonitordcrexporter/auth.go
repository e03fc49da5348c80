package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// cloudSettings returns the authority host and the Logs Ingestion scope of a cloud.
func cloudSettings(name string) (cloud.Configuration, string) {
	switch name {
	case CloudUSGovernment:
		return cloud.AzureGovernment, "https://monitor.azure.us//.default"
	case CloudChina:
		return cloud.AzureChina, "https://monitor.azure.cn//.default"
	default:
		return cloud.AzurePublic, "https://monitor.azure.com//.default"
	}
}

// newCredential builds the azidentity credential of cfg. Token requests go through client, the
// confighttp-built HTTP client, so its TLS settings (e.g. tls::ca_file) apply to Entra ID too.
func newCredential(a AuthConfig, client *http.Client) (azcore.TokenCredential, string, error) {
	cc, scope := cloudSettings(a.Cloud)
	if a.AuthorityHost != "" {
		cc = cloud.Configuration{ActiveDirectoryAuthorityHost: a.AuthorityHost}
	}
	if a.Scope != "" {
		scope = a.Scope
	}
	// One quick retry inside the credential; exporterhelper's retry_on_failure handles the rest.
	co := azcore.ClientOptions{Cloud: cc, Transport: client,
		Retry: policy.RetryOptions{MaxRetries: 1, RetryDelay: 250 * time.Millisecond, MaxRetryDelay: 2 * time.Second}}
	var (
		cred azcore.TokenCredential
		err  error
	)
	switch a.Type {
	case AuthClientSecret:
		cred, err = azidentity.NewClientSecretCredential(a.TenantID, a.ClientID, string(a.ClientSecret),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	case AuthClientCertificate:
		data, rerr := os.ReadFile(a.CertificatePath)
		if rerr != nil {
			return nil, "", fmt.Errorf("auth::certificate_path: %w", rerr)
		}
		var pw []byte
		if a.CertificatePassword != "" {
			pw = []byte(a.CertificatePassword)
		}
		certs, key, perr := azidentity.ParseCertificates(data, pw)
		if perr != nil {
			return nil, "", fmt.Errorf("auth::certificate_path %q: %w (a PEM file with the certificate and an unencrypted private key, or PKCS#12 with auth::certificate_password)", a.CertificatePath, perr)
		}
		cred, err = azidentity.NewClientCertificateCredential(a.TenantID, a.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	case AuthWorkloadIdentity:
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: co, ClientID: a.ClientID, TenantID: a.TenantID, TokenFilePath: a.FederatedTokenFile,
			DisableInstanceDiscovery: true,
		})
	case AuthManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		switch {
		case a.ClientID != "":
			o.ID = azidentity.ClientID(a.ClientID)
		case a.ManagedIdentityResourceID != "":
			o.ID = azidentity.ResourceID(a.ManagedIdentityResourceID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(o)
	case AuthAzureCLI:
		cred, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: a.TenantID})
	case AuthDefault:
		cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: co, TenantID: a.TenantID, DisableInstanceDiscovery: true})
	default:
		return nil, "", fmt.Errorf("auth::type %q is not supported", a.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("auth (%s): %w", a.Type, err)
	}
	return cred, scope, nil
}

// tokenSource caches the access token and refreshes it ahead of expiry, or on demand after a 401.
type tokenSource struct {
	cred      azcore.TokenCredential
	scope     string
	onAcquire func()

	mu  sync.Mutex
	tok azcore.AccessToken
}

// refreshMargin is how long before expiry a token is renewed (azcore's bearer policy uses 5 minutes).
const refreshMargin = 5 * time.Minute

// token returns a valid access token. refused is the token a 401 answer refused (empty otherwise):
// unless another goroutine already replaced it, a new token is acquired bypassing caches.
func (t *tokenSource) token(ctx context.Context, refused string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	force := refused != "" && t.tok.Token == refused
	if refused != "" && !force && t.tok.Token != "" {
		return t.tok.Token, nil
	}
	if !force && t.tok.Token != "" && now.Before(t.tok.ExpiresOn.Add(-refreshMargin)) &&
		(t.tok.RefreshOn.IsZero() || now.Before(t.tok.RefreshOn)) {
		return t.tok.Token, nil
	}
	opts := policy.TokenRequestOptions{Scopes: []string{t.scope}}
	if force {
		// A claims challenge makes MSAL bypass its token cache, like a CAE challenge does.
		opts.Claims = fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, now.Unix())
	}
	tok, err := t.cred.GetToken(ctx, opts)
	if err != nil {
		return "", err
	}
	if t.onAcquire != nil {
		t.onAcquire()
	}
	t.tok = tok
	return tok.Token, nil
}
