package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/jsonpath"
)

// Statuses of a checked poller.
const (
	statusOK          = "OK"
	statusUnsupported = "UNSUPPORTED"
	statusError       = "ERROR"
	statusSkipped     = "SKIPPED"
)

// checked is one poller of a file after resolution, parsing and engine construction.
type checked struct {
	orig     connectorfile.Poller
	resolved connectorfile.Poller
	name     string // display name, unique within the file
	status   string
	reason   string
	dummies  []connectorfile.Missing // inputs filled with dummies (validate) or left missing (convert)
	notes    []string
	warnings []string
	def      *definition.Definition
	creds    auth.Credentials
	// condUnknown is set when the condition mentions an input that had no value.
	condUnknown bool
}

// credentialKeys maps normalised parameter names to the legacy Connect-time credentials.
var credentialKeys = []struct {
	names []string
	set   func(*auth.Credentials, string)
	conf  string // receiver credentials key
}{
	{[]string{"username", "user"}, func(c *auth.Credentials, v string) { c.Username = v }, "username"},
	{[]string{"password"}, func(c *auth.Credentials, v string) { c.Password = v }, "password"},
	{[]string{"apikey"}, func(c *auth.Credentials, v string) { c.APIKey = v }, "api_key"},
	{[]string{"clientid"}, func(c *auth.Credentials, v string) { c.ClientID = v }, "client_id"},
	{[]string{"clientsecret"}, func(c *auth.Credentials, v string) { c.ClientSecret = v }, "client_secret"},
	{[]string{"refreshtoken"}, func(c *auth.Credentials, v string) { c.RefreshToken = v }, "refresh_token"},
	{[]string{"authorizationcode"}, func(c *auth.Credentials, v string) { c.AuthorizationCode = v }, "authorization_code"},
	{[]string{"usertoken"}, func(c *auth.Credentials, v string) { c.UserToken = v }, "user_token"},
}

func normKey(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(s))
}

// credentialConfKey returns the receiver credentials key for a parameter name, or "".
func credentialConfKey(name string) string {
	n := normKey(name)
	for _, c := range credentialKeys {
		for _, k := range c.names {
			if n == k {
				return c.conf
			}
		}
	}
	return ""
}

// lookupParam finds a parameter case-insensitively (braces and separators ignored).
func lookupParam(params map[string]string, name string) (string, bool) {
	if v, ok := params[name]; ok {
		return v, true
	}
	want := normKey(strings.Trim(name, "{} "))
	for _, k := range sortedKeys(params) {
		if normKey(strings.Trim(k, "{} ")) == want {
			return params[k], true
		}
	}
	return "", false
}

// legacyCredentials builds the connect-time credentials of a legacy poller from the
// parameters; with dummies, the credential inputs its UI asks for and nobody gave are filled
// and returned as Missing.
func legacyCredentials(p connectorfile.Poller, params map[string]string, dummies bool) (auth.Credentials, []connectorfile.Missing) {
	var c auth.Credentials
	var filled []connectorfile.Missing
	for _, k := range sortedKeys(params) {
		if ck := credentialConfKey(k); ck != "" {
			for _, e := range credentialKeys {
				if e.conf == ck {
					e.set(&c, params[k])
				}
			}
		}
	}
	if !p.Legacy {
		return c, nil
	}
	for _, u := range legacyCredentialInputs(p) {
		if _, ok := lookupParam(params, u.Name); ok {
			continue
		}
		filled = append(filled, connectorfile.Missing{Name: u.Name, Label: u.Label, Kind: "credential", Value: "dummy-" + strings.ToLower(u.Name)})
		if dummies {
			ck := credentialConfKey(u.Name)
			for _, e := range credentialKeys {
				if e.conf == ck {
					e.set(&c, "dummy-"+strings.ToLower(u.Name))
				}
			}
		}
	}
	return c, filled
}

// legacyCredentialInputs are the credentials a legacy poller needs at Connect time: the UI's
// APIKey/BasicAuth/OAuthForm instructions, or, without a UI, what its authType implies.
func legacyCredentialInputs(p connectorfile.Poller) []connectorfile.UIParam {
	var out []connectorfile.UIParam
	for _, u := range p.UIParams {
		if u.Kind == "credential" && credentialConfKey(u.Name) != "" {
			out = append(out, u)
		}
	}
	if len(out) > 0 {
		return out
	}
	a, _ := p.Properties["auth"].(map[string]any)
	t := ""
	for k, v := range a {
		if strings.EqualFold(k, "authType") || strings.EqualFold(k, "type") {
			t, _ = v.(string)
		}
	}
	switch strings.ToLower(t) {
	case "basic":
		out = append(out, connectorfile.UIParam{Name: "username", Label: "Username", Kind: "credential"},
			connectorfile.UIParam{Name: "password", Label: "Password", Password: true, Kind: "credential"})
	case "apikey":
		out = append(out, connectorfile.UIParam{Name: "apiKey", Label: "API Key", Password: true, Kind: "credential"})
	}
	// a key already in the definition needs no Connect-time value
	for i := 0; i < len(out); i++ {
		if definitionHasCredential(a, out[i].Name) {
			out = append(out[:i], out[i+1:]...)
			i--
		}
	}
	return out
}

