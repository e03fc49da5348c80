package vendorapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// AuthMode selects how API calls are authenticated. One mode per Server.
type AuthMode int

const (
	// AuthNone accepts every request.
	AuthNone AuthMode = iota
	// AuthAPIKey requires header APIKeyHeader to equal "<APIKeyPrefix> <APIKey>"
	// (or just APIKey when APIKeyPrefix is empty).
	AuthAPIKey
	// AuthBasic requires "Authorization: Basic base64(Username:Password)".
	AuthBasic
	// AuthOAuth2 requires "Authorization: <BearerPrefix> <token>" with a token
	// issued by the client_credentials token endpoint at TokenPath.
	AuthOAuth2
)

func (a AuthMode) String() string { return enumName(authNames[:], "AuthMode", int(a)) }

// PagingMode selects how the API pages its results. One mode per Server.
// The names mirror the CCP pagingType values.
type PagingMode int

const (
	// PagingNone returns every matching event of the window in one response.
	PagingNone PagingMode = iota
	// PagingNextPageToken returns an opaque token (body NextField or response
	// header NextHeader) that the client sends back to get the next page of
	// the same window.
	PagingNextPageToken
	// PagingPersistentToken is a global cursor (Box stream_position, Auth0
	// from): events strictly after the cursor, independent of the window.
	PagingPersistentToken
	// PagingLinkHeader returns the absolute URL of the next page in an
	// RFC 5988 "Link: <url>; rel=\"next\"" header, or in body field NextField.
	PagingLinkHeader
	// PagingNextPageURL returns the next page URL (absolute, or path-relative
	// when RelativeNextURL) in body field NextField.
	PagingNextPageURL
	// PagingOffset takes a 0-based record index (OffsetParam) and a page size.
	PagingOffset
	// PagingCountBased takes a page number (PageParam, 1-based unless
	// ZeroBasedPages) and a page size, and reports total and page_count.
	PagingCountBased
)

func (p PagingMode) String() string { return enumName(pagingNames[:], "PagingMode", int(p)) }

// TimeFormat selects how the window parameters are parsed.
type TimeFormat int

const (
	// TimeISO8601 accepts RFC 3339 timestamps, e.g. 2006-01-02T15:04:05Z,
	// with optional fractional seconds and any offset (the CCP default
	// rendering yyyy-MM-ddTHH:mm:ssZ is accepted).
	TimeISO8601 TimeFormat = iota
	// TimeUnixSeconds accepts an integer number of seconds since the epoch
	// (CCP "UnixTimestamp").
	TimeUnixSeconds
	// TimeUnixMillis accepts an integer number of milliseconds since the epoch
	// (CCP "UnixTimestampInMills").
	TimeUnixMillis
	// TimeLayout parses with the Go layout in Config.TimeLayout.
	TimeLayout
)

func (f TimeFormat) String() string { return enumName(timeFormatNames[:], "TimeFormat", int(f)) }

var (
	authNames       = [...]string{"None", "APIKey", "Basic", "OAuth2"}
	pagingNames     = [...]string{"None", "NextPageToken", "PersistentToken", "LinkHeader", "NextPageUrl", "Offset", "CountBasedPaging"}
	timeFormatNames = [...]string{"ISO8601", "UnixSeconds", "UnixMillis", "Layout"}
)

// enumName is names[v], or typ(v) for a value outside the enumeration.
func enumName(names []string, typ string, v int) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

