package nested

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

var testWindow = window.Window{
	Start: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
	End:   time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC),
}

// corpusProps resolves the poller of a corpus file whose dataType is dataType, with params
// (the test server's address, credentials) and dummies for the rest.
func corpusProps(t *testing.T, file, dataType string, params map[string]string) map[string]any {
	t.Helper()
	ps, err := connectorfile.Load(filepath.Join("..", "connectorfile", "testdata", "corpus", file))
	require.NoError(t, err)
	for _, p := range ps {
		r, _, err := connectorfile.FillDummies(p, params)
		require.NoError(t, err)
		if dt, _ := r.Properties["dataType"].(string); dt == dataType {
			return r.Properties
		}
	}
	t.Fatalf("%s: no poller with dataType %s", file, dataType)
	return nil
}

// pollNested runs one window the way the receiver does: the parent engine from
// ParentProps, its Authenticator shared with the Runner, Expand on every page.
func pollNested(t *testing.T, props map[string]any, client *http.Client, creds auth.Credentials, opts Options) ([]string, *Runner, error) {
	t.Helper()
	require.True(t, Present(props))
	require.NoError(t, Validate(props))
	parent, err := definition.Parse(ParentProps(props), "test")
	require.NoError(t, err)
	require.NoError(t, parent.Problems())
	a, err := auth.New(parent.Auth, auth.Settings{HTTPClient: client, Credentials: creds})
	require.NoError(t, err)
	eo := poller.Options{HTTPClient: client, Auth: a, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	eng, err := poller.New(parent, eo)
	require.NoError(t, err)
	eo.Logger = opts.Engine.Logger
	opts.Engine = eo
	run, err := New(props, a, opts)
	require.NoError(t, err)
	var out []string
	_, err = eng.PollWindow(context.Background(), testWindow, "", "", func(ctx context.Context, p poller.Page) error {
		evs, err := run.Expand(ctx, testWindow, p.Events)
		if err != nil {
			return err
		}
		out = append(out, evs...)
		return nil
	})
	return out, run, err
}

func writeJSON(w http.ResponseWriter, v string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, v)
}

// TestMerakiFanOut: org -> networks -> clients per network, shouldJoinNestedData false. The
// parent record (a network object) is mv-expanded into single-entry bags; only the "id"
// bag yields a networkId, the rest are dropped; the child pages with Link headers.
func TestMerakiFanOut(t *testing.T) {
	var srvURL string
	var calls sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Store(r.URL.String(), true)
		if r.Header.Get("X-Cisco-Meraki-API-Key") != "k3y" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/api/v1/organizations/o1/networks":
			assert.Equal(t, "1000", q.Get("perPage"))
			writeJSON(w, `[{"id":"N_1","organizationId":"o1","name":"HQ","tags":[]},{"id":"N_2","organizationId":"o1","name":"Branch"}]`)
		case r.URL.Path == "/api/v1/networks/N_1/clients":
			assert.Equal(t, "2592000", q.Get("timespan"))
			if q.Get("startingAfter") == "" {
				assert.Equal(t, "5000", q.Get("perPage"))
				w.Header().Set("Link", fmt.Sprintf(`<%s/api/v1/networks/N_1/clients?perPage=5000&timespan=2592000&startingAfter=c2>; rel=next`, srvURL))
				writeJSON(w, `[{"id":"c1","mac":"aa"},{"id":"c2","mac":"bb"}]`)
				return
			}
			assert.Equal(t, "c2", q.Get("startingAfter"))
			writeJSON(w, `[{"id":"c3","mac":"cc"}]`)
		case r.URL.Path == "/api/v1/networks/N_2/clients":
			writeJSON(w, `[{"id":"c4","mac":"dd"}]`)
		default:
			t.Errorf("unexpected request %s", r.URL)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	srvURL = srv.URL
	props := corpusProps(t, "Cisco_Meraki_Events_via_REST_API__CiscoMeraki_PollerConfig.json", "CiscoMerakiNetworkClients",
		map[string]string{"apiBaseUrl": srv.URL + "/api/v1", "apiKey": "k3y", "organizationId": "o1"})
	out, run, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{})
	require.NoError(t, err)
	assert.Empty(t, run.Warnings())
	assert.Equal(t, []string{`{"id":"c1","mac":"aa"}`, `{"id":"c2","mac":"bb"}`, `{"id":"c3","mac":"cc"}`, `{"id":"c4","mac":"dd"}`}, out)
	n := 0
	calls.Range(func(k, _ any) bool { n++; return true })
	assert.Equal(t, 4, n, "one parent call, two pages for N_1, one for N_2; no call for empty networkIds")
}

