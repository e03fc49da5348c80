// Package corpustest runs every accepted poller of the real connector corpus against an
// emulator shaped like its API (auth, window, paging, response layout, status field), for two
// consecutive windows, and checks that every event comes out exactly once, in its own window,
// over several pages.
package corpustest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
)

const corpusDir = "../connectorfile/testdata/corpus"

// conditionParams are the UI choices that deploy each poller of files whose resources are
// selected by a condition (a user picks data types / a package type / a stream at Connect).
var conditionParams = map[string][]map[string]string{
	"Cisco_Meraki_Events_via_REST_API__CiscoMeraki_PollerConfig.json": {{
		"selectedDataTypes": `["CiscoMerakiOrganizations","CiscoMerakiOrganizationNetworks","CiscoMerakiNetworkClients","CiscoMerakiAirMarshalEvents","ASimWebSessionLogs","ASimAuditEventLogs","ASimNetworkSessionLogs"]`,
	}},
	"Salesforce_Service_Cloud__SalesforceMarketingCloud_PollerConfig.json": {
		{"selectedDataTypes": `["AuditEvents","SecurityEvents"]`, "packageType": "enhanced"},
		{"selectedDataTypes": `["AuditEvents","SecurityEvents"]`, "packageType": "legacy"},
	},
	"Salesforce_Service_Cloud__SalesforceServiceCloud_PollingConfig.json": {{"selectedDataTypes": `["eventLogFile"]`}},
	"Vectra_XDR__VectraRUX_PollingConfig.json": {
		{"selectedStream": `["detections"]`}, {"selectedStream": `["lockdown"]`}, {"selectedStream": `["entities"]`},
	},
}

// legacyCreds are the connect-time credentials a user types for legacy APIPolling files.
var legacyCreds = auth.Credentials{Username: "emu-user", Password: "emu-pass-1", APIKey: "emu-api-key-1",
	ClientID: "emu-client", ClientSecret: "emu-secret-1"}

// Outcome statuses.
const (
	covered    = "covered"
	notCovered = "not covered"
	skipped    = "skipped"
	failed     = "FAILED"
	knownBug   = "ENGINE BUG"
)

// collector gathers a poller's defects so known engine bugs can be told from new failures.
type collector struct{ errs []string }

func (c *collector) Errorf(format string, a ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, a...))
}

// knownBugs are engine defects this test found, keyed by file#index; evidence is a text the
// failure must contain. An entry whose poller passes fails the test, so it is removed once
// the engine is fixed.
var knownBugs = map[string]struct{ why, evidence string }{}

type outcome struct {
	file, name, status, reason string
}

// resolve fills the poller's inputs with dummies (and the UI choices that deploy it), retrying
// with https:// dummies when the file expects a full URL in a host-like input.
func resolve(file string, p connectorfile.Poller) (connectorfile.Poller, error) {
	cands := append([]map[string]string{nil}, conditionParams[filepath.Base(file)]...)
	var first connectorfile.Poller
	var firstErr error
	for i, params := range cands {
		r, missing, err := connectorfile.FillDummies(p, params)
		if err == nil && !endpointOK(r) {
			retry := map[string]string{}
			for k, v := range params {
				retry[k] = v
			}
			for _, m := range missing {
				if s, ok := m.Value.(string); ok && strings.HasPrefix(s, "dummy-") && strings.Contains(s, ".") && !strings.Contains(s, "://") {
					retry[m.Name] = "https://" + s
				}
			}
			if r2, _, err2 := connectorfile.FillDummies(p, retry); err2 == nil && endpointOK(r2) {
				r = r2
			}
		}
		if i == 0 {
			first, firstErr = r, err
		}
		if err == nil && r.Condition {
			return r, nil
		}
	}
	return first, firstErr
}

func endpointOK(p connectorfile.Poller) bool {
	d, err := definition.Parse(p.Properties, "x")
	if d == nil {
		return err == nil
	}
	return d.Request.APIEndpoint == "" || strings.Contains(d.Request.APIEndpoint, "://")
}