// DefaultEnd is the end of the event span when Config.End is zero.
var DefaultEnd = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes one emulated vendor API. The zero value is usable: 1000
// events of ~1 KiB over the hour before DefaultEnd, no auth, no paging,
// GET on /api/v1/events with since/until in ISO 8601.
type Config struct {
	// ---- event store ----

	// Events is the number of events. 0 means 1000; negative means none.
	Events int
	// Span is the time range covered by the events (default 1h). Event i has
	// time End-Span + i*Span/Events (plus a seeded jitter below one step when
	// Seed != 0), so times are non-decreasing in i and all lie in [End-Span, End).
	Span time.Duration
	// End is the exclusive end of the span (default DefaultEnd).
	End time.Time
	// Seed drives timestamp jitter, late-event selection, field values and
	// fault injection. 0 means evenly spread timestamps (faults still use a
	// fixed default seed).
	Seed int64
	// EventSize is the approximate size in bytes of one event's JSON
	// (default 1024, minimum ~200).
	EventSize int
	// LateFraction of the events (chosen by Seed) are published LateBy after
	// their timestamp. Every event is invisible until its publication time
	// (event time for on-time events) has passed according to Now.
	LateFraction float64
	LateBy       time.Duration
	// Now is the clock used for publication, token expiry and Retry-After
	// (default time.Now).
	Now func() time.Time

	// ---- request ----

	// Path of the events endpoint (default /api/v1/events).
	Path string
	// Method is the one HTTP method the events endpoint accepts, as the
	// definition's request.httpMethod declares it: GET (the default, as in
	// CCP) or POST, case-insensitive. Any other method is a 405 with
	// "Allow: <Method>", so a client that ignores httpMethod fails. A POST
	// body may be JSON (parameters read with gjson paths) or
	// application/x-www-form-urlencoded.
	Method string
	// SinceParam and UntilParam name the window parameters (default since /
	// until), read from the query string, then a form body, then a JSON body.
	// The window is [since, until) on event time.
	SinceParam string
	UntilParam string
	// TimeFormat of the window parameters; TimeLayout uses the Go layout in
	// the TimeLayout field.
	TimeFormat TimeFormat
	TimeLayout string
	// WindowOptional makes a missing since/until mean "unbounded" on that
	// side instead of a 400. A malformed value is always a 400.
	WindowOptional bool

	// ---- auth ----

	Auth AuthMode
	// APIKey mode: header name (default Authorization), optional prefix (e.g.
	// "SSWS", "Bearer") separated from the key by one space.
	APIKey       string
	APIKeyHeader string
	APIKeyPrefix string
	// APIKeyInBody (CCP IsApiKeyInPostPayload) expects the key, with the
	// prefix if any, in the POST form/JSON body field named APIKeyHeader
	// (a gjson path for JSON) instead of a header.
	APIKeyInBody bool
	// Basic mode.
	Username string
	Password string
	// OAuth2 client_credentials mode.
	ClientID     string
	ClientSecret string
	// TokenPath of the token endpoint (default /oauth2/token).
	TokenPath string
	// TokenTTL of issued access tokens (default 1h); reported as expires_in.
	TokenTTL time.Duration
	// Scopes, when non-empty, is the set of scopes a client may request; a
	// token request must ask for at least one of them and none outside it.
	Scopes []string
	// TokenParams are extra body parameters the token request must carry with
	// exactly these values (e.g. {"audience": "https://api.example.com"}).
	TokenParams map[string]string
	// BearerPrefix written before the access token on API calls (default
	// "Bearer", compared case-insensitively).
	BearerPrefix string

	// ---- paging ----

	Paging PagingMode
	// PageSize is used when the request carries no page-size parameter
	// (default 100). MaxPageSize is the largest accepted value (default
	// 1000); a larger one is a 400.
	PageSize    int
	MaxPageSize int
	// PageSizeParam names the page-size parameter (default "limit";
	// "page_size" for PagingCountBased).
	PageSizeParam string
	// TokenParam names the parameter carrying the token/cursor for
	// NextPageToken (default page_token), PersistentToken (default from),
	// LinkHeader and NextPageUrl (default after; it is inside the returned
	// URL). It is accepted as a query/form parameter, as JSON body path
	// TokenBodyPath (default TokenParam, may be a dotted path like
	// request_data.next_page_token), and as request header TokenHeader
	// (default X-Page-Token).
	TokenParam    string
	TokenBodyPath string
	TokenHeader   string
	// NextField is the response body path (dotted) of the next token / URL:
	// NextPageToken default next_page_token, PersistentToken default next,
	// NextPageUrl default nextPageUrl, LinkHeader default "" = use the Link
	// header (set e.g. "nextLink" to put the URL in the body instead).
	NextField string
	// NextHeader, for NextPageToken, puts the token into this response header
	// instead of the body.
	NextHeader string
	// HasMoreField, when set, adds a boolean with this body path telling
	// whether another page exists (token-, URL-, link- and cursor-based modes).
	HasMoreField string
	// AlwaysNext makes token/URL/link modes return a next token even on the
	// last page (Okta style); following it yields an empty page.
	AlwaysNext bool
	// RelativeNextURL makes NextPageUrl return a path-relative URL
	// (/api/v1/events?...) instead of an absolute one.
	RelativeNextURL bool
	// OffsetParam names the Offset parameter (default offset; missing = 0).
	OffsetParam string
	// PageParam names the CountBasedPaging page number (default page;
	// missing = first page). ZeroBasedPages makes the first page 0 instead of 1.
	PageParam      string
	ZeroBasedPages bool
	// MaxUnpaged caps the events of a PagingNone response (default 10000); a
	// window holding more is a 400 rather than a silent truncation.
	MaxUnpaged int

	// ---- response ----

	// EventsPath is the dotted body path of the events array (default
	// "data"). "-" makes the body the bare array (only with modes whose
	// paging info is in headers: None, LinkHeader with the Link header,
	// NextPageToken with NextHeader).
	EventsPath string
	// StatusField, when set, adds StatusField: StatusValue (default "ok") to
	// every 200 body, for successStatusJsonPath tests.
	StatusField string
	StatusValue string

	// ---- misc ----

	// TokenSecret keys the MAC of page tokens. Default: random per Server,
	// so a token from another instance is rejected. Set it to keep tokens
	// valid across emulator restarts.
	TokenSecret []byte
	// LogSize bounds the request log (default 1000 entries).
	LogSize int

	// ---- replicas (see replicas.go) ----

	// ReplicaHeader names the request header with which each client replica marks itself
	// (e.g. X-Replica). When set, every events-endpoint request is recorded with that
	// header's value ("" when absent) and its wall-clock start and end, for ReplicaRequests
	// and Overlaps.
	ReplicaHeader string
	// Connector names this API in overlap reports (default Path). One Server emulates the API
	// of one connector, so its record is that connector's.
	Connector string
	// ReplicaLogSize bounds the replica record (default 100000 requests; the oldest go first).
	ReplicaLogSize int
	// Faults is the initial fault configuration (see SetFaults).
	Faults Faults
}