// TestBigIDThreeLevels: cases -> data source (joined as "datasource") -> catalog objects
// (joined as "expand" inside the data source), KQL "source" passing the case's
// placeholders to the third level; JwtToken user-token auth inherited by both steps.
func TestBigIDThreeLevels(t *testing.T) {
	var logins atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/refresh-access-token" {
			assert.Equal(t, "user-tok", r.Header.Get("Authorization"))
			logins.Add(1)
			writeJSON(w, `{"systemToken":"sys-tok"}`)
			return
		}
		if r.Header.Get("Authorization") != "sys-tok" {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		switch r.URL.Path {
		case "/api/v1/actionable-insights/all-cases":
			assert.Equal(t, "50", q.Get("limit"))
			if q.Get("offset") != "" && q.Get("offset") != "0" {
				writeJSON(w, `{"data":{"cases":[]}}`)
				return
			}
			writeJSON(w, `{"data":{"cases":[{"id":"c1","dataSourceName":"s3","policyName":"P1"},{"id":"c2","dataSourceName":"pg db","policyName":"P2"},{"id":"c3","policyName":"P3"}]}}`)
		case "/api/v1/ds_connections/s3", "/api/v1/ds_connections/pg db":
			assert.Equal(t, "true", q.Get("withoutCredentialValue"))
			name := strings.TrimPrefix(r.URL.Path, "/api/v1/ds_connections/")
			writeJSON(w, fmt.Sprintf(`{"ds_connection":{"name":%q,"type":"t"}}`, name))
		case "/api/v1/data-catalog/":
			assert.Equal(t, "32", q.Get("limit"))
			assert.Equal(t, "true", q.Get("requireTotalCount"))
			switch q.Get("filter") {
			case `SYSTEM = "s3" AND policy IN ("P1")`:
				writeJSON(w, `{"results":[{"obj":"a"},{"obj":"b"}]}`)
			case `SYSTEM = "pg db" AND policy IN ("P2")`:
				writeJSON(w, `{"results":[{"obj":"z"}]}`)
			default:
				t.Errorf("unexpected filter %q", q.Get("filter"))
				http.NotFound(w, r)
			}
		default:
			t.Errorf("unexpected request %s", r.URL)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	props := corpusProps(t, "BigID__BigIDDSPMLogs_PollerConfig.json", "BigIDDSPMCatalog_CL",
		map[string]string{"bigidFqdn": host, "bigidToken": "user-tok"})
	out, _, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		`{"id":"c1","dataSourceName":"s3","policyName":"P1","datasource":{"name":"s3","type":"t","expand":[{"obj":"a"},{"obj":"b"}]}}`,
		`{"id":"c2","dataSourceName":"pg db","policyName":"P2","datasource":{"name":"pg db","type":"t","expand":{"obj":"z"}}}`,
		// no dataSourceName: the row is dropped, the case is emitted without a join
		`{"id":"c3","policyName":"P3"}`,
	}, out)
	assert.Equal(t, int32(1), logins.Load(), "the parent's token is reused by the children")
}