func httpKind(k string) bool {
	return strings.EqualFold(k, "RestApiPoller") || strings.EqualFold(k, "APIPolling")
}

// clientFor dials the emulator for every host name, keeping the real Host (and SNI-independent
// certificate check against the test certificate's example.com).
func clientFor(ts *httptest.Server) *http.Client {
	addr := ts.Listener.Addr().String()
	tr := ts.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, ServerName: "example.com"}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// windowEnd is the end of the second window; fixed, so runs are reproducible.
var windowEnd = time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC)

func TestCorpusShapedEmulators(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files in %s: %v", corpusDir, err)
	}
	var mu sync.Mutex
	var results []outcome
	record := func(o outcome) {
		mu.Lock()
		results = append(results, o)
		mu.Unlock()
	}
	// The pollers run concurrently (most of their time is spent in rate limiters), then each
	// is reported as its own subtest.
	type job struct {
		file, name, key string
		p               connectorfile.Poller
		o               outcome
		c               collector
	}
	var jobs []*job
	for _, file := range files {
		pollers, err := connectorfile.Load(file)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(file), err)
			continue
		}
		for _, p := range pollers {
			jobs = append(jobs, &job{file: file, p: p,
				name: fmt.Sprintf("%s#%d", strings.TrimSuffix(filepath.Base(file), ".json"), p.Index),
				key:  fmt.Sprintf("%s#%d", filepath.Base(file), p.Index)})
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			j.o = runPoller(&j.c, j.file, j.p)
			j.o.file, j.o.name = filepath.Base(j.file), fmt.Sprintf("%s #%d", j.o.name, j.p.Index)
		}()
	}
	wg.Wait()
	for _, j := range jobs {
		t.Run(j.name, func(t *testing.T) {
			o, c := j.o, &j.c
			bug, known := knownBugs[j.key]
			switch {
			case known && len(c.errs) > 0 && strings.Contains(strings.Join(c.errs, "\n"), bug.evidence):
				o.status, o.reason = knownBug, bug.why
				t.Logf("known engine bug, still present: %s\n%s", bug.why, strings.Join(c.errs, "\n"))
			case known && len(c.errs) == 0:
				t.Errorf("the known engine bug %q no longer reproduces: remove %s from knownBugs", bug.why, j.key)
			default:
				for _, e := range c.errs {
					t.Error(e)
				}
				if len(c.errs) > 0 {
					o.status = failed
				}
			}
			t.Logf("%s: %s", o.status, o.reason)
			record(o)
		})
	}
	sort.Slice(results, func(i, j int) bool {
		if results[i].file != results[j].file {
			return results[i].file < results[j].file
		}
		return results[i].name < results[j].name
	})
	count := map[string]int{}
	var b strings.Builder
	for _, o := range results {
		count[o.status]++
		fmt.Fprintf(&b, "%-12s %s / %s", o.status, o.file, o.name)
		if o.reason != "" {
			fmt.Fprintf(&b, ": %s", o.reason)
		}
		b.WriteByte('\n')
	}
	t.Logf("corpus pollers: %d; covered %d, known engine bug %d, not covered %d, skipped %d, failed %d\n%s",
		len(results), count[covered], count[knownBug], count[notCovered], count[skipped], count[failed], b.String())
}

// runPoller resolves, parses and emulates one poller; it fails t on any defect.
func runPoller(t *collector, file string, p connectorfile.Poller) outcome {
	o := outcome{name: p.Name}
	if !httpKind(p.Kind) {
		return outcome{name: p.Name, status: skipped, reason: fmt.Sprintf("kind %s is not an HTTP poller", p.Kind)}
	}
	r, err := resolve(file, p)
	if err != nil {
		t.Errorf("resolve: %v", err)
		return outcome{name: p.Name, status: failed, reason: "resolve: " + err.Error()}
	}
	if r.Name != "" {
		o.name = r.Name
	}
	if !r.Condition {
		o.status, o.reason = skipped, "condition "+p.ConditionExpr+" is false"
		return o
	}
	d, err := definition.Parse(r.Properties, filepath.Base(file))
	if d != nil {
		if perr := d.Problems(); perr != nil {
			o.status, o.reason = skipped, "refused: "+perr.Error()
			return o
		}
	}
	if err != nil {
		t.Errorf("parse: %v", err)
		o.status, o.reason = failed, "parse: "+err.Error()
		return o
	}
	var creds auth.Credentials
	if p.Legacy {
		creds = legacyCreds
	}
	return runDef(t, o, d, creds, variant{})
}