// withDefaults fills in every zero field that has a default (see the field comments).
func (c Config) withDefaults() Config {
	c.storeDefaults()
	c.requestDefaults()
	c.authDefaults()
	c.pagingDefaults()
	c.responseDefaults()
	return c
}

// orDefault sets *p to def when *p is the zero value.
func orDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// positiveOr sets *p to def when *p is not positive.
func positiveOr[T int | time.Duration](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}

func (c *Config) storeDefaults() {
	if c.Events == 0 {
		c.Events = 1000
	} else if c.Events < 0 {
		c.Events = 0
	}
	positiveOr(&c.Span, time.Hour)
	if c.End.IsZero() {
		c.End = DefaultEnd
	}
	c.End = c.End.UTC()
	positiveOr(&c.EventSize, 1024)
	if c.Now == nil {
		c.Now = time.Now
	}
	positiveOr(&c.LogSize, 1000)
	positiveOr(&c.ReplicaLogSize, 100000)
}

func (c *Config) requestDefaults() {
	orDefault(&c.Path, "/api/v1/events")
	orDefault(&c.Connector, c.Path)
	c.Method = strings.ToUpper(strings.TrimSpace(c.Method))
	orDefault(&c.Method, http.MethodGet)
	orDefault(&c.SinceParam, "since")
	orDefault(&c.UntilParam, "until")
}

