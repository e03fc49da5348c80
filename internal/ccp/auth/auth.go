// Package auth applies the credentials of a CCP poller's auth object to API requests.
//
// Every auth type lives in its own file and registers a Factory for its type name in that
// file's init(); the polling engine only knows New, Authenticator and TemplateProvider.
//
//	Basic          basic.go        Authorization: Basic base64(user:pass)
//	APIKey         apikey.go       <ApiKeyName|Authorization>: [<identifier> ]<key>, or the key in the POST body
//	None           none.go         nothing
//	OAuth2         oauth2.go       client_credentials; token cache, renewal 60 s before expiry
//	               oauth2_code.go  authorization_code (+ refresh rotation in State), password, JWT bearer
//	JwtToken       jwttoken.go     login call, token from JSONPath or header, re-login before exp
//	Session        session.go      login call, session id header/cookie/body, timeout
//	CiscoDuo       ciscoduo.go     Duo Admin API HMAC signing (v2 HMAC-SHA512 by default, HMAC-SHA1 on request; v5 SHA512)
//	AliCloudSlsV1  alicloudsls.go  Alibaba Log Service v1 signing
//
// Oracle, AWS, GCP, GitHub, ServiceBus and ServicePrincipal are refused by New with the reason
// (they belong to non-HTTP connector kinds). Secrets
// never appear in errors or logs: every error an Authenticator returns has the secrets it knows
// replaced by "[REDACTED]", and Scrub does the same for any text (a vendor error body). Token and
// login calls follow redirects only within the endpoint's scheme, host and port (internal/origin).
package auth

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

// Authenticator applies credentials to API requests of one poller. It is safe for concurrent use.
type Authenticator interface {
	// Apply adds credentials to req (headers, signature, cookies). It may call the token
	// endpoint. The engine calls it only for requests to the configured API host, and last:
	// signing types (CiscoDuo, AliCloudSlsV1) sign the method, URL, headers and body as they
	// are when Apply runs.
	Apply(ctx context.Context, req *http.Request) error
	// Invalidate drops cached tokens/sessions after the API answered 401, so the next Apply
	// logs in again.
	Invalidate()
}

// Scrubber is implemented by every Authenticator of this package. Scrub replaces each secret
// the Authenticator knows (configured secrets, tokens and session ids it obtained, and their
// URL-, query- and JSON-escaped forms) with "[REDACTED]", so that text an API echoed back (an
// error body) can be logged.
type Scrubber interface{ Scrub(s string) string }

// Scrub removes the secrets a knows from s. It returns s unchanged when a is nil or does not
// implement Scrubber (an Authenticator from outside this package).
func Scrub(a Authenticator, s string) string {
	if sc, ok := a.(Scrubber); ok && sc != nil {
		return sc.Scrub(s)
	}
	return s
}

// TemplateProvider is implemented by auths whose secret goes into the POST body
// ({_APIKeyName} / {_APIKey} in queryParametersTemplate, IsApiKeyInPostPayload).
// TemplateValues maps the placeholder text, braces included (TemplateAPIKeyName,
// TemplateAPIKey), to its raw value. An empty map means the auth puts nothing in the body.
type TemplateProvider interface{ TemplateValues() map[string]string }

// Placeholders of queryParametersTemplate filled from TemplateValues.
const (
	TemplateAPIKeyName = "{_APIKeyName}"
	TemplateAPIKey     = "{_APIKey}"
)

// Settings are what the receiver gives every Factory.
type Settings struct {
	HTTPClient  *http.Client // built by the receiver from confighttp; used for token calls
	Credentials Credentials  // connect-time values from the receiver config (legacy APIPolling files carry none)
	State       StateStore   // may be nil: rotated refresh tokens are then kept in memory only
	Logger      *zap.Logger  // never given secrets
	Now         func() time.Time
}

