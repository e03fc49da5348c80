package azuremonitordcrexporter

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter/internal/metadata"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
)

const (
	testDCR    = "dcr-0123456789abcdef0123456789abcdef"
	testStream = "Custom-Test_CL"
	otherDCR   = "dcr-fedcba9876543210fedcba9876543210"
	otherStrm  = "Custom-Other_CL"
)

func startEmulator(t testing.TB, mod func(*logsingestion.Options)) *logsingestion.Emulator {
	t.Helper()
	o := logsingestion.Options{
		DCRs: map[string][]string{
			testDCR:  {testStream, otherStrm},
			otherDCR: {otherStrm},
		},
		TenantID:     "tenant-1",
		ClientID:     "client-1",
		ClientSecret: "secret-1",
	}
	if mod != nil {
		mod(&o)
	}
	emu, err := logsingestion.Start(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Close() })
	return emu
}

// emulatorConfig is the configuration a collector would use against emu (client_secret).
func emulatorConfig(emu *logsingestion.Emulator) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = emu.IngestURL()
	cfg.ClientConfig.TLS.CAFile = emu.CAFile()
	cfg.DCRImmutableID = testDCR
	cfg.StreamName = testStream
	cfg.Auth = AuthConfig{Type: AuthClientSecret, TenantID: "tenant-1", ClientID: "client-1",
		ClientSecret: "secret-1", AuthorityHost: emu.AuthorityHost()}
	cfg.BackOffConfig.InitialInterval = 50 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 500 * time.Millisecond
	cfg.BackOffConfig.MaxElapsedTime = 5 * time.Second
	return cfg
}

type testExporter struct {
	*dcrExporter
	tel    *componenttest.Telemetry
	status *statusHost
	logs   *observer.ObservedLogs
}

// statusHost records the component status events reported to it.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

// last is the latest status event (nil when none was reported).
func (h *statusHost) last() *componentstatus.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return nil
	}
	return h.events[len(h.events)-1]
}

// startRaw builds and starts the exporter core without exporterhelper, to call pushLogs directly.
func startRaw(t testing.TB, cfg *Config) (*testExporter, error) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	core, logs := observer.New(zap.DebugLevel)
	set.Logger = zap.New(core)
	e, err := newExporter(cfg, set)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.shutdown(context.Background()) })
	host := &statusHost{Host: componenttest.NewNopHost()}
	if err := e.start(context.Background(), host); err != nil {
		return nil, err
	}
	return &testExporter{dcrExporter: e, tel: tel, status: host, logs: logs}, nil
}

func mustStartRaw(t testing.TB, cfg *Config) *testExporter {
	t.Helper()
	e, err := startRaw(t, cfg)
	require.NoError(t, err)
	return e
}

// startFull builds the exporter through the factory (exporterhelper queue and retry).
func startFull(t testing.TB, cfg *Config, host component.Host) (exporter.Logs, *componenttest.Telemetry) {
	t.Helper()
	return startFullID(t, cfg, host, component.NewIDWithName(metadata.Type, "test"))
}

func startFullID(t testing.TB, cfg *Config, host component.Host, id component.ID) (exporter.Logs, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.ID = id
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, exp.Start(context.Background(), host))
	return exp, tel
}

var words = func() []string {
	r := mrand.New(mrand.NewPCG(7, 7))
	out := make([]string, 2000)
	for i := range out {
		n := 3 + r.IntN(8)
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('a' + r.IntN(26))
		}
		out[i] = string(b)
	}
	return out
}()

// genLogs makes n records with map bodies of about size bytes of JSON each, ids prefix-0..n-1.
func genLogs(n, size int, prefix string) plog.Logs {
	r := mrand.New(mrand.NewPCG(uint64(n), uint64(size)))
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "test-host")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	lrs.EnsureCapacity(n)
	base := time.Now().Add(-time.Minute)
	var sb strings.Builder
	for i := 0; i < n; i++ {
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * time.Millisecond)))
		m := lr.Body().SetEmptyMap()
		m.PutStr("id", fmt.Sprintf("%s-%d", prefix, i))
		m.PutStr("Computer", fmt.Sprintf("host-%03d.contoso.local", r.IntN(200)))
		m.PutInt("EventID", int64(4600+r.IntN(200)))
		m.PutStr("Level", []string{"Information", "Warning", "Error"}[r.IntN(3)])
		m.PutStr("SourceIP", fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), r.IntN(256)))
		m.PutStr("UserName", fmt.Sprintf("user%04d@contoso.com", r.IntN(5000)))
		m.PutDouble("Duration", r.Float64()*1000)
		props := m.PutEmptyMap("Properties")
		props.PutStr("session", fmt.Sprintf("%016x", r.Uint64()))
		props.PutBool("elevated", r.IntN(2) == 0)
		sb.Reset()
		for sb.Len() < size-330 {
			sb.WriteString(words[r.IntN(len(words))])
			sb.WriteByte(' ')
		}
		m.PutStr("Message", sb.String())
	}
	return ld
}

func ids(rows []map[string]any) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		if s, ok := r["id"].(string); ok {
			out[s]++
		}
	}
	return out
}

func jsonNumber(s string) json.Number { return json.Number(s) }

func assertCounter(t *testing.T, tel *componenttest.Telemetry, name string, want int64) {
	t.Helper()
	m, err := tel.GetMetric(name)
	require.NoError(t, err, name)
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is %T", name, m.Data)
	var got int64
	for _, dp := range sum.DataPoints {
		got += dp.Value
	}
	assert.Equal(t, want, got, name)
}
