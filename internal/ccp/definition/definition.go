// Package definition holds the typed model of one CCP poller (a RestApiPoller's properties or a
// legacy APIPolling pollingConfig) and builds it from the loosely typed JSON that Sentinel
// files contain. It resolves nothing: placeholders and ARM expressions are expanded before
// Parse, and request-time builtins ({_QueryWindowStartTime}) are left for the engine. Nested
// steps (stepInfo / stepCollectorConfigs) are parsed into their shape (steps.go); package
// nested checks their references and runs them.
package definition

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Definition is one poller, ready for the polling engine.
type Definition struct {
	Legacy                  bool // came from an APIPolling pollingConfig
	ConnectorDefinitionName string
	DataType                string
	IsActive                bool
	Auth                    Auth
	Request                 Request
	Response                Response
	Paging                  Paging
	DCR                     DCRConfig
	AddOnAttributes         []Param // added to every event as fields; null values dropped
	// Steps are the nested steps (stepInfo / stepCollectorConfigs), nil when there are none.
	Steps *Steps

	// Unsupported names features present in the definition that the engine cannot run; a
	// non-empty list makes the poller unusable, with these reasons.
	Unsupported []string
	// Warnings are things a user should know (unknown keys, internal transforms).
	Warnings []string
}

// Auth keeps the auth object's fields for the auth package, which reads the ones its type needs.
type Auth struct {
	Type   string // canonical spelling, e.g. "APIKey", "OAuth2", "None"
	Fields *Fields
}

// Request is the request object (§4 of the spec).
type Request struct {
	APIEndpoint                    string
	HTTPMethod                     string // upper case, default GET
	QueryWindowInMin               int    // default 5
	QueryWindowDelayInMin          int
	QueryTimeFormat                string
	StartTimeAttributeName         string
	EndTimeAttributeName           string
	QueryTimeIntervalAttributeName string
	QueryTimeIntervalPrepend       string
	QueryTimeIntervalDelimiter     string
	QueryParameters                []Param
	QueryParametersTemplate        string
	HasTemplate                    bool // a template key was given, even empty
	IsPostPayloadJSON              bool
	Headers                        []Param
	RateLimitQPS                   float64
	PaginatedCallsPerSecond        float64
	RateLimit                      *RateLimitConfig
	RetryCount                     int // default 3
	TimeoutInSeconds               int // default 20
	LogResponseContent             bool
	FirstWindowBackfillInMin       int
}

// RateLimitConfig is the header-driven throttling block (§4.7).
type RateLimitConfig struct {
	OnlyWhen429         bool
	CustomHeaders       bool // false: standard Retry-After / X-RateLimit-* headers
	LimitHeader         string
	RemainingHeader     string
	ResetHeader         string
	ResetFormat         string // Integer (seconds to wait) or UnixTimeSeconds
	UseResetOrRetryAfer bool
}

// Response is the response object (§5).
type Response struct {
	EventsJSONPaths               []string
	Format                        string // json, jsonlines, csv (lower case)
	SuccessStatusJSONPath         string
	SuccessStatusValue            string
	IsGzipCompressed              bool
	CompressionAlgo               string
	CSVDelimiter                  string
	HasCSVHeader                  *bool
	CSVEscape                     string
	ConvertChildPropertiesToArray bool
	SuccessStatusCodes            []int
}

// Paging types, canonical spelling.
const (
	PagingNone                 = ""
	PagingLinkHeader           = "LinkHeader"
	PagingPersistentLinkHeader = "PersistentLinkHeader"
	PagingNextPageToken        = "NextPageToken"
	PagingPersistentToken      = "PersistentToken"
	PagingNextPageURL          = "NextPageUrl"
	PagingOffset               = "Offset"
	PagingCountBased           = "CountBasedPaging"
)

