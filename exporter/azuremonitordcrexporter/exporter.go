package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter/internal/metadata"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
	"github.com/otelcol-ccp/otelcol-ccp/internal/retryafter"
)

const (
	maxErrorBody  = 64 << 10
	maxRetryAfter = 5 * time.Minute
)

// route is a destination: one DCR and one of its streams.
type route struct{ dcr, stream string }

type recRef struct {
	res pcommon.Resource
	lr  plog.LogRecord
}

type dcrExporter struct {
	cfg    *Config
	set    exporter.Settings
	logger *zap.Logger
	tb     *metadata.TelemetryBuilder
	inc    *incidents
	mapper mapper
	ua     string

	client *http.Client
	tokens *tokenSource

	packers sync.Pool
	rows    sync.Pool

	urlMu sync.Mutex
	urls  map[route]string

	// For benchmarks: stdlibGzip selects compress/gzip; testPost replaces the HTTP round trip.
	stdlibGzip bool
	testPost   func(body []byte, rawLen int) postResult
}

func newExporter(cfg *Config, set exporter.Settings) (*dcrExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	e := &dcrExporter{
		cfg:    cfg,
		set:    set,
		logger: set.Logger,
		tb:     tb,
		inc:    newIncidents(set.Logger),
		mapper: newMapper(cfg),
		ua:     fmt.Sprintf("%s/%s (azure_monitor_dcr exporter)", set.BuildInfo.Command, set.BuildInfo.Version),
		urls:   map[route]string{},
	}
	e.rows.New = func() any { b := make([]byte, 0, 4096); return &b }
	return e, nil
}

func (e *dcrExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), e.set.TelemetrySettings)
	if err != nil {
		return err
	}
	e.client = client
	e.inc.setHost(host)
	authType := "authenticator"
	if e.cfg.ClientConfig.Auth.Get() == nil {
		authType = e.cfg.Auth.Type
		cred, scope, err := newCredential(e.cfg.Auth, client)
		if err != nil {
			return err
		}
		e.tokens = &tokenSource{cred: cred, scope: scope, onAcquire: func() {
			e.tb.AzureMonitorDcrTokenRefreshes.Add(context.Background(), 1)
		}}
	}
	e.logger.Info("Azure Monitor Logs Ingestion exporter starting",
		zap.String("endpoint", e.cfg.ClientConfig.Endpoint),
		zap.String("dcr_immutable_id", e.cfg.DCRImmutableID),
		zap.String("stream_name", e.cfg.StreamName),
		zap.String("auth", authType))
	if e.cfg.StartupCheck {
		e.startupCheck(ctx)
	}
	return nil
}

func (e *dcrExporter) shutdown(context.Context) error {
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	e.tb.Shutdown()
	return nil
}

// startupCheck posts an empty array to the default route. It never fails the start: a running
// collector waits out a refusal (a role assignment still propagating, a DCR being redeployed)
// instead of exiting, so a refusal is an error log naming the fix plus a RecoverableError
// status, and the records are retried until the destination accepts them. `ccp validate`-style
// tooling is where fail-fast belongs.
func (e *dcrExporter) startupCheck(ctx context.Context) {
	r := route{e.cfg.DCRImmutableID, e.cfg.StreamName}
	p, err := e.getPacker()
	if err != nil {
		e.logger.Error("Startup check could not run", zap.Error(err))
		return
	}
	defer e.putPacker(p)
	body, err := p.finish()
	if err != nil {
		e.logger.Error("Startup check could not run", zap.Error(err))
		return
	}
	res := e.post(ctx, r, body, p.raw)
	switch {
	case res.err != nil && res.refused:
		e.inc.probeFailed(r, fmt.Errorf("startup check: %w", res.err))
	case res.err != nil:
		e.logger.Warn("Startup check could not reach the Logs Ingestion API; continuing", zap.Error(res.err))
	case res.status >= 200 && res.status < 300:
		e.logger.Info("Startup check passed: endpoint, credentials, role assignment, DCR and stream are valid")
	case isDestinationRefusal(res):
		e.inc.probeFailed(r, fmt.Errorf("startup check: %w", e.describe(r, res)))
	default:
		e.logger.Warn("Startup check got a transient answer; continuing",
			zap.Int("status", res.status), zap.String("error_code", res.code))
	}
}

// isDestinationRefusal: the answer refuses the destination (credential, role, DCR, stream,
// api-version), not the rows; it is waited out, never a reason to drop records.
func isDestinationRefusal(res postResult) bool {
	switch res.status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		return configErrorCodes[res.code]
	}
	return false
}