// variant deliberately breaks the client side, to show the emulator rejects it.
type variant struct {
	dropCursor  bool          // do not carry the cursor from window 1 to window 2
	shift       time.Duration // poll windows shifted from those the emulator serves
	clientCreds *auth.Credentials
	mutate      func(*definition.Definition) // the client runs this changed copy
}

// runDef emulates one parsed definition for two windows.
func runDef(t *collector, o outcome, d *definition.Definition, creds auth.Credentials, v variant) outcome {
	s, why := newShape(d, creds, windowEnd)
	if why != "" {
		o.status, o.reason = notCovered, why
		return o
	}
	o.reason = describe(s)
	emu := newEmulator(s, o.name)
	ts := httptest.NewTLSServer(emu)
	defer ts.Close()
	client := clientFor(ts)
	if v.clientCreds != nil {
		creds = *v.clientCreds
	}
	if v.mutate != nil {
		x := *d
		v.mutate(&x)
		d = &x
	}

	conn, err := (&connector.Loaded{Def: d, Source: o.name}).Open(connector.Options{HTTPClient: client, Credentials: creds,
		Engine: poller.Options{MaxPages: 50, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Millisecond}})
	if err != nil {
		t.Errorf("opening the connector: %v", err)
		o.status = failed
		return o
	}
	eng := conn.Engine
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	got := map[string]int{}
	cursor := ""
	for k := 0; k < 2; k++ {
		emu.mu.Lock()
		emu.phase = k + 1
		emu.mu.Unlock()
		pages, withEvents := 0, 0
		var polled []string
		win := s.wins[k]
		win.Start, win.End = win.Start.Add(v.shift), win.End.Add(v.shift)
		c, err := eng.PollWindow(ctx, win, cursor, "", func(_ context.Context, pg poller.Page) error {
			pages++
			if len(pg.Events) > 0 {
				withEvents++
			}
			for _, ev := range pg.Events {
				polled = append(polled, gjson.Get(ev, "id").String())
			}
			return nil
		})
		if err != nil {
			t.Errorf("window %d: %v", k+1, err)
		}
		cursor = c
		if v.dropCursor {
			cursor = ""
		}
		want := fmt.Sprintf("ev-w%d-", k+1)
		for _, id := range polled {
			if !strings.HasPrefix(id, want) {
				t.Errorf("window %d delivered event %q of another window", k+1, id)
			}
			got[id]++
		}
		if len(polled) != s.perWin {
			t.Errorf("window %d: %d events delivered, want %d", k+1, len(polled), s.perWin)
		}
		if s.paging != definition.PagingNone && withEvents < 2 {
			t.Errorf("window %d: %d pages with events (of %d), want at least 2", k+1, withEvents, pages)
		}
	}
	for g := 0; g < 2*s.perWin; g++ {
		id := emu.eventID(g)
		if got[id] != 1 {
			t.Errorf("event %s delivered %d times", id, got[id])
		}
	}
	emu.mu.Lock()
	for _, pr := range emu.problems {
		t.Errorf("emulator: %s", pr)
	}
	for id, n := range emu.served {
		if n != 1 {
			t.Errorf("event %s served %d times", id, n)
		}
	}
	emu.mu.Unlock()
	if len(t.errs) > 0 {
		o.status = failed
	} else {
		o.status = covered
	}
	return o
}

// describe summarises what an emulator checked, for the table.
func describe(s *shape) string {
	pg := s.paging
	if pg == "" {
		pg = "no paging"
	}
	mode := "window"
	if !s.windowed {
		mode = "cursor"
	}
	return fmt.Sprintf("%s, %s, %s, %d events/window, page %d", s.auth.typ, pg, mode, s.perWin, s.ps)
}