// Paging is the paging object (§6).
type Paging struct {
	Type                               string
	PageSize                           int
	PageSizeParameterName              string
	PagingInfoPlacement                string // "", QueryString, RequestBody
	PagingQueryParamOnly               bool
	LinkHeaderTokenJSONPath            string
	NextPageTokenJSONPath              string
	NextPageTokenResponseHeader        string
	NextPageParaName                   string
	NextPageRequestHeader              string
	HasNextFlagJSONPath                string
	NextPageURL                        string
	IsNextPageTokenRelativeURL         bool
	NextPageURLQueryParameters         []Param
	NextPageURLQueryParametersTemplate string
	OffsetParaName                     string
	OffsetEndParaName                  string
	PageNumberParaName                 string
	ZeroBasedIndexing                  bool
	TotalResultsJSONPath               string
	PageNumberJSONPath                 string
	PageCountJSONPath                  string
	// TokenTransform post-processes the extracted token (SAP BTP: "paging: handle=XYZ" header
	// split on "=" keeping part 1); nil = use the token as extracted.
	TokenTransform *TokenTransform
}

// TokenTransform is paging.tokenTransform; only SplitOnDelimiter is known.
type TokenTransform struct {
	Delimiter string
	Index     int
}

// DCRConfig is the destination (§2.3); every field may be empty.
type DCRConfig struct {
	DataCollectionEndpoint        string
	DataCollectionRuleImmutableID string
	StreamName                    string
}

var authTypes = map[string]string{}

func init() {
	for _, t := range []string{"Basic", "APIKey", "OAuth2", "JwtToken", "Session", "None", "CiscoDuo",
		"AliCloudSlsV1", "Oracle", "AWS", "GCP", "GitHub", "ServiceBus", "ServicePrincipal"} {
		authTypes[strings.ToLower(t)] = t
	}
}

var pagingTypes = map[string]string{
	"":                     PagingNone,
	"none":                 PagingNone,
	"linkheader":           PagingLinkHeader,
	"persistentlinkheader": PagingPersistentLinkHeader,
	"nextpagetoken":        PagingNextPageToken,
	"pagetoken":            PagingNextPageToken, // legacy schema name, same behaviour
	"persistenttoken":      PagingPersistentToken,
	"nextpageurl":          PagingNextPageURL,
	"offset":               PagingOffset,
	"countbasedpaging":     PagingCountBased,
	"pagecount":            PagingCountBased, // legacy page-number paging
}

// Unwrap finds the poller object inside what a user pasted: a resource ({kind, properties}),
// a properties object, an APIPolling properties object ({pollingConfig}) or a bare
// pollingConfig. It reports the kind when one was given and whether the shape is legacy.
func Unwrap(raw map[string]any) (props map[string]any, kind string, legacy bool) {
	f := NewFields("", raw)
	if f.Has("kind") && f.Has("properties") {
		kind = f.String("kind")
		if p, ok := asMap(mustRaw(f, "properties")); ok {
			raw = p
			f = NewFields("", raw)
		}
	}
	if pc, ok := f.Raw("pollingConfig"); ok {
		if m, ok := asMap(pc); ok {
			return m, kind, true
		}
	}
	if a := f.Object("auth"); a != nil && a.Has("authType") && !a.Has("type") {
		legacy = true
	}
	if strings.EqualFold(kind, "APIPolling") {
		legacy = true
	}
	return raw, kind, legacy
}

func mustRaw(f *Fields, k string) any { v, _ := f.Raw(k); return v }

// Parse builds a Definition from a poller object (see Unwrap for the accepted shapes). path
// names the source in messages (a file name or "polling_config"). Errors name the field and the
// fix; unknown keys become warnings because real files carry UI-only and undocumented keys.
// Nested steps are parsed into Steps but make the poller unsupported: the engine alone would
// poll the parent only. A caller that runs them uses ParseNested.
func Parse(raw map[string]any, path string) (*Definition, error) { return parse(raw, path, false) }

// ParseNested is Parse for a caller that runs the nested steps (package nested wraps the
// engine): they are parsed into Steps and do not make the poller unsupported.
func ParseNested(raw map[string]any, path string) (*Definition, error) {
	return parse(raw, path, true)
}