func (e *dcrExporter) getPacker() (*packer, error) {
	if p, ok := e.packers.Get().(*packer); ok {
		p.reset()
		return p, nil
	}
	return newPacker(e.cfg.MaxRequestBytes, e.cfg.MaxUncompressedBytes, e.cfg.CompressionLevel, e.cfg.AuxiliaryTableMode, e.stdlibGzip)
}

func (e *dcrExporter) putPacker(p *packer) { e.packers.Put(p) }

func (e *dcrExporter) routeURL(r route) string {
	e.urlMu.Lock()
	defer e.urlMu.Unlock()
	if u, ok := e.urls[r]; ok {
		return u
	}
	u := strings.TrimRight(e.cfg.ClientConfig.Endpoint, "/") + "/dataCollectionRules/" + url.PathEscape(r.dcr) +
		"/streams/" + url.PathEscape(r.stream) + "?api-version=" + url.QueryEscape(e.cfg.APIVersion)
	if len(e.urls) < 1024 {
		e.urls[r] = u
	}
	return u
}

// ---- push -----------------------------------------------------------------------------------

type pushState struct {
	refs     []recRef
	done     []bool // accepted by the service or dropped for good
	dead     map[route]error
	permErrs []error
}

func (st *pushState) kill(r route, err error) {
	if st.dead == nil {
		st.dead = map[route]error{}
	}
	if _, ok := st.dead[r]; !ok {
		st.dead[r] = err
		st.permErrs = append(st.permErrs, err)
	}
}

func stringAttr(m pcommon.Map, key string) string {
	if v, ok := m.Get(key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

func (e *dcrExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	n := ld.LogRecordCount()
	if n == 0 {
		return nil
	}
	st := &pushState{refs: make([]recRef, 0, n), done: make([]bool, n)}
	def := route{e.cfg.DCRImmutableID, e.cfg.StreamName}
	var order []route
	byRoute := map[route][]int{}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource()
		rr := def
		if v := stringAttr(res.Attributes(), ccpattr.DCRImmutableID); v != "" {
			rr.dcr = v
		}
		if v := stringAttr(res.Attributes(), ccpattr.DCRStreamName); v != "" {
			rr.stream = v
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				r := rr
				if lr.Attributes().Len() > 0 {
					if v := stringAttr(lr.Attributes(), ccpattr.DCRImmutableID); v != "" {
						r.dcr = v
					}
					if v := stringAttr(lr.Attributes(), ccpattr.DCRStreamName); v != "" {
						r.stream = v
					}
				}
				idx := len(st.refs)
				st.refs = append(st.refs, recRef{res: res, lr: lr})
				list, ok := byRoute[r]
				if !ok {
					c := 16
					if len(order) == 0 {
						c = n // the common case: one destination for the whole batch
					}
					order = append(order, r)
					list = make([]int, 0, c)
				}
				byRoute[r] = append(list, idx)
			}
		}
	}
	// Every destination gets its chance: one refusing (a DCR being redeployed) does not hold
	// back the others; only the records not done go back to the retry.
	var retryErr error
	for _, r := range order {
		if err := e.sendRecords(ctx, st, r, byRoute[r]); err != nil {
			if consumererror.IsPermanent(err) {
				// Only this destination's records are lost (an internal packing error);
				// another destination's records waiting for a retry stay queued.
				st.kill(r, err)
				e.markDone(st, byRoute[r])
				continue
			}
			if retryErr == nil {
				retryErr = err
			}
			if ctx.Err() != nil {
				break
			}
		}
	}
	if retryErr != nil {
		if rem := remaining(ld, st.done); rem.LogRecordCount() > 0 {
			return consumererror.NewLogs(retryErr, rem)
		}
	}
	if len(st.permErrs) > 0 {
		return consumererror.NewPermanent(errors.Join(st.permErrs...))
	}
	return nil
}

