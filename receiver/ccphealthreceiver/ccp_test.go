package ccphealthreceiver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver"
)

// keyRotation serves the vendor emulator with key "k" for the first `good` requests, then a
// vendor whose key was rotated: every later request is refused with 401.
type keyRotation struct {
	mu      sync.Mutex
	good    int
	ok      http.Handler
	rotated http.Handler
}

func (k *keyRotation) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	h := k.ok
	if k.good <= 0 {
		h = k.rotated
	}
	k.good--
	k.mu.Unlock()
	h.ServeHTTP(w, r)
}

func vendorConfig(key string, end time.Time) vendorapi.Config {
	return vendorapi.Config{Events: 120, Span: 3 * time.Hour, End: end, PageSize: 100,
		Auth: vendorapi.AuthAPIKey, APIKey: key, APIKeyHeader: "X-Api-Key", Paging: vendorapi.PagingNextPageToken}
}

// TestHealthOfARealCcpReceiver runs a ccp receiver (its own factory) against the vendor
// emulator and the health receiver beside it in the same process, through the process-wide
// registry: a Success record per completed window, then, once the vendor refuses the key, a
// failure summary per failed attempt and the status changes Connected → Degraded → Failed.
func TestHealthOfARealCcpReceiver(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute)
	rot := &keyRotation{good: 3, ok: vendorapi.New(vendorConfig("k", end)), rotated: vendorapi.New(vendorConfig("rotated", end))}
	ts := httptest.NewServer(rot)
	t.Cleanup(ts.Close)

	health := new(consumertest.LogsSink)
	hf := NewFactory()
	hr, err := hf.CreateLogs(context.Background(), receivertest.NewNopSettings(hf.Type()), hf.CreateDefaultConfig(), health)
	require.NoError(t, err)
	require.NoError(t, hr.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, hr.Shutdown(context.Background())) })

	cf := ccpreceiver.NewFactory()
	cfg := cf.CreateDefaultConfig().(*ccpreceiver.Config)
	cfg.Name = "VendorEvents"
	cfg.InitialLookback = 3 * time.Hour
	cfg.MaxRetryBackoff = 20 * time.Millisecond
	cfg.PollingConfig = map[string]any{
		"dcrConfig": map[string]any{"streamName": "Custom-Vendor_CL", "dataCollectionRuleImmutableId": "dcr-1"},
		"dataType":  "Vendor_CL",
		"auth":      map[string]any{"type": "APIKey", "ApiKey": "k", "ApiKeyName": "X-Api-Key"},
		"request": map[string]any{"apiEndpoint": ts.URL + "/api/v1/events", "queryWindowInMin": 30,
			"startTimeAttributeName": "since", "endTimeAttributeName": "until"},
		"paging": map[string]any{"pagingType": "NextPageToken", "nextPageTokenJsonPath": "$.next_page_token",
			"nextPageParaName": "page_token", "pageSizeParaName": "limit", "pageSize": 100},
		"response": map[string]any{"eventsJsonPaths": []any{"$.data"}},
	}
	require.NoError(t, cfg.Validate())
	events := new(consumertest.LogsSink)
	set := receivertest.NewNopSettings(cf.Type())
	set.ID = component.NewIDWithName(cf.Type(), "vendor")
	cr, err := cf.CreateLogs(context.Background(), set, cfg, events)
	require.NoError(t, err)
	require.NoError(t, cr.Start(context.Background(), componenttest.NewNopHost()))

	failedChange := func() bool {
		for _, b := range bodies(health) {
			if b["OperationName"] == OperationStatusChange && b["Reason"] == "Failed" {
				return true
			}
		}
		return false
	}
	waitFor(t, "the change to Failed", failedChange)
	require.NoError(t, cr.Shutdown(context.Background()))

	var successes, failures int
	var recordsReported int64
	var changes []string
	for _, b := range bodies(health) {
		assert.Equal(t, "VendorEvents", b["SentinelResourceName"])
		assert.Equal(t, "ccp/vendor", b["SentinelResourceId"])
		assert.Equal(t, "Data connector", b["SentinelResourceType"])
		ext := b["ExtendedProperties"].(map[string]any)
		assert.Equal(t, "Custom-Vendor_CL", ext["StreamName"])
		switch b["OperationName"] {
		case OperationFetchSummary:
			require.Zero(t, failures, "no success after the key was refused")
			assert.Equal(t, StatusSuccess, b["Status"])
			recordsReported += ext["TotalRecordCount"].(int64)
			successes++
		case OperationFailureSummary:
			assert.Equal(t, StatusFailure, b["Status"])
			assert.Equal(t, "Unauthorized", b["Reason"])
			fs := ext["FailureSummary"].([]any)[0].(map[string]any)
			assert.Equal(t, int64(401), fs["StatusCode"])
			failures++
		case OperationStatusChange:
			changes = append(changes, ext["PreviousStatus"].(string)+"→"+ext["CurrentStatus"].(string)+":"+b["Status"].(string))
		}
	}
	assert.Equal(t, 3, successes, "one Success record per completed window")
	assert.Equal(t, int64(events.LogRecordCount()), recordsReported, "TotalRecordCount adds up to the events delivered")
	assert.Positive(t, recordsReported)
	assert.GreaterOrEqual(t, failures, 3)
	assert.Equal(t, "Connected→Degraded:Warning,Degraded→Failed:Failure", strings.Join(changes, ","))
}