// Credentials are connect-time values from the receiver configuration. Each one fills the
// matching definition field when that field is empty or absent (legacy APIPolling files carry
// only {"authType": "Basic"} and the like); a value in the definition wins.
//
// Mapping: Basic UserName/Password; APIKey ApiKey; OAuth2 ClientId/ClientSecret/
// AuthorizationCode/RefreshToken/UserName/Password; JwtToken userName.value/password.value/
// UserToken; Session userName.value/password.value; CiscoDuo APIKey (ikey) and ClientSecret
// (skey); AliCloudSlsV1 AccessKeyId (ClientID) and AccessKeySecret (ClientSecret).
type Credentials struct {
	Username, Password, APIKey, ClientID, ClientSecret, RefreshToken, AuthorizationCode, UserToken string
}

// StateStore persists small auth state (rotated refresh tokens) across restarts.
// Get returns nil, nil when the key is not set.
type StateStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, v []byte) error
}

// Factory builds the Authenticator of one auth type. It validates the definition fields and
// must not do network I/O.
type Factory func(def definition.Auth, s Settings) (Authenticator, error)

var (
	regMu    sync.RWMutex
	registry = map[string]registered{}
)

type registered struct {
	name string
	f    Factory
}

// Register makes an auth type available to New. Type names are case-insensitive. Each type
// registers itself in its own file's init(); registering a name twice panics.
func Register(authType string, f Factory) {
	k := strings.ToLower(strings.TrimSpace(authType))
	if k == "" || f == nil {
		panic("auth: Register needs a type name and a factory")
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[k]; dup {
		panic("auth: type " + authType + " registered twice")
	}
	registry[k] = registered{name: strings.TrimSpace(authType), f: f}
}

// Supported reports whether New can build an Authenticator for the type.
func Supported(authType string) bool {
	regMu.RLock()
	defer regMu.RUnlock()
	_, ok := registry[strings.ToLower(strings.TrimSpace(authType))]
	return ok
}

// SupportedTypes lists the registered type names, sorted.
func SupportedTypes() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for _, r := range registry {
		out = append(out, r.name)
	}
	sort.Strings(out)
	return out
}

// refused explains the auth types of the CCP schema that are not HTTP request credentials.
var refused = map[string]string{
	"oracle":           "Oracle signs requests of the OCI streaming kind, which is not an HTTP poller",
	"aws":              "AWS (AssumeRole with roleArn/externalId) belongs to the Amazon S3/SQS kinds, which are not HTTP pollers",
	"gcp":              "GCP (workload identity federation) belongs to the GCP Pub/Sub kind, which is not an HTTP poller",
	"github":           "GitHub (GitHub App installationId) is not an HTTP-poller credential; use APIKey with a token instead",
	"servicebus":       "ServiceBus belongs to the blob/Service Bus kinds, which are not HTTP pollers",
	"serviceprincipal": "ServicePrincipal (Azure AD app of the tenant) belongs to the StorageAccountBlobContainer kind, which is not an HTTP poller",
}

// New builds the Authenticator for def. An unknown or unsupported type is an error naming the
// type and the supported ones.
func New(def definition.Auth, s Settings) (Authenticator, error) {
	t := strings.TrimSpace(def.Type)
	if t == "" && def.Fields != nil {
		t = strings.TrimSpace(def.Fields.String("type", "authType"))
	}
	if t == "" {
		return nil, fmt.Errorf("auth: no type given; set auth.type to one of %s", strings.Join(SupportedTypes(), ", "))
	}
	regMu.RLock()
	r, ok := registry[strings.ToLower(t)]
	regMu.RUnlock()
	if !ok {
		if why, known := refused[strings.ToLower(t)]; known {
			return nil, fmt.Errorf("auth: type %q is not supported: %s (supported: %s)", t, why, strings.Join(SupportedTypes(), ", "))
		}
		return nil, fmt.Errorf("auth: type %q is not supported (supported: %s)", t, strings.Join(SupportedTypes(), ", "))
	}
	if def.Fields == nil {
		def.Fields = definition.NewFields("auth", map[string]any{})
	}
	def.Fields.Has("type", "authType") // consumed here, not an unknown key
	s = s.withDefaults()
	a, err := r.f(def, s)
	if err != nil {
		return nil, fmt.Errorf("auth %s: %w", r.name, err)
	}
	return a, nil
}

func (s Settings) withDefaults() Settings {
	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if s.Logger == nil {
		s.Logger = zap.NewNop()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}
