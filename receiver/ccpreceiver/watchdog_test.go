package ccpreceiver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver/internal/metadata"
)

// blockingSink blocks every push until released (a consumer stuck forever).
type blockingSink struct {
	release chan struct{}
	once    sync.Once
}

func (*blockingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (b *blockingSink) ConsumeLogs(ctx context.Context, _ plog.Logs) error {
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (b *blockingSink) open() { b.once.Do(func() { close(b.release) }) }

// statusRecorder is a host that keeps the component status events reported to it.
type statusRecorder struct {
	component.Host
	mu     sync.Mutex
	events []componentstatus.Status
}

func (h *statusRecorder) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev.Status())
}

func (h *statusRecorder) saw(s componentstatus.Status) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if e == s {
			return true
		}
	}
	return false
}

func gauge(t *testing.T, tel *componenttest.Telemetry, name string) int64 {
	m, err := tel.GetMetric(name)
	if err != nil {
		return -1
	}
	g, ok := m.Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%s is %T", name, m.Data)
	return g.DataPoints[len(g.DataPoints)-1].Value
}

// TestWatchdogDetectsAConsumerThatNeverReturns: the poll loop is stuck inside ConsumeLogs; the
// watchdog, running beside it, marks the connector stalled (status, metric, registry) and
// clears it once windows complete again.
func TestWatchdogDetectsAConsumerThatNeverReturns(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	_, url := vendor(t, vendorapi.Config{Events: 50, Span: time.Hour, End: end, PageSize: 100})
	cfg := testConfig(url)
	cfg.StallAfter = time.Second
	tel := componenttest.NewTelemetry()
	defer func() { _ = tel.Shutdown(context.Background()) }()
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := &blockingSink{release: make(chan struct{})}
	r, err := newReceiver(set, cfg, sink)
	require.NoError(t, err)
	r.reg = connstate.NewRegistry()
	host := &statusRecorder{Host: componenttest.NewNopHost()}
	require.NoError(t, r.Start(context.Background(), host))
	defer func() { sink.open(); require.NoError(t, r.Shutdown(context.Background())) }()

	status := func() string { return r.conn.Snapshot(time.Now()).Status }
	waitFor(t, "the stall", func() bool { return status() == connstate.StatusStalled })
	assert.True(t, host.saw(componentstatus.StatusRecoverableError))
	assert.Equal(t, int64(1), gauge(t, tel, "otelcol_ccp_stalled"))
	assert.Contains(t, r.conn.Snapshot(time.Now()).Reason, "no window completed")

	sink.open()
	waitFor(t, "the recovery", func() bool { return status() == connstate.StatusConnected })
	waitFor(t, "the gauge to clear", func() bool { return gauge(t, tel, "otelcol_ccp_stalled") == 0 })
	assert.True(t, host.saw(componentstatus.StatusOK))
}
