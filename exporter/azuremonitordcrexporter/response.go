package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
	"github.com/otelcol-ccp/otelcol-ccp/internal/retryafter"
)

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

// configErrorCodes are 400 answers caused by the destination, not by the rows.
var configErrorCodes = map[string]bool{
	"InvalidStream":              true,
	"MissingApiVersionParameter": true,
	"UnsupportedApiVersion":      true,
	"InvalidApiVersion":          true,
	"InvalidDcrImmutableId":      true,
}

// verdict is what the answer to one request means for the rows in it.
type verdict int

const (
	accepted    verdict = iota // stored by the service
	retryLater                 // back to exporterhelper's retry with the error
	splitRows                  // 413 or 400 for several rows: send them again in halves
	tooLarge                   // 413 for a single row: dropped
	refusedRow                 // 400 for a single row: dropped
	unbuildable                // the request cannot be built: the destination is given up
)

// deliver sends one request body holding rows, applies the answer to them and reports whether
// they must be sent again in halves. The error is retryable; the caller stops on it.
func (e *dcrExporter) deliver(ctx context.Context, r route, rows []rowRef, body []byte, rawLen int) (bool, error) {
	res := e.post(ctx, r, body, rawLen)
	v, err := e.judge(ctx, r, res, len(rows))
	switch v {
	case accepted:
		e.co.settle(rows)
		e.tb.AzureMonitorDcrRecordsSent.Add(ctx, int64(len(rows)))
	case unbuildable:
		e.co.kill(r, rows, err)
		return false, nil
	case tooLarge:
		e.rejectTooLarge(rows[0], r, rawLen)
	case refusedRow:
		e.dropRefused(ctx, rows[0], r, res)
	case splitRows:
		return true, nil
	}
	return false, err
}

// judge classifies the answer to a request of n rows, counting it and following incidents.
func (e *dcrExporter) judge(ctx context.Context, r route, res postResult, n int) (verdict, error) {
	if res.err != nil {
		switch {
		case res.permanent:
			return unbuildable, res.err
		case res.refused:
			e.inc.fail(r, res.err)
		}
		return retryLater, res.err
	}
	s := res.status
	switch {
	case s >= 200 && s < 300:
		e.count(ctx, "success", s)
		e.inc.ok(r)
		return accepted, nil
	case isDestinationRefusal(res):
		// Not the rows' fault: wait it out with back-pressure; the records stay queued.
		outcome := "refused"
		if s == http.StatusUnauthorized {
			outcome = "unauthorized"
		}
		e.count(ctx, outcome, s)
		err := e.describe(r, res)
		e.inc.fail(r, err)
		return retryLater, err
	case s == http.StatusRequestEntityTooLarge:
		e.count(ctx, "split", s)
		return oneOrSplit(n, tooLarge), nil
	case s == http.StatusBadRequest:
		// A row refused: bisect until the refused rows stand alone, so a row the service would
		// accept is never dropped. Each bad row costs at most 2·⌈log2 n⌉ extra requests.
		e.count(ctx, "bad_request", s)
		return oneOrSplit(n, refusedRow), nil
	case s == http.StatusTooManyRequests:
		e.count(ctx, "throttled", s)
		e.tb.AzureMonitorDcrThrottles.Add(ctx, 1)
		return retryLater, withRetryAfter(fmt.Errorf("throttled by the Logs Ingestion API (429 %s) for DCR %s", res.code, r.dcr), res)
	case s == http.StatusRequestTimeout || s >= 500:
		e.count(ctx, "retryable", s)
		return retryLater, withRetryAfter(fmt.Errorf("the Logs Ingestion API answered %d %s: %s", s, res.code, res.msg), res)
	default:
		// Another 4xx says nothing about the rows: retry with back-off rather than drop.
		e.count(ctx, "refused", s)
		err := e.describe(r, res)
		e.inc.fail(r, err)
		return retryLater, err
	}
}

// oneOrSplit: a refusal of a single row drops it (as v); of several rows, bisects them.
func oneOrSplit(n int, v verdict) verdict {
	if n == 1 {
		return v
	}
	return splitRows
}

// withRetryAfter makes err a throttle retry when the service said how long to wait.
func withRetryAfter(err error, res postResult) error {
	if d, ok := retryAfter(res.header); ok {
		return exporterhelper.NewThrottleRetry(err, d)
	}
	return err
}

func (e *dcrExporter) dropRefused(ctx context.Context, x rowRef, r route, res postResult) {
	e.co.settle([]rowRef{x})
	e.tb.AzureMonitorDcrRecordsDroppedBad.Add(ctx, 1)
	e.logger.Error("Dropping a log record refused by the Logs Ingestion API",
		zap.String("error_code", res.code), zap.String("error_message", res.msg),
		zap.String("request_id", res.requestID),
		zap.String("dcr_immutable_id", r.dcr), zap.String("stream_name", r.stream))
}

func (e *dcrExporter) rejectTooLarge(x rowRef, r route, size int) {
	e.co.settle([]rowRef{x})
	e.tb.AzureMonitorDcrRecordsTooLarge.Add(context.Background(), 1)
	e.logger.Warn("Dropping a log record that does not fit in one request on its own",
		zap.Int("json_bytes", size), zap.Int("max_request_bytes", e.cfg.MaxRequestBytes),
		zap.Int("max_uncompressed_bytes", e.cfg.MaxUncompressedBytes),
		zap.String("dcr_immutable_id", r.dcr), zap.String("stream_name", r.stream))
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