func parse(raw map[string]any, path string, nested bool) (*Definition, error) {
	props, kind, legacy := Unwrap(raw)
	d := &Definition{Legacy: legacy, IsActive: true}
	if kind != "" && !strings.EqualFold(kind, "RestApiPoller") && !strings.EqualFold(kind, "APIPolling") {
		d.Unsupported = append(d.Unsupported, fmt.Sprintf("kind %q is not an HTTP poller (only RestApiPoller and APIPolling are supported)", kind))
	}
	root := NewFields(path, props)
	d.ConnectorDefinitionName = root.String("connectorDefinitionName")
	d.DataType = root.String("dataType")
	if b, ok := root.BoolOK("isActive"); ok {
		d.IsActive = b
	}
	for _, k := range []string{"connectorUiConfig", "owner", "version", "source", "templateFilePath", "templateFileName", "displayName", "etag"} {
		root.Has(k) // UI and ARM metadata: known, no runtime effect
	}
	if root.Has("stepInfo") || root.Has("stepCollectorConfigs") {
		d.Steps = parseSteps(root, path)
		if !nested {
			d.Unsupported = append(d.Unsupported, "nested steps (stepInfo/stepCollectorConfigs) run only through the step runner (package nested): parse with ParseNested and wrap the engine")
		}
	}
	if x := root.Object("extra"); x != nil {
		for _, k := range []string{"transformName", "nestedTransformName"} {
			if v := x.String(k); v != "" {
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s.extra.%s %q is a transform internal to Microsoft Sentinel; events are sent untransformed (compensate in a processor or the DCR transform)", path, k, v))
			}
		}
	}

	if dcr := root.Object("dcrConfig"); dcr != nil {
		d.DCR = DCRConfig{
			DataCollectionEndpoint:        dcr.String("dataCollectionEndpoint"),
			DataCollectionRuleImmutableID: dcr.String("dataCollectionRuleImmutableId"),
			StreamName:                    dcr.String("streamName"),
		}
		warnUnused(d, dcr)
	}
	d.AddOnAttributes = root.Params("addOnAttributes")

	var errs []error
	if a := root.Object("auth"); a != nil {
		t := a.String("type", "authType")
		canon, ok := authTypes[strings.ToLower(strings.TrimSpace(t))]
		switch {
		case t == "":
			errs = append(errs, fmt.Errorf("%s.auth.type: missing; set it to one of Basic, APIKey, OAuth2, JwtToken, Session or None", path))
		case !ok:
			canon = t
		}
		d.Auth = Auth{Type: canon, Fields: a}
	} else {
		errs = append(errs, fmt.Errorf("%s.auth: missing; a poller needs an auth object (use {\"type\": \"None\"} for open APIs)", path))
	}

	if r := root.Object("request"); r != nil {
		parseRequest(d, r)
	} else {
		errs = append(errs, fmt.Errorf("%s.request: missing; a poller needs a request object with apiEndpoint", path))
	}
	if r := root.Object("response"); r != nil {
		parseResponse(d, r)
	} else {
		errs = append(errs, fmt.Errorf("%s.response: missing; a poller needs a response object with eventsJsonPaths", path))
	}
	if p := root.Object("paging"); p != nil {
		parsePaging(d, p)
	}
	warnUnused(d, root)
	errs = append(errs, root.Errors()...)
	if len(errs) > 0 {
		return d, errors.Join(errs...)
	}
	return d, d.validate(path)
}

func warnUnused(d *Definition, f *Fields) {
	for _, k := range f.Unused() {
		d.Warnings = append(d.Warnings, fmt.Sprintf("unknown key %s ignored", k))
	}
}