// TestCrowdStrikeCases: whole body as the parent record ([""]), mv-expand of the id list,
// POST of the single-quoted template per id, step id resolved despite the typo.
func TestCrowdStrikeCases(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth2/token" {
			require.NoError(t, r.ParseForm())
			id, sec, ok := r.BasicAuth()
			if !ok {
				id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
			}
			assert.Equal(t, "cid", id)
			assert.Equal(t, "csec", sec)
			writeJSON(w, `{"access_token":"at","token_type":"bearer","expires_in":1799}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer at" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/cases/queries/cases/v1":
			assert.Equal(t, "updated_timestamp:>'2025-03-01T10:00:00Z'+updated_timestamp:<='2025-03-01T10:15:00Z'", r.URL.Query().Get("filter"))
			writeJSON(w, `{"meta":{"pagination":{"offset":0,"limit":500,"total":2}},"resources":["case-1","case-2"],"errors":[]}`)
		case r.Method == http.MethodPost && r.URL.Path == "/cases/entities/cases/v2":
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
			var req struct{ IDs []string }
			if err := json.Unmarshal(b, &req); err != nil || len(req.IDs) != 1 {
				http.Error(w, "bad body "+string(b), http.StatusBadRequest)
				return
			}
			writeJSON(w, fmt.Sprintf(`{"meta":{},"resources":[{"id":%q,"status":"open"}],"errors":[]}`, req.IDs[0]))
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	props := corpusProps(t, "CrowdStrike_Falcon_Endpoint_Protection__CrowdStrikeAPI_multiconfig_PollingConfig.json", "CrowdStrikeCases_CL",
		map[string]string{"apiUrl": srv.URL, "clientId": "cid", "clientSecret": "csec"})
	// The file's rateLimitQPS 1 would make this test slow; the shared limiter has its own test.
	props["stepCollectorConfigs"].(map[string]any)["Cases_details"].(map[string]any)["request"].(map[string]any)["rateLimitQPS"] = 50
	out, run, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{`{"id":"case-1","status":"open"}`, `{"id":"case-2","status":"open"}`}, out)
	assert.ElementsMatch(t, []string{`{"ids":["case-1"]}`, `{"ids":["case-2"]}`}, bodies)
	assert.Contains(t, strings.Join(run.Warnings(), "\n"), `"case_details" matches stepCollectorConfigs key "Cases_details"`)
}

// TestSalesforceCSVJoin: the child downloads a CSV log file; its rows are joined under
// LogData as an array.
func TestSalesforceCSVJoin(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/oauth2/token" {
			writeJSON(w, `{"access_token":"sf","token_type":"Bearer","instance_url":"x"}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer sf" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/services/data/v66.0/query":
			writeJSON(w, `{"totalSize":2,"done":true,"records":[{"Id":"0AT1","LogFile":"/services/data/v66.0/sobjects/EventLogFile/0AT1/LogFile"},{"Id":"0AT2","LogFile":"/services/data/v66.0/sobjects/EventLogFile/0AT2/LogFile"}]}`)
		case "/services/data/v66.0/sobjects/EventLogFile/0AT1/LogFile":
			w.Header().Set("Content-Type", "text/csv")
			_, _ = io.WriteString(w, "EVENT_TYPE,USER_ID\nLogin,u1\nLogout,u2\n")
		case "/services/data/v66.0/sobjects/EventLogFile/0AT2/LogFile":
			w.Header().Set("Content-Type", "text/csv")
			_, _ = io.WriteString(w, "EVENT_TYPE,USER_ID\nAPI,u3\n")
		default:
			t.Errorf("unexpected request %s", r.URL)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	props := corpusProps(t, "Salesforce_Service_Cloud__SalesforceServiceCloud_PollingConfig.json", "SalesforceServiceCloudV3_CL",
		map[string]string{"salesforceBaseUrl": srv.URL, "clientId": "c", "clientSecret": "s", "salesforceGrantType": "client_credentials"})
	out, _, err := pollNested(t, props, srv.Client(), auth.Credentials{}, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		`{"Id":"0AT1","LogFile":"/services/data/v66.0/sobjects/EventLogFile/0AT1/LogFile","LogData":[{"EVENT_TYPE":"Login","USER_ID":"u1"},{"EVENT_TYPE":"Logout","USER_ID":"u2"}]}`,
		`{"Id":"0AT2","LogFile":"/services/data/v66.0/sobjects/EventLogFile/0AT2/LogFile","LogData":{"EVENT_TYPE":"API","USER_ID":"u3"}}`,
	}, out)
}
