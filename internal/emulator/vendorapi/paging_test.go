package vendorapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func authConfigs() map[string]Config {
	return map[string]Config{
		"none":   {Auth: AuthNone},
		"apikey": {Auth: AuthAPIKey, APIKey: "k-123", APIKeyHeader: "X-Api-Key"},
		"ssws":   {Auth: AuthAPIKey, APIKey: "k-456", APIKeyPrefix: "SSWS"},
		"basic":  {Auth: AuthBasic, Username: "u", Password: "p:w"},
		"oauth2": {Auth: AuthOAuth2, ClientID: "cid", ClientSecret: "s3cr3t", Scopes: []string{"events.read"}, TokenParams: map[string]string{"audience": "https://api.example"}},
	}
}

func pagingConfigs() map[string]Config {
	return map[string]Config{
		"none":              {Paging: PagingNone},
		"npt-body":          {Paging: PagingNextPageToken},
		"npt-header":        {Paging: PagingNextPageToken, NextHeader: "X-Next-Token"},
		"npt-hasmore":       {Paging: PagingNextPageToken, HasMoreField: "has_more", NextField: "meta.next"},
		"npt-alwaysnext":    {Paging: PagingNextPageToken, AlwaysNext: true},
		"persistent":        {Paging: PagingPersistentToken},
		"link-header":       {Paging: PagingLinkHeader},
		"link-body":         {Paging: PagingLinkHeader, NextField: "nextLink"},
		"nexturl-abs":       {Paging: PagingNextPageURL},
		"nexturl-rel":       {Paging: PagingNextPageURL, RelativeNextURL: true, NextField: "nextRecordsUrl"},
		"offset":            {Paging: PagingOffset},
		"count-1based":      {Paging: PagingCountBased},
		"count-0based":      {Paging: PagingCountBased, ZeroBasedPages: true},
		"npt-unix-ms":       {Paging: PagingNextPageToken, TimeFormat: TimeUnixMillis},
		"offset-unix-s":     {Paging: PagingOffset, TimeFormat: TimeUnixSeconds, EventsPath: "result.items"},
		"npt-bare-array":    {Paging: PagingNextPageToken, NextHeader: "X-Next", EventsPath: "-"},
		"link-status-field": {Paging: PagingLinkHeader, StatusField: "status"},
	}
}

// TestWalkAllPages walks every paging mode x auth mode and checks each event
// of the window comes out exactly once.
func TestWalkAllPages(t *testing.T) {
	auths := authConfigs()
	for pname, pc := range pagingConfigs() {
		for _, aname := range []string{"apikey", "oauth2", "none"} {
			if aname == "none" && pname != "none" && pname != "offset" {
				continue
			}
			t.Run(pname+"/"+aname, func(t *testing.T) {
				t.Parallel()
				cfg := pc
				a := auths[aname]
				cfg.Auth, cfg.APIKey, cfg.APIKeyHeader, cfg.APIKeyPrefix = a.Auth, a.APIKey, a.APIKeyHeader, a.APIKeyPrefix
				cfg.ClientID, cfg.ClientSecret, cfg.Scopes, cfg.TokenParams = a.ClientID, a.ClientSecret, a.Scopes, a.TokenParams
				cfg.Events, cfg.Span, cfg.End, cfg.Now, cfg.Seed = 3000, time.Hour, t0, fixedNow, 7
				srv := New(cfg)
				base := startTest(t, srv)
				hc := authClient(t, srv, base)
				since, until := t0.Add(-50*time.Minute), t0.Add(-10*time.Minute)
				if cfg.TimeFormat == TimeUnixSeconds || cfg.TimeFormat == TimeUnixMillis {
					// whole seconds
					since, until = since.Truncate(time.Second), until.Truncate(time.Second)
				}
				got := walkWindow(t, srv, hc, base, since, until, 97)
				want := srv.IDsIn(since, until)
				if cfg.Paging == PagingPersistentToken {
					// the cursor is independent of the window: it runs to the end
					want = srv.IDsIn(since, t0)
				}
				require.Greater(t, len(want), 1000)
				assert.Equal(t, want, got, "events in order, each exactly once")
				u, tot := srv.Served()
				assert.Equal(t, int64(len(want)), u)
				assert.Equal(t, int64(len(want)), tot)
				assert.Empty(t, srv.Unserved(since, until, 5))
				assert.LessOrEqual(t, srv.MaxConcurrent(), int64(1))
				if cfg.Auth == AuthOAuth2 {
					assert.Equal(t, int64(1), srv.TokensIssued())
				}
			})
		}
	}
}

// TestWalkBasicAuthPost walks NextPageToken with Basic auth sending all
// parameters in a POST JSON body (token at a nested body path).
func TestWalkBasicAuthPost(t *testing.T) {
	srv := New(Config{Events: 2000, End: t0, Now: fixedNow, Auth: AuthBasic, Username: "u", Password: "p",
		Paging: PagingNextPageToken, TokenBodyPath: "request_data.next_page_token", PageSize: 150, Method: "POST"})
	base := startTest(t, srv)
	hc := authClient(t, srv, base)
	since, until := t0.Add(-time.Hour), t0
	tok := ""
	var ids []string
	for n := 0; n < 100; n++ {
		body := fmt.Sprintf(`{"since":%q,"until":%q`, srv.FormatTime(since), srv.FormatTime(until))
		if tok != "" {
			body += fmt.Sprintf(`,"request_data":{"next_page_token":%q}`, tok)
		}
		body += "}"
		r := post(t, hc, base+"/api/v1/events", "application/json", body)
		require.Equal(t, 200, r.status, "%s", r.body)
		for _, id := range gjsonIDs(r.body, "data") {
			ids = append(ids, id)
		}
		tok = gjsonStr(r.body, "next_page_token")
		if tok == "" {
			break
		}
	}
	assert.Equal(t, srv.IDsIn(since, until), ids)
}

func TestPersistentTokenAcrossWindows(t *testing.T) {
	srv := New(Config{Events: 1000, End: t0, Now: fixedNow, Paging: PagingPersistentToken, PageSize: 64})
	base := startTest(t, srv)
	hc := authClient(t, srv, base)
	// First poll: since only; later polls: cursor only (pagingQueryParamOnly).
	u := base + "/api/v1/events?since=" + srv.FormatTime(t0.Add(-time.Hour)) + "&until=" + srv.FormatTime(t0.Add(-59*time.Minute))
	var ids []string
	cursor := ""
	for n := 0; n < 100; n++ {
		r := get(t, hc, u)
		require.Equal(t, 200, r.status, "%s", r.body)
		page := gjsonIDs(r.body, "data")
		ids = append(ids, page...)
		next := gjsonStr(r.body, "next")
		require.NotEmpty(t, next, "next is always present")
		if len(page) == 0 {
			assert.Equal(t, cursor, next, "empty page keeps the cursor")
			break
		}
		cursor = next
		u = base + "/api/v1/events?from=" + cursor
	}
	assert.Len(t, ids, 1000)
	assert.Equal(t, srv.IDsIn(t0.Add(-time.Hour), t0), ids)
}
