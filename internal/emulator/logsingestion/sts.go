package logsingestion

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// serveHTTPS routes the shared TLS listener: ingestion API or fake STS.
func (e *Emulator) serveHTTPS(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(segs) >= 1 && strings.EqualFold(segs[0], "dataCollectionRules"):
		e.serveIngest(w, r, segs)
	case len(segs) == 4 && segs[1] == "v2.0" && segs[2] == ".well-known" && segs[3] == "openid-configuration":
		e.serveOpenID(w, r, segs[0])
	case len(segs) == 3 && segs[0] == "common" && segs[1] == "discovery" && segs[2] == "instance":
		e.serveInstanceDiscovery(w, r)
	case len(segs) == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token":
		e.serveToken(w, r, segs[0])
	default:
		e.writeAzureError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.", "")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (e *Emulator) stsError(w http.ResponseWriter, status int, code, desc string, aadsts int) {
	e.mu.Lock()
	e.stats.TokenErrors++
	e.mu.Unlock()
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": desc,
		"error_codes":       []int{aadsts},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          newGUID(),
		"correlation_id":    newGUID(),
	})
}

func (e *Emulator) knownTenant(t string) bool {
	return t != "" && t == e.opts.TenantID
}

func (e *Emulator) serveOpenID(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if !e.knownTenant(tenant) {
		e.stsError(w, http.StatusBadRequest, "invalid_tenant",
			fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", tenant), 90002)
		return
	}
	base := e.baseURL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"tenant_region_scope":                   "NA",
	})
}

func (e *Emulator) serveInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": e.baseURL + "/" + e.opts.TenantID + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host, "preferred_cache": host, "aliases": []string{host},
		}},
	})
}

// scopeAudience validates an OAuth scope list and returns the audience it names.
func (e *Emulator) scopeAudience(scope string) (string, bool) {
	var rest []string
	for _, s := range strings.Fields(scope) {
		switch s {
		case "openid", "offline_access", "profile":
		default:
			rest = append(rest, s)
		}
	}
	if len(rest) != 1 {
		return "", false
	}
	s := rest[0]
	if !strings.HasSuffix(s, "/.default") {
		return "", false
	}
	aud := strings.TrimRight(strings.TrimSuffix(s, "/.default"), "/")
	return aud, aud == e.opts.Audience
}

func (e *Emulator) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodPost {
		e.stsError(w, http.StatusMethodNotAllowed, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.", 900561)
		return
	}
	if !e.knownTenant(tenant) {
		e.stsError(w, http.StatusBadRequest, "invalid_tenant",
			fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", tenant), 90002)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		e.stsError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.", 900144)
		return
	}
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		e.stsError(w, http.StatusBadRequest, "unsupported_grant_type",
			fmt.Sprintf("AADSTS70003: The app requested an unsupported grant type '%s'.", gt), 70003)
		return
	}
	clientID := f.Get("client_id")
	secret := f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	if clientID == "" || clientID != e.opts.ClientID {
		e.stsError(w, http.StatusBadRequest, "unauthorized_client",
			fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant), 700016)
		return
	}
	if c := f.Get("claims"); c != "" && !json.Valid([]byte(c)) {
		e.stsError(w, http.StatusBadRequest, "invalid_request", "AADSTS90014: The claims parameter is not valid JSON.", 90014)
		return
	}
	kind := ""
	switch {
	case secret != "":
		kind = "client_secret"
		_, _, refuse := e.incidentFaults()
		if e.opts.ClientSecret == "" || secret != e.opts.ClientSecret || refuse {
			e.stsError(w, http.StatusUnauthorized, "invalid_client",
				fmt.Sprintf("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID), 7000215)
			return
		}
	case f.Get("client_assertion_type") == jwtBearer && f.Get("client_assertion") != "":
		a := f.Get("client_assertion")
		if e.federated(a) {
			kind = "federated"
			break
		}
		kind = "client_certificate"
		if err := verifyCertAssertion(a, e.opts.ClientCertificates, clientID, e.TokenURL()); err != nil {
			e.stsError(w, http.StatusUnauthorized, "invalid_client", err.Error(), 700027)
			return
		}
	default:
		e.stsError(w, http.StatusUnauthorized, "invalid_client",
			"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", 7000218)
		return
	}
	aud, ok := e.scopeAudience(f.Get("scope"))
	if !ok {
		e.stsError(w, http.StatusBadRequest, "invalid_scope",
			fmt.Sprintf("AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", f.Get("scope")), 70011)
		return
	}
	e.mu.Lock()
	e.stats.TokenRequests[kind]++
	e.mu.Unlock()
	tok := e.MintToken(TokenSpec{Audience: aud, Principal: clientID})
	secs := int64(e.opts.TokenTTL / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}

func (e *Emulator) federated(a string) bool {
	for _, t := range e.opts.FederatedTokens {
		if t != "" && strings.TrimSpace(t) == strings.TrimSpace(a) {
			return true
		}
	}
	return false
}

// serveMI serves the plain-http managed-identity endpoints.
func (e *Emulator) serveMI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var kind string
	switch r.URL.Path {
	case "/msi/token":
		kind = "managed_identity_appservice"
		if q.Get("api-version") != "2019-08-01" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"statusCode": 400, "message": "api-version must be 2019-08-01"})
			return
		}
		if r.Header.Get("X-IDENTITY-HEADER") != e.identityHd {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"statusCode": 401, "message": "Invalid or missing X-IDENTITY-HEADER"})
			return
		}
	case "/metadata/identity/oauth2/token":
		kind = "managed_identity_imds"
		if r.Header.Get("Metadata") != "true" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "bad_request_102", "error_description": "Required metadata header not specified"})
			return
		}
		if q.Get("api-version") != "2018-02-01" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "Invalid api-version"})
			return
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	resource := q.Get("resource")
	if strings.TrimRight(resource, "/") != e.opts.Audience {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_resource",
			"error_description": fmt.Sprintf("AADSTS500011: The resource principal named %s was not found in the tenant.", resource)})
		return
	}
	for _, k := range []string{"client_id", "principal_id", "object_id"} {
		if v := q.Get(k); v != "" && v != e.miClientID {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request",
				"error_description": fmt.Sprintf("Identity not found: %s=%s", k, v)})
			return
		}
	}
	for _, k := range []string{"mi_res_id", "msi_res_id"} {
		if v := q.Get(k); v != "" && (e.opts.ManagedIdentityResourceID == "" || !strings.EqualFold(v, e.opts.ManagedIdentityResourceID)) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request",
				"error_description": fmt.Sprintf("Identity not found: %s=%s", k, v)})
			return
		}
	}
	e.mu.Lock()
	e.stats.TokenRequests[kind]++
	e.mu.Unlock()
	tok := e.MintToken(TokenSpec{Audience: e.opts.Audience, Principal: e.miClientID})
	now := time.Now()
	exp := now.Add(e.opts.TokenTTL)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  tok,
		"refresh_token": "",
		"expires_in":    strconv.FormatInt(int64(e.opts.TokenTTL/time.Second), 10),
		"expires_on":    strconv.FormatInt(exp.Unix(), 10),
		"not_before":    strconv.FormatInt(now.Unix(), 10),
		"resource":      resource,
		"token_type":    "Bearer",
		"client_id":     e.miClientID,
	})
}