func parseRequest(d *Definition, r *Fields) {
	q := &d.Request
	q.APIEndpoint = strings.TrimSpace(r.String("apiEndpoint"))
	q.HTTPMethod = strings.ToUpper(strings.TrimSpace(r.String("httpMethod")))
	if q.HTTPMethod == "" {
		q.HTTPMethod = "GET"
	}
	q.QueryWindowInMin = 5
	if n, ok := r.Int("queryWindowInMin"); ok {
		q.QueryWindowInMin = n
	}
	q.QueryWindowDelayInMin, _ = r.Int("queryWindowDelayInMin")
	q.QueryTimeFormat = r.String("queryTimeFormat")
	q.StartTimeAttributeName = r.String("startTimeAttributeName")
	q.EndTimeAttributeName = r.String("endTimeAttributeName")
	q.QueryTimeIntervalAttributeName = r.String("queryTimeIntervalAttributeName")
	q.QueryTimeIntervalPrepend = r.String("queryTimeIntervalPrepend")
	q.QueryTimeIntervalDelimiter = r.String("queryTimeIntervalDelimiter")
	q.QueryParameters = r.Params("queryParameters")
	q.QueryParametersTemplate, q.HasTemplate = r.StringOK("queryParametersTemplate")
	q.IsPostPayloadJSON = r.Bool("isPostPayloadJson")
	q.Headers = r.Params("headers")
	q.RateLimitQPS, _ = r.Float("rateLimitQPS", "rateLimitQps")
	q.PaginatedCallsPerSecond, _ = r.Float("paginatedCallsPerSecond")
	q.RetryCount = 3
	if n, ok := r.Int("retryCount"); ok {
		q.RetryCount = n
	}
	q.TimeoutInSeconds = 20
	if n, ok := r.Int("timeoutInSeconds"); ok {
		q.TimeoutInSeconds = n
	}
	q.LogResponseContent = r.Bool("logResponseContent")
	q.FirstWindowBackfillInMin, _ = r.Int("firstWindowBackfillInMin")
	if rl := r.Object("rateLimitConfig"); rl != nil {
		c := &RateLimitConfig{}
		if ev := rl.Object("evaluation"); ev != nil {
			c.OnlyWhen429 = strings.EqualFold(ev.String("checkMode"), "OnlyWhen429")
		}
		if ex := rl.Object("extraction"); ex != nil {
			c.CustomHeaders = strings.EqualFold(ex.String("source"), "CustomHeaders")
			if h := ex.Object("headers"); h != nil {
				if l := h.Object("limit"); l != nil {
					c.LimitHeader = l.String("name")
					l.Has("format")
				}
				if l := h.Object("remaining"); l != nil {
					c.RemainingHeader = l.String("name")
					l.Has("format")
				}
				if l := h.Object("reset"); l != nil {
					c.ResetHeader = l.String("name")
					c.ResetFormat = l.String("format")
				}
			}
		}
		if rs := rl.Object("retryStrategy"); rs != nil {
			c.UseResetOrRetryAfer = rs.Bool("useResetOrRetryAfterHeaders")
		}
		q.RateLimit = c
	}
	for _, k := range []string{"maxParallelism"} {
		r.Has(k)
	}
	warnUnused(d, r)
}

func parseResponse(d *Definition, r *Fields) {
	p := &d.Response
	p.EventsJSONPaths = r.Strings("eventsJsonPaths")
	p.Format = strings.ToLower(strings.TrimSpace(r.String("format")))
	if p.Format == "" {
		p.Format = "json"
	}
	p.SuccessStatusJSONPath = r.String("successStatusJsonPath")
	p.SuccessStatusValue = r.String("successStatusValue")
	p.IsGzipCompressed = r.Bool("isGzipCompressed")
	p.CompressionAlgo = strings.ToLower(r.String("compressionAlgo"))
	p.CSVDelimiter = r.String("csvDelimiter")
	if b, ok := r.BoolOK("hasCsvHeader"); ok {
		p.HasCSVHeader = &b
	}
	p.CSVEscape = r.String("csvEscape")
	r.Has("hasCsvBoundary")
	p.ConvertChildPropertiesToArray = r.Bool("convertChildPropertiesToArray")
	p.SuccessStatusCodes = r.Ints("successStatusCodes")
	warnUnused(d, r)
}