// sendRecords packs the records idxs of route r into requests and delivers them. It returns a
// retryable error when sending must stop (the caller re-queues what is not done).
func (e *dcrExporter) sendRecords(ctx context.Context, st *pushState, r route, idxs []int) error {
	p, err := e.getPacker()
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	defer e.putPacker(p)
	rowp := e.rows.Get().(*[]byte)
	defer e.rows.Put(rowp)
	now := time.Now().UnixNano()
	batch := make([]int, 0, min(len(idxs), 8192))
	for _, i := range idxs {
		if st.done[i] {
			continue
		}
		if _, dead := st.dead[r]; dead {
			st.done[i] = true
			continue
		}
		ref := st.refs[i]
		tg := e.mapper.recordTime(ref.lr, now)
		row := e.mapper.appendRecord((*rowp)[:0], ref.res, ref.lr, tg)
		*rowp = row
	retry:
		res, err := p.add(row, tg)
		if err != nil {
			return consumererror.NewPermanent(err)
		}
		switch res {
		case added:
			batch = append(batch, i)
		case full:
			if err := e.flushPacker(ctx, st, r, p, batch); err != nil {
				return err
			}
			batch = batch[:0]
			p.reset()
			if _, dead := st.dead[r]; dead {
				st.done[i] = true
				continue
			}
			goto retry
		case tooBig:
			body, err := p.packAlone(row)
			if err != nil {
				return consumererror.NewPermanent(err)
			}
			if body == nil {
				e.rejectTooLarge(st, r, i, len(row))
			} else if err := e.deliver(ctx, st, r, []int{i}, body, p.raw); err != nil {
				return err
			}
			p.reset()
		}
	}
	if p.n > 0 {
		return e.flushPacker(ctx, st, r, p, batch)
	}
	return nil
}

func (e *dcrExporter) flushPacker(ctx context.Context, st *pushState, r route, p *packer, batch []int) error {
	body, err := p.finish()
	if errors.Is(err, errOverLimit) && len(batch) > 1 {
		// Cannot happen with the worst-case accounting; kept as a hard guard: never send over the limit.
		e.logger.Error("Internal packing error, splitting the request", zap.Error(err))
		return e.split(ctx, st, r, batch)
	}
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	return e.deliver(ctx, st, r, batch, body, p.raw)
}

func (e *dcrExporter) split(ctx context.Context, st *pushState, r route, idxs []int) error {
	h := len(idxs) / 2
	if err := e.sendRecords(ctx, st, r, idxs[:h]); err != nil {
		return err
	}
	return e.sendRecords(ctx, st, r, idxs[h:])
}

func (e *dcrExporter) rejectTooLarge(st *pushState, r route, i int, size int) {
	st.done[i] = true
	e.tb.AzureMonitorDcrRecordsTooLarge.Add(context.Background(), 1)
	e.logger.Warn("Dropping a log record that does not fit in one request on its own",
		zap.Int("json_bytes", size), zap.Int("max_request_bytes", e.cfg.MaxRequestBytes),
		zap.Int("max_uncompressed_bytes", e.cfg.MaxUncompressedBytes),
		zap.String("dcr_immutable_id", r.dcr), zap.String("stream_name", r.stream))
}

// configErrorCodes are 400 answers caused by the destination, not by the rows.
var configErrorCodes = map[string]bool{
	"InvalidStream":              true,
	"MissingApiVersionParameter": true,
	"UnsupportedApiVersion":      true,
	"InvalidApiVersion":          true,
	"InvalidDcrImmutableId":      true,
}

