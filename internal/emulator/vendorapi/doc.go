// Package vendorapi is a strict, configurable local emulator of a vendor
// security-events REST API, used to test the ccp receiver (Microsoft Sentinel
// CCP RestApiPoller semantics) without reaching real vendor APIs.
//
// # Usage
//
//	srv := vendorapi.New(vendorapi.Config{
//		Events: 5000, Span: time.Hour, End: t0,
//		Auth: vendorapi.AuthAPIKey, APIKey: "k", APIKeyHeader: "X-Api-Key",
//		Paging: vendorapi.PagingNextPageToken, PageSize: 100,
//	})
//	ts := httptest.NewServer(srv)            // either as an http.Handler ...
//	srv, err := vendorapi.New(cfg).Start("127.0.0.1:0") // ... or listening itself
//	defer srv.Close()
//
// New panics on an invalid Config (a test bug). Start listens on 127.0.0.1
// only and fails with a clear message when the port is taken.
//
// # Events
//
// The store holds Config.Events events computed from their index i (nothing
// per event is stored, so 1,000,000 events cost a few MB: 4 bytes per event
// for served-accounting). Event i has id "evt-%010d" (EventID), a time in
// [End-Span, End) that never decreases with i (EventTime), and fields user,
// src_ip, action, severity, seq (= i) and a padding message, about
// Config.EventSize bytes of JSON in total:
//
//	{"id":"evt-0000000042","time":"2024-01-01T00:00:02.52Z","user":"bob@example.com",
//	 "src_ip":"10.1.2.3","action":"login","severity":"low","seq":42,"message":"..."}
//
// An event is visible only once its publication time has passed according to
// Config.Now: its own time, plus Config.LateBy for the Config.LateFraction of
// events chosen by Config.Seed ("late" events). Invisible events are simply
// absent from responses, as in a real API whose ingestion lags.
//
// # Requests
//
// Config.Method (GET by default, or POST, as the definition's httpMethod
// says) on Config.Path (default /api/v1/events); any other method is a 405
// with an Allow header naming the one method. Parameters are read
// from the query string, then a form body (application/x-www-form-urlencoded),
// then a JSON object body (names are gjson paths there; a leading "$." is
// dropped). The window is [since, until) on event time, parameter names
// Config.SinceParam / Config.UntilParam (default since / until), format
// Config.TimeFormat (RFC 3339 e.g. 2006-01-02T15:04:05Z, unix seconds, unix
// milliseconds, or a Go layout). A missing (unless WindowOptional) or
// malformed time is a 400 with a JSON body {"error":"invalid_time",
// "message":...}; never "all events". Errors are always JSON
// {"error": code, "message": text}.
//
// Status codes: 200 page; 400 bad parameter or token (error codes
// invalid_time, invalid_request, invalid_token, too_many_results); 401 bad or
// missing credentials (error "unauthorized"); 404 unknown path; 405 a method
// other than Config.Method; 429 and 500 only when injected.
//
// # Auth (Config.Auth)
//
//   - AuthNone.
//   - AuthAPIKey: header APIKeyHeader (default Authorization) must equal
//     "APIKeyPrefix APIKey" (e.g. "SSWS k") or "APIKey" without a prefix.
//     With APIKeyInBody (CCP IsApiKeyInPostPayload) the same value is
//     expected in the POST form/JSON body field named APIKeyHeader instead.
//   - AuthBasic: Authorization: Basic base64(Username:Password).
//   - AuthOAuth2: POST TokenPath (default /oauth2/token), form (or JSON)
//     body, grant_type=client_credentials, client id/secret in the body or as
//     HTTP Basic (RFC 6749 2.3.1, not both), the TokenParams extra body
//     parameters (e.g. audience) with exact values, scope checked against
//     Scopes when set. Response {"access_token","token_type":"Bearer",
//     "expires_in",["scope"]}; errors are RFC 6749 {"error","error_description"}
//     (401 invalid_client, 400 invalid_request / unsupported_grant_type /
//     invalid_scope, 413 invalid_request for a body over 64 KiB: refused,
//     never truncated). API calls need "Authorization: Bearer <token>"; an
//     unknown, expired (TokenTTL) or revoked (ExpireTokens) token is a 401.
//     TokensIssued counts issuances.
//
// # Paging (Config.Paging)
//
// Page size: parameter PageSizeParam (default "limit"; "page_size" for
// CountBased), default PageSize (100), more than MaxPageSize (1000) is a 400.
// Events are at body path EventsPath (default "data"; "-" = bare array body).
// With StatusField set every 200 body also has StatusField: StatusValue
// ("ok"). With HasMoreField set, token/URL/link/cursor/offset/count modes add
// a boolean at that path.
//
// Tokens are opaque (base64url, HMAC-signed with a per-instance key unless
// TokenSecret is set) and carry the window: a token from another instance,
// another paging mode, or used with different since/until values is a 400
// (invalid_token). A follow-up request may omit since/until (the token
// carries them), as with CCP pagingQueryParamOnly.
//
//   - PagingNone: every visible event of the window in one response; more than
//     MaxUnpaged (10000) is a 400 too_many_results.
//   - PagingNextPageToken: response token at body path NextField (default
//     next_page_token) or, with NextHeader set, in that response header.
//     Absent on the last page (unless AlwaysNext). The client sends it back
//     as query/form parameter TokenParam (default page_token), JSON body path
//     TokenBodyPath (default = TokenParam, e.g. request_data.next_page_token)
//     or request header TokenHeader (default X-Page-Token), with the same
//     window.
//   - PagingPersistentToken: a global cursor. Without one, the stream starts
//     at the first event with time >= since (until is ignored); with
//     TokenParam (default from) it returns the events strictly after the
//     cursor in event order, whatever the window (window parameters optional,
//     validated if present). It stops at the first event not yet visible, so
//     a cursor never skips a late event. Body path NextField (default next)
//     always holds the cursor after the last returned event (unchanged on an
//     empty page).
//   - PagingLinkHeader: "Link: <absolute URL>; rel=\"next\"" (or body path
//     NextField, e.g. nextLink, when set). The URL carries since, until, the
//     page size and the cursor (TokenParam, default after); GET it as is.
//   - PagingNextPageURL: body path NextField (default nextPageUrl) holds the
//     next URL, absolute, or path-relative (/api/v1/events?...) with
//     RelativeNextURL. Same URL content as LinkHeader.
//   - PagingOffset: OffsetParam (default offset, missing = 0) is a 0-based
//     index into the visible events of the window; body adds offset, limit
//     (the PageSizeParam name) and total.
//   - PagingCountBased: PageParam (default page; 1-based, 0-based with
//     ZeroBasedPages; missing = first page) and page_size; body adds page,
//     page_size, total and page_count. A page past the end is empty.
//
// # Faults
//
// The method is checked first (405), then authentication (401), then faults
// (429/500), then parameters (400): bad credentials get a 401 even when a
// fault is scheduled, and a refused request does not use up a fault.
//
// SetFaults (or Config.Faults) sets ErrorRate (500s), ThrottleRate /
// ThrottleBurst / RetryAfter (bursts of 429 with Retry-After seconds),
// SlowRate / SlowDelay, StatusErrorRate (200 with StatusField "error") and
// Gzip (Content-Encoding: gzip on 200s). Throttle(n) and FailNext(n) force
// the next n requests; ExpireTokens revokes every OAuth2 token. Faults apply
// to authenticated events-endpoint requests only; draws come from a
// generator seeded by Config.Seed.
//
// # Accounting
//
// Served returns (distinct, total) events returned in 200 responses;
// ServedCount / WasServed check one id; ServedIDs and Unserved(since, until)
// list them. Stats / StatusCounts count events-endpoint requests by status;
// Requests returns the bounded request log (LogSize entries) with
// Authorization, the API-key header and secret-looking query parameters
// redacted; MaxConcurrent is the largest number of events-endpoint requests
// seen in flight at once (a request stops counting just before the last byte
// of its response is written, so a strictly sequential client always shows 1).
//
// # Replicas
//
// To test several collector replicas sharing connectors, give each replica a
// marker header (Config.ReplicaHeader, e.g. X-Replica, set per collector in
// the receiver's client::headers). One Server emulates the API of one
// connector (named Config.Connector, default its Path), so its record is per
// connector: every events-endpoint request is kept with the header's value
// ("" when absent), its wall-clock start and the moment its response was
// written (ReplicaRequests, RequestsByReplica; bounded by ReplicaLogSize).
//
// Overlaps(gap) reports the spans during which two different replicas polled
// the connector: a replica's requests no further than gap apart form one
// stretch of polling, and where stretches of two replicas intersect, the
// intersection is an Overlap with its Length. A clean handover (the old
// leader's last request ends before the new one's first begins) is no
// overlap; a paused replica that wakes up and polls while its successor
// polls is one, as long as both kept polling. FindOverlaps does the same
// over any record, e.g. several Servers' records of one connector joined.
package vendorapi