func parsePaging(d *Definition, r *Fields) {
	p := &d.Paging
	t, ok := r.StringOK("pagingType")
	if !ok {
		if t, ok = r.StringOK("type"); ok {
			// Ermes writes "type"; without this its LinkHeader paging would silently be off.
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s.type: read as pagingType %q (the documented key is pagingType)", r.Path(), t))
		}
	}
	canon, ok := pagingTypes[strings.ToLower(strings.TrimSpace(t))]
	if !ok {
		d.Unsupported = append(d.Unsupported, fmt.Sprintf("paging type %q is not supported", t))
	}
	p.Type = canon
	p.PageSize, _ = r.Int("pageSize")
	p.PageSizeParameterName = r.String("pageSizeParameterName", "pageSizeParaName")
	p.PagingInfoPlacement = r.String("pagingInfoPlacement")
	p.PagingQueryParamOnly = r.Bool("pagingQueryParamOnly")
	p.LinkHeaderTokenJSONPath = r.String("linkHeaderTokenJsonPath")
	p.NextPageTokenJSONPath = r.String("nextPageTokenJsonPath")
	p.NextPageTokenResponseHeader = r.String("nextPageTokenResponseHeader")
	p.NextPageParaName = r.String("nextPageParaName")
	p.NextPageRequestHeader = r.String("nextPageRequestHeader")
	p.HasNextFlagJSONPath = r.String("hasNextFlagJsonPath")
	p.NextPageURL = r.String("nextPageUrl")
	p.IsNextPageTokenRelativeURL = r.Bool("isNextPageTokenRelativeUrl")
	p.NextPageURLQueryParameters = r.Params("nextPageUrlQueryParameters")
	p.NextPageURLQueryParametersTemplate = r.String("nextPageUrlQueryParametersTemplate")
	p.OffsetParaName = r.String("offsetParaName")
	p.OffsetEndParaName = r.String("offsetEndParaName")
	p.PageNumberParaName = r.String("pageNumberParaName", "pageCountAttributePath")
	p.ZeroBasedIndexing = r.Bool("zeroBasedIndexing")
	p.TotalResultsJSONPath = r.String("totalResultsJsonPath", "pageTotalCountAttributePath")
	p.PageNumberJSONPath = r.String("pageNumberJsonPath")
	p.PageCountJSONPath = r.String("pageCountJsonPath")
	r.Has("condition") // Slack's undocumented JavaScript-syntax hint; percent-encoding covers it
	if tt := r.Object("tokenTransform"); tt != nil {
		switch typ := tt.String("TransformType"); {
		case strings.EqualFold(typ, "SplitOnDelimiter"):
			idx, _ := tt.Int("StringIndex")
			p.TokenTransform = &TokenTransform{Delimiter: tt.String("SliceDelimiter"), Index: idx}
		default:
			d.Unsupported = append(d.Unsupported, fmt.Sprintf("paging.tokenTransform type %q is not supported (SplitOnDelimiter is)", typ))
		}
		warnUnused(d, tt)
	}
	warnUnused(d, r)
}

// ErrOffsetWithoutParaName refuses Offset paging that names no offset parameter.
var ErrOffsetWithoutParaName = errors.New("missing for Offset paging, which could then only read the first page of " +
	"every window and skip the rest; set offsetParaName to the API's offset parameter (e.g. \"offset\" or \"skip\"), " +
	"or use the pagingType the API supports")

// CheckEndpoint is Parse's check of request.apiEndpoint, also for an endpoint completed after
// parsing (a nested step's, once its $placeholders$ are filled).
func CheckEndpoint(path, endpoint string) error {
	if endpoint == "" {
		return fmt.Errorf("%s.request.apiEndpoint: missing; set the URL to poll", path)
	}
	if strings.Contains(endpoint, "{{") || strings.HasPrefix(endpoint, "[") {
		return fmt.Errorf("%s.request.apiEndpoint: %q still holds a placeholder or ARM expression; supply it under parameters", path, endpoint)
	}
	return nil
}