// deliver sends one request body holding the records idxs and handles the answer.
func (e *dcrExporter) deliver(ctx context.Context, st *pushState, r route, idxs []int, body []byte, rawLen int) error {
	res := e.post(ctx, r, body, rawLen)
	if res.err != nil {
		switch {
		case res.permanent:
			st.kill(r, res.err)
			e.markDone(st, idxs)
			return nil
		case res.refused:
			e.inc.fail(r, res.err)
		}
		return res.err
	}
	s := res.status
	switch {
	case s >= 200 && s < 300:
		e.count(ctx, "success", s)
		e.markDone(st, idxs)
		e.inc.ok(r)
		e.tb.AzureMonitorDcrRecordsSent.Add(ctx, int64(len(idxs)))
		return nil
	case isDestinationRefusal(res):
		// Not the rows' fault: wait it out with back-pressure; the records stay queued.
		outcome := "refused"
		if s == http.StatusUnauthorized {
			outcome = "unauthorized"
		}
		e.count(ctx, outcome, s)
		err := e.describe(r, res)
		e.inc.fail(r, err)
		return err
	case s == http.StatusRequestEntityTooLarge:
		e.count(ctx, "split", s)
		if len(idxs) == 1 {
			e.rejectTooLarge(st, r, idxs[0], rawLen)
			return nil
		}
		return e.split(ctx, st, r, idxs)
	case s == http.StatusBadRequest:
		// A row refused: bisect until the refused rows stand alone, so a row the service would
		// accept is never dropped. Each bad row costs at most 2·⌈log2 n⌉ extra requests.
		e.count(ctx, "bad_request", s)
		if len(idxs) == 1 {
			st.done[idxs[0]] = true
			e.tb.AzureMonitorDcrRecordsDroppedBad.Add(ctx, 1)
			e.logger.Error("Dropping a log record refused by the Logs Ingestion API",
				zap.String("error_code", res.code), zap.String("error_message", res.msg),
				zap.String("request_id", res.requestID),
				zap.String("dcr_immutable_id", r.dcr), zap.String("stream_name", r.stream))
			return nil
		}
		return e.split(ctx, st, r, idxs)
	case s == http.StatusTooManyRequests:
		e.count(ctx, "throttled", s)
		e.tb.AzureMonitorDcrThrottles.Add(ctx, 1)
		err := fmt.Errorf("throttled by the Logs Ingestion API (429 %s) for DCR %s", res.code, r.dcr)
		if d, ok := retryAfter(res.header); ok {
			return exporterhelper.NewThrottleRetry(err, d)
		}
		return err
	case s == http.StatusRequestTimeout || s >= 500:
		e.count(ctx, "retryable", s)
		err := fmt.Errorf("the Logs Ingestion API answered %d %s: %s", s, res.code, res.msg)
		if d, ok := retryAfter(res.header); ok {
			return exporterhelper.NewThrottleRetry(err, d)
		}
		return err
	default:
		// Another 4xx says nothing about the rows: retry with back-off rather than drop.
		e.count(ctx, "refused", s)
		err := e.describe(r, res)
		e.inc.fail(r, err)
		return err
	}
}

func (e *dcrExporter) markDone(st *pushState, idxs []int) {
	for _, i := range idxs {
		st.done[i] = true
	}
}

func (e *dcrExporter) count(ctx context.Context, outcome string, status int) {
	e.tb.AzureMonitorDcrRequests.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(
		attribute.String("outcome", outcome), attribute.Int("status_code", status))))
}

// describe turns a refusal into an error saying what to check.
func (e *dcrExporter) describe(r route, res postResult) error {
	svc := fmt.Sprintf("service answered %d %s: %s", res.status, res.code, res.msg)
	switch {
	case res.status == http.StatusForbidden:
		return fmt.Errorf("the identity has no permission to ingest into DCR %s: assign the role \"Monitoring Metrics Publisher\" on the data collection rule to the app registration or managed identity (role assignments can take up to 30 minutes to apply); %s", r.dcr, svc)
	case res.status == http.StatusNotFound:
		return fmt.Errorf("DCR %s not found at %s: check dcr_immutable_id (the DCR's immutableId, dcr-<32 hex>, or the record's %s attribute) and that endpoint is the logs ingestion URI of a DCE or of the DCR itself, in the DCR's region; %s", r.dcr, e.cfg.ClientConfig.Endpoint, ccpattr.DCRImmutableID, svc)
	case res.code == "InvalidStream":
		return fmt.Errorf("stream %q is not declared in DCR %s: check stream_name (or the record's %s attribute) against the DCR's streamDeclarations; DCR changes can take a few minutes to propagate; %s", r.stream, r.dcr, ccpattr.DCRStreamName, svc)
	case res.code == "MissingApiVersionParameter" || res.code == "UnsupportedApiVersion" || res.code == "InvalidApiVersion":
		return fmt.Errorf("api_version %q refused: use 2023-01-01; %s", e.cfg.APIVersion, svc)
	case res.status == http.StatusUnauthorized:
		return fmt.Errorf("the access token was refused even after a refresh: check auth::tenant_id, auth::cloud / auth::scope (the token audience must be the Logs Ingestion audience, e.g. https://monitor.azure.com) and that the credential is an application identity (service principal or managed identity; user tokens are refused); %s", svc)
	case res.status == http.StatusBadRequest:
		return fmt.Errorf("request refused: %s", svc)
	default:
		return fmt.Errorf("request refused; retried with back-off until accepted: %s", svc)
	}
}

// ---- HTTP -----------------------------------------------------------------------------------

type postResult struct {
	status    int
	header    http.Header
	code, msg string
	requestID string
	err       error // no answer (network) or no token
	permanent bool  // err can never succeed (the request cannot be built)
	refused   bool  // err is Entra ID refusing the credential: waited out like a 403
}