func definitionHasCredential(a map[string]any, name string) bool {
	want := normKey(name)
	if want == "apikey" {
		want = "apikey"
	}
	for k, v := range a {
		if normKey(k) == want {
			if s, ok := v.(string); ok && s != "" {
				return true
			}
		}
	}
	return false
}

// checkFile loads a connector file and checks every poller. dummies fills inputs without a
// value; without it, missing inputs are listed but the poller is still checked with dummies
// (convert needs the list, not an error).
func checkFile(path string, params map[string]string) ([]*checked, error) {
	pollers, err := connectorfile.Load(path)
	if err != nil {
		if strings.Contains(err.Error(), path) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(pollers) == 0 {
		return nil, fmt.Errorf("%s: holds no poller (no object with kind and properties, no pollingConfig)", path)
	}
	out := make([]*checked, 0, len(pollers))
	for _, p := range pollers {
		out = append(out, checkPoller(p, params))
	}
	// display names unique within the file
	count := map[string]int{}
	for _, c := range out {
		count[strings.ToLower(c.name)]++
	}
	for _, c := range out {
		if count[strings.ToLower(c.name)] > 1 {
			c.name = fmt.Sprintf("%s#%d", c.name, c.orig.Index)
		}
	}
	return out, nil
}

// checkPoller resolves p with params (dummies for the rest), parses it and builds its auth
// and engine without any network I/O. When the poller fails only because a host-like dummy
// lacks a scheme (a file that concatenates parameters('Domain') with a path expects
// "https://host"), it is checked again with "https://" dummies for those inputs.
func checkPoller(p connectorfile.Poller, params map[string]string) *checked {
	c := checkPollerOnce(p, params)
	if c.status != statusError || !strings.Contains(c.reason, "absolute") {
		return c
	}
	retry := make(map[string]string, len(params)+len(c.dummies))
	for k, v := range params {
		retry[k] = v
	}
	changed := false
	for _, m := range c.dummies {
		if s, ok := m.Value.(string); ok && m.Kind != "credential" && !strings.Contains(s, "://") && strings.HasPrefix(s, "dummy-") && strings.Contains(s, ".") {
			retry[m.Name] = "https://" + s
			changed = true
		}
	}
	if !changed {
		return c
	}
	c2 := checkPollerOnce(p, retry)
	if c2.status != statusOK {
		return c
	}
	// report the dummies of the first pass: the user supplied none of them
	c2.dummies = c.dummies
	c2.notes = append(c2.notes, "host-like dummies were given an https:// scheme: this file expects a full URL in them")
	return c2
}

func checkPollerOnce(p connectorfile.Poller, params map[string]string) *checked {
	c := &checked{orig: p, name: p.Name}
	resolved, filled, err := connectorfile.FillDummies(p, params)
	if err == nil {
		c.resolved = resolved
		if resolved.Name != "" {
			c.name = resolved.Name
		}
	}
	c.dummies = filled
	if !connector.HTTPKind(p.Kind) {
		c.status = statusUnsupported
		c.reason = fmt.Sprintf("kind %q is not an HTTP poller (only RestApiPoller and APIPolling run here)", p.Kind)
		return c
	}
	if err != nil {
		c.status, c.reason = statusError, oneLine(err.Error())
		return c
	}
	creds, credFilled := legacyCredentials(p, params, true)
	c.creds = creds
	c.dummies = append(c.dummies, credFilled...)

	if !resolved.Condition {
		for _, m := range filled {
			if strings.Contains(strings.ToLower(p.ConditionExpr), strings.ToLower(m.Name)) {
				c.condUnknown = true
			}
		}
		if !c.condUnknown {
			c.status = statusSkipped
			c.reason = fmt.Sprintf("condition %s is false", p.ConditionExpr)
			return c
		}
		c.notes = append(c.notes, fmt.Sprintf("condition %s is false with dummy values; checked anyway", p.ConditionExpr))
	}

	loaded, err := connector.Parse(resolved, p.Source)
	if loaded != nil && loaded.Def != nil {
		c.def = loaded.Def
		for _, w := range loaded.Def.Warnings {
			c.warnings = append(c.warnings, strings.ReplaceAll(w, p.Source+".", ""))
		}
		if perr := loaded.Def.Problems(); perr != nil {
			c.status, c.reason = statusUnsupported, oneLine(perr.Error())
			return c
		}
	}
	if err != nil {
		c.status, c.reason = statusError, oneLine(err.Error())
		return c
	}
	def := loaded.Def
	if !auth.Supported(def.Auth.Type) {
		// New names the type and why (Oracle, AWS, ... belong to non-HTTP kinds)
		_, aerr := auth.New(def.Auth, auth.Settings{Logger: nil})
		c.status, c.reason = statusError, oneLine(fmt.Sprint(aerr))
		return c
	}
	noNet := &http.Client{Transport: refuseTransport{}, Timeout: time.Second}
	conn, err := loaded.Open(connector.Options{HTTPClient: noNet, Credentials: creds})
	if err != nil {
		c.status, c.reason = statusError, oneLine(err.Error())
		return c
	}
	c.warnings = append(c.warnings, conn.Warnings...)
	c.warnings = append(c.warnings, staticWarnings(def)...)
	c.warnings = append(c.warnings, endpointWarnings(c.name, resolved.Properties)...)
	c.warnings = dedupe(c.warnings)
	c.status = statusOK
	return c
}

// refuseTransport makes sure checking never touches the network.
type refuseTransport struct{}

func (refuseTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("ccp validate does no network I/O")
}

// staticWarnings finds real bugs in files that still run.
func staticWarnings(d *definition.Definition) []string {
	var w []string
	ep := d.Request.APIEndpoint
	if i := strings.IndexAny(ep, "'\"`<> \t"); i >= 0 {
		w = append(w, fmt.Sprintf("request.apiEndpoint %q contains %q at byte %d (a stray character in the file?); it is sent percent-encoded", redactQuery(ep), ep[i:i+1], i))
	}
	check := func(field, p string) {
		if p == "" {
			return
		}
		if strings.EqualFold(strings.TrimSpace(p), "null") {
			w = append(w, fmt.Sprintf("%s %q selects a property named \"null\", which responses never have: the value is ignored", field, p))
			return
		}
		if _, err := jsonpath.Compile(p); err != nil {
			w = append(w, fmt.Sprintf("%s %q is not a valid JSONPath: %v", field, p, err))
			return
		}
		if !strings.HasPrefix(p, "$") && !strings.HasPrefix(p, ".") && !strings.HasPrefix(p, "[") && !strings.HasPrefix(p, "@") {
			if strings.HasPrefix(strings.ToLower(p), "http") {
				return // URL prefix + JSONPath form
			}
			w = append(w, fmt.Sprintf("%s %q has no leading $: read as a top-level property name", field, p))
		}
	}
	pg := d.Paging
	if pg.Type == definition.PagingLinkHeader && pg.LinkHeaderTokenJSONPath != "" && !strings.ContainsAny(pg.LinkHeaderTokenJSONPath, "$.[") {
		w = append(w, fmt.Sprintf("paging.linkHeaderTokenJsonPath %q is a header name, not a JSONPath; the next link is read from that header", pg.LinkHeaderTokenJSONPath))
	} else if pg.Type == definition.PagingLinkHeader {
		check("paging.linkHeaderTokenJsonPath", pg.LinkHeaderTokenJSONPath)
	}
	check("paging.nextPageTokenJsonPath", pg.NextPageTokenJSONPath)
	check("paging.hasNextFlagJsonPath", pg.HasNextFlagJSONPath)
	check("response.successStatusJsonPath", d.Response.SuccessStatusJSONPath)
	for _, p := range d.Response.EventsJSONPaths {
		check("response.eventsJsonPaths", p)
	}
	if d.DCR == (definition.DCRConfig{}) && !d.Legacy {
		w = append(w, "no dcrConfig: records carry no DCR routing attributes; the exporter's own stream is used")
	} else if !d.Legacy && (d.DCR.DataCollectionEndpoint == "" || d.DCR.DataCollectionRuleImmutableID == "") && d.DCR.StreamName != "" {
		w = append(w, fmt.Sprintf("dcrConfig has only streamName %q: the exporter needs the endpoint and DCR immutable id from its own configuration", d.DCR.StreamName))
	}
	return w
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// cmdValidate prints one line per poller and exits non-zero when one is not OK (SKIPPED
// pollers do not count).
func cmdValidate(o *options, stdout, stderr io.Writer) int {
	res, err := checkFile(o.file, o.params)
	if err != nil {
		fmt.Fprintf(stderr, "ccp validate: %v\n", err)
		return exitFail
	}
	code := exitOK
	for _, c := range res {
		writeResult(stdout, c)
		if c.status != statusOK && c.status != statusSkipped {
			code = exitFail
		}
	}
	return code
}

func writeResult(w io.Writer, c *checked) {
	if c.status == statusOK {
		fmt.Fprintf(w, "OK %s\n", c.name)
	} else {
		fmt.Fprintf(w, "%s %s: %s\n", c.status, c.name, c.reason)
	}
	for _, n := range c.notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	reads := connectorfile.ObjectMembers(c.orig)
	for _, m := range c.dummies {
		fmt.Fprintf(w, "  dummy: %s\n", dummyLine(m, reads))
	}
	for _, s := range c.warnings {
		fmt.Fprintf(w, "  warning: %s\n", oneLine(s))
	}
}