func (c *Config) authDefaults() {
	orDefault(&c.APIKeyHeader, "Authorization")
	orDefault(&c.TokenPath, "/oauth2/token")
	positiveOr(&c.TokenTTL, time.Hour)
	orDefault(&c.BearerPrefix, "Bearer")
}

func (c *Config) pagingDefaults() {
	positiveOr(&c.PageSize, 100)
	positiveOr(&c.MaxPageSize, 1000)
	c.PageSize = min(c.PageSize, c.MaxPageSize)
	pageSizeParam, tokenParam := "limit", "page_token"
	switch c.Paging {
	case PagingCountBased:
		pageSizeParam = "page_size"
	case PagingPersistentToken:
		tokenParam = "from"
	case PagingLinkHeader, PagingNextPageURL:
		tokenParam = "after"
	}
	orDefault(&c.PageSizeParam, pageSizeParam)
	orDefault(&c.TokenParam, tokenParam)
	orDefault(&c.TokenBodyPath, c.TokenParam)
	orDefault(&c.TokenHeader, "X-Page-Token")
	orDefault(&c.NextField, defaultNextField[c.Paging])
	orDefault(&c.OffsetParam, "offset")
	orDefault(&c.PageParam, "page")
	positiveOr(&c.MaxUnpaged, 10000)
}

// defaultNextField is the body path of the next token or URL per paging mode ("" for
// LinkHeader: the Link header).
var defaultNextField = map[PagingMode]string{
	PagingNextPageToken:   "next_page_token",
	PagingPersistentToken: "next",
	PagingNextPageURL:     "nextPageUrl",
}

func (c *Config) responseDefaults() {
	orDefault(&c.EventsPath, "data")
	orDefault(&c.StatusValue, "ok")
}

func (c Config) validate() error {
	if c.EventsPath == "-" {
		ok := c.StatusField == "" && c.HasMoreField == "" &&
			(c.Paging == PagingNone ||
				(c.Paging == PagingLinkHeader && c.NextField == "") ||
				(c.Paging == PagingNextPageToken && c.NextHeader != ""))
		if !ok {
			return fmt.Errorf("EventsPath %q (bare array) needs paging info in headers and no StatusField/HasMoreField", c.EventsPath)
		}
	}
	if !strings.HasPrefix(c.Path, "/") || !strings.HasPrefix(c.TokenPath, "/") {
		return fmt.Errorf("Path %q and TokenPath %q must start with /", c.Path, c.TokenPath)
	}
	if c.Auth == AuthOAuth2 && c.Path == c.TokenPath {
		return fmt.Errorf("Path and TokenPath are both %q", c.Path)
	}
	if c.Method != http.MethodGet && c.Method != http.MethodPost {
		return fmt.Errorf("Method %q: only GET and POST are emulated", c.Method)
	}
	if c.APIKeyInBody && c.Method != http.MethodPost {
		return fmt.Errorf("APIKeyInBody needs Method POST (got %s)", c.Method)
	}
	if c.TimeFormat == TimeLayout && c.TimeLayout == "" {
		return fmt.Errorf("TimeFormat TimeLayout needs Config.TimeLayout")
	}
	if c.LateFraction < 0 || c.LateFraction > 1 {
		return fmt.Errorf("LateFraction %v not in [0,1]", c.LateFraction)
	}
	switch c.Auth {
	case AuthNone:
	case AuthAPIKey:
		if c.APIKey == "" {
			return fmt.Errorf("AuthAPIKey needs APIKey")
		}
	case AuthBasic:
		if c.Username == "" {
			return fmt.Errorf("AuthBasic needs Username")
		}
	case AuthOAuth2:
		if c.ClientID == "" || c.ClientSecret == "" {
			return fmt.Errorf("AuthOAuth2 needs ClientID and ClientSecret")
		}
	default:
		return fmt.Errorf("unknown auth mode %d", int(c.Auth))
	}
	if c.Paging < PagingNone || c.Paging > PagingCountBased {
		return fmt.Errorf("unknown paging mode %d", int(c.Paging))
	}
	return nil
}