func (e *dcrExporter) post(ctx context.Context, r route, body []byte, rawLen int) postResult {
	if e.testPost != nil {
		return e.testPost(body, rawLen)
	}
	u := e.routeURL(r)
	var tok string
	if e.tokens != nil {
		var err error
		if tok, err = e.tokens.token(ctx, ""); err != nil {
			return e.tokenError(err)
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return postResult{err: consumererror.NewPermanent(err), permanent: true}
		}
		h := req.Header
		h.Set("Content-Type", "application/json")
		h.Set("Content-Encoding", "gzip")
		h.Set("Accept", "application/json")
		h.Set("User-Agent", e.ua)
		h.Set("x-ms-client-request-id", newGUID())
		if tok != "" {
			h.Set("Authorization", "Bearer "+tok)
		}
		e.tb.AzureMonitorDcrRequestWireBytes.Record(ctx, int64(len(body)))
		e.tb.AzureMonitorDcrRequestUncompressedBytes.Record(ctx, int64(rawLen))
		resp, err := e.client.Do(req)
		if err != nil {
			e.count(ctx, "network_error", 0)
			return postResult{err: fmt.Errorf("sending to the Logs Ingestion API: %w", err)}
		}
		res := postResult{status: resp.StatusCode, header: resp.Header, requestID: resp.Header.Get("x-ms-request-id")}
		if resp.StatusCode >= 300 {
			res.code, res.msg = parseError(resp)
		}
		_, _ = io.CopyN(io.Discard, resp.Body, maxErrorBody)
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 && e.tokens != nil {
			e.count(ctx, "unauthorized", resp.StatusCode)
			e.logger.Info("Access token refused (401); acquiring a new one and retrying once",
				zap.String("error_code", res.code))
			if tok, err = e.tokens.token(ctx, tok); err != nil {
				return e.tokenError(err)
			}
			continue
		}
		return res
	}
}

func (e *dcrExporter) tokenError(err error) postResult {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		if s := afe.RawResponse.StatusCode; s == http.StatusBadRequest || s == http.StatusUnauthorized || s == http.StatusForbidden || s == http.StatusNotFound {
			return postResult{err: fmt.Errorf("Entra ID refused the credential (check auth::tenant_id, auth::client_id and the secret/certificate/federated token; a rotated secret must be updated in the configuration): %w", err), refused: true}
		}
	}
	return postResult{err: fmt.Errorf("acquiring an Entra ID token: %w", err)}
}

func parseError(resp *http.Response) (string, string) {
	code := resp.Header.Get("x-ms-error-code")
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := ""
	if json.Unmarshal(b, &body) == nil {
		if code == "" {
			code = body.Error.Code
		}
		msg = body.Error.Message
	} else {
		msg = strings.TrimSpace(string(b))
		if len(msg) > 512 {
			msg = msg[:512]
		}
	}
	return code, msg
}

// retryAfter reads the delay the service asks for (retryafter.Parse), caps it and adds up to 10 % (at most 2 s) of jitter.
func retryAfter(h http.Header) (time.Duration, bool) {
	d, found := retryafter.Parse(h)
	if !found {
		return 0, false
	}
	d = min(d, maxRetryAfter)
	if j := min(d/10, 2*time.Second); j > 0 {
		d += time.Duration(mrand.Int64N(int64(j)))
	}
	return d, true
}

// remaining copies the records not marked done, keeping their resource and scope.
func remaining(ld plog.Logs, done []bool) plog.Logs {
	out := plog.NewLogs()
	i := 0
	rls := ld.ResourceLogs()
	for a := 0; a < rls.Len(); a++ {
		rl := rls.At(a)
		var orl plog.ResourceLogs
		haveRL := false
		sls := rl.ScopeLogs()
		for b := 0; b < sls.Len(); b++ {
			sl := sls.At(b)
			var osl plog.ScopeLogs
			haveSL := false
			lrs := sl.LogRecords()
			for c := 0; c < lrs.Len(); c++ {
				if !done[i] {
					if !haveRL {
						orl = out.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(orl.Resource())
						orl.SetSchemaUrl(rl.SchemaUrl())
						haveRL = true
					}
					if !haveSL {
						osl = orl.ScopeLogs().AppendEmpty()
						sl.Scope().CopyTo(osl.Scope())
						osl.SetSchemaUrl(sl.SchemaUrl())
						haveSL = true
					}
					lrs.At(c).CopyTo(osl.LogRecords().AppendEmpty())
				}
				i++
			}
		}
	}
	return out
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
