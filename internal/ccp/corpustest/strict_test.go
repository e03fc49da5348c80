package corpustest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

// loadDef resolves and parses poller index of a corpus file.
func loadDef(t *testing.T, file string, index int) (*definition.Definition, bool) {
	t.Helper()
	ps, err := connectorfile.Load(filepath.Join(corpusDir, file))
	if err != nil {
		t.Fatal(err)
	}
	r, err := resolve(filepath.Join(corpusDir, file), ps[index])
	if err != nil {
		t.Fatal(err)
	}
	d, err := definition.Parse(r.Properties, file)
	if err != nil {
		t.Fatal(err)
	}
	return d, ps[index].Legacy
}

// TestEmulatorRejectsBrokenClients shows the shaped emulators are strict: a client that skips
// pages, loses its cursor, polls other windows or sends wrong credentials fails the check.
func TestEmulatorRejectsBrokenClients(t *testing.T) {
	wrong := auth.Credentials{Username: "intruder", Password: "nope", APIKey: "wrong-key"}
	cases := []struct {
		name, file string
		index      int
		mutate     func(*definition.Definition)
		v          variant
		want       string
	}{
		{name: "baseline Okta", file: "Okta_Single_Sign-On__OktaSSOv2_PollingConfig.json"},
		{name: "baseline Auth0", file: "Auth0__PollingConfig.json"},
		{name: "first page only", file: "Okta_Single_Sign-On__OktaSSOv2_PollingConfig.json",
			mutate: func(d *definition.Definition) { d.Paging.Type = definition.PagingNone }, want: "events delivered"},
		{name: "offset never sent", file: "Dragos__dataPoller.json",
			mutate: func(d *definition.Definition) { d.Paging.OffsetParaName = "ofset" }, want: "served "},
		{name: "token under another name", file: "SlackAudit__SlackAuditLog_PollingConfig.json",
			mutate: func(d *definition.Definition) { d.Paging.NextPageParaName = "next" }, want: "token not sent as cursor"},
		{name: "cursor lost between windows", file: "Auth0__PollingConfig.json",
			v: variant{dropCursor: true}, want: "delivered 2 times"},
		{name: "other windows", file: "GitHub__GitHubAuditLogs_PollerConfig.json",
			v: variant{shift: time.Minute}, want: "no window"},
		{name: "wrong API key", file: "1Password__1Password_PollingConfig.json",
			mutate: func(d *definition.Definition) {
				d.Auth.Fields = definition.NewFields("auth", map[string]any{"type": "APIKey", "ApiKeyName": "Authorization", "ApiKeyIdentifier": "Bearer"})
			}, v: variant{clientCreds: &wrong}, want: "401"},
		{name: "status field ignored", file: "LastPass__LastPassAPIConnector.json",
			mutate: func(d *definition.Definition) { d.Response.SuccessStatusValue = "FAIL" }, want: "successStatusJsonPath"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, legacy := loadDef(t, tc.file, tc.index)
			var creds auth.Credentials
			if legacy {
				creds = legacyCreds
			}
			// the emulator is shaped by the real definition; the client runs the mutated one
			c := &collector{}
			v := tc.v
			v.mutate = tc.mutate
			if o := runDef(c, outcome{name: tc.name}, d, creds, v); o.status == notCovered {
				t.Fatalf("not covered: %s", o.reason)
			}
			all := strings.Join(c.errs, "\n")
			switch {
			case tc.want == "" && len(c.errs) > 0:
				t.Fatalf("baseline failed:\n%s", all)
			case tc.want != "" && !strings.Contains(all, tc.want):
				t.Fatalf("broken client not rejected with %q; got:\n%.2000s", tc.want, all)
			}
		})
	}
}