// validate checks what the engine cannot work without, naming the field and the fix.
func (d *Definition) validate(path string) error {
	var errs []error
	q := d.Request
	if err := CheckEndpoint(path, q.APIEndpoint); err != nil {
		errs = append(errs, err)
	}
	switch q.HTTPMethod {
	case "GET", "POST", "PUT", "DELETE":
	default:
		errs = append(errs, fmt.Errorf("%s.request.httpMethod: %q is not GET or POST", path, q.HTTPMethod))
	}
	if q.QueryWindowInMin < 1 {
		errs = append(errs, fmt.Errorf("%s.request.queryWindowInMin: %d must be at least 1", path, q.QueryWindowInMin))
	}
	if q.QueryWindowDelayInMin < 0 {
		errs = append(errs, fmt.Errorf("%s.request.queryWindowDelayInMin: %d must not be negative", path, q.QueryWindowDelayInMin))
	}
	if q.RetryCount < 0 || q.RetryCount > 10 {
		errs = append(errs, fmt.Errorf("%s.request.retryCount: %d must be between 0 and 10", path, q.RetryCount))
	}
	if q.TimeoutInSeconds < 1 || q.TimeoutInSeconds > 600 {
		errs = append(errs, fmt.Errorf("%s.request.timeoutInSeconds: %d must be between 1 and 600", path, q.TimeoutInSeconds))
	}
	if q.RateLimitQPS < 0 {
		errs = append(errs, fmt.Errorf("%s.request.rateLimitQPS: %v must not be negative", path, q.RateLimitQPS))
	}
	if len(d.Response.EventsJSONPaths) == 0 {
		errs = append(errs, fmt.Errorf("%s.response.eventsJsonPaths: missing; give at least one JSONPath selecting the events (\"$\" for a top-level array)", path))
	}
	switch d.Response.Format {
	case "json", "jsonlines", "csv", "xml":
	default:
		d.Unsupported = append(d.Unsupported, fmt.Sprintf("response format %q is not supported (json, jsonlines, csv, xml)", d.Response.Format))
	}
	p := d.Paging
	// A paging block that cannot page is a bug in the file, not a reason to refuse it: Sentinel
	// then reads the first page only (Prisma's GET poller), and so do we, with a warning.
	disable := func(field, why string) {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s.paging.%s: %s; only the first page of each window is read", path, field, why))
		d.Paging.Type = PagingNone
	}
	switch p.Type {
	case PagingNextPageToken, PagingPersistentToken:
		switch {
		case p.NextPageTokenJSONPath == "" && p.NextPageTokenResponseHeader == "":
			disable("nextPageTokenJsonPath", p.Type+" paging needs nextPageTokenJsonPath or nextPageTokenResponseHeader")
		case p.NextPageParaName == "" && p.NextPageRequestHeader == "":
			disable("nextPageParaName", p.Type+" paging needs nextPageParaName or nextPageRequestHeader")
		}
	case PagingNextPageURL:
		if p.NextPageTokenJSONPath == "" {
			disable("nextPageTokenJsonPath", "NextPageUrl paging needs the JSONPath of the next URL")
		}
	case PagingOffset:
		if p.OffsetParaName == "" {
			// Unlike the cases above this is refused: every window would silently lose all
			// but its first page while the checkpoint moves on.
			errs = append(errs, fmt.Errorf("%s.paging.offsetParaName: %w", path, ErrOffsetWithoutParaName))
		}
	case PagingCountBased:
		if p.PageNumberParaName == "" {
			disable("pageNumberParaName", "CountBasedPaging needs the name of the page-number parameter")
		}
	}
	switch strings.ToLower(p.PagingInfoPlacement) {
	case "", "querystring", "requestbody":
	default:
		errs = append(errs, fmt.Errorf("%s.paging.pagingInfoPlacement: %q must be QueryString or RequestBody", path, p.PagingInfoPlacement))
	}
	return errors.Join(errs...)
}

// Problems returns the unsupported features as one error, or nil when the poller can run.
func (d *Definition) Problems() error {
	if len(d.Unsupported) == 0 {
		return nil
	}
	u := append([]string(nil), d.Unsupported...)
	sort.Strings(u)
	return fmt.Errorf("unsupported: %s", strings.Join(u, "; "))
}
