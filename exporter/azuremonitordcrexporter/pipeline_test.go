package azuremonitordcrexporter

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
)

// waitRows polls until the emulator holds n rows or the deadline passes (bounded).
func waitRows(t *testing.T, emu *logsingestion.Emulator, n int, d time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool { return emu.RowCount() >= n }, d, 20*time.Millisecond,
		"want %d rows, have %d", n, emu.RowCount())
}

func TestPipelineThrottledHonoursRetryAfter(t *testing.T) {
	emu := startEmulator(t, nil)
	cfg := emulatorConfig(emu)
	cfg.QueueConfig.GetOrInsertDefault().WaitForResult = true
	exp, tel := startFull(t, cfg, nil)
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()

	emu.SetFaults(logsingestion.Faults{Throttle429Next: 2, RetryAfter: 700 * time.Millisecond})
	start := time.Now()
	require.NoError(t, exp.ConsumeLogs(context.Background(), genLogs(500, 800, "h")))
	elapsed := time.Since(start)
	assert.Equal(t, 500, emu.RowCount())
	assert.Equal(t, 2, emu.Stats().RequestsByStatus[429])
	// Two Retry-After waits of 700 ms (the exporter's initial backoff is 50 ms).
	assert.GreaterOrEqual(t, elapsed, 1400*time.Millisecond)
	assertCounter(t, tel, "otelcol_azure_monitor_dcr_throttles", 2)
}

func TestPipelineServiceUnavailableAndDroppedConnections(t *testing.T) {
	emu := startEmulator(t, nil)
	cfg := emulatorConfig(emu)
	cfg.MaxRequestBytes = 32 << 10
	cfg.QueueConfig.GetOrInsertDefault().WaitForResult = true
	// The product default: retry until stored. A 5 s budget was too short for ~35 requests at a
	// 30 % failure rate on a loaded machine (the test then failed on a give-up, not a loss).
	cfg.BackOffConfig.MaxElapsedTime = 0
	exp, _ := startFull(t, cfg, nil)
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()

	emu.SetFaults(logsingestion.Faults{Fail503Rate: 0.3, DropConnRate: 0.1, Seed: 42, RetryAfter: 100 * time.Millisecond})
	const n = 1000
	require.NoError(t, exp.ConsumeLogs(context.Background(), genLogs(n, 1024, "f")))
	st := emu.Stats()
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, n, "nothing lost")
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	// Duplicates can only come from requests whose rows were stored but whose answer was lost.
	assert.LessOrEqual(t, dups, st.RowsInDroppedConns)
	assert.Equal(t, n+dups, emu.RowCount())
	assert.Positive(t, st.RequestsByStatus[503])
	t.Logf("503s=%d dropped connections=%d duplicates=%d", st.RequestsByStatus[503], st.DroppedConnections, dups)
}

type hostWithExtensions struct {
	component.Host
	ext map[component.ID]component.Component
}

func (h hostWithExtensions) GetExtensions() map[component.ID]component.Component { return h.ext }

func TestPersistentQueueSurvivesRestart(t *testing.T) {
	emu := startEmulator(t, nil)
	dir := t.TempDir()
	storageID := component.MustNewIDWithName("file_storage", "queue")
	newHost := func() (component.Host, func()) {
		f := filestorage.NewFactory()
		scfg := f.CreateDefaultConfig().(*filestorage.Config)
		scfg.Directory = dir
		ext, err := f.Create(context.Background(), extension.Settings{
			ID: storageID, TelemetrySettings: componenttest.NewNopTelemetrySettings(), BuildInfo: component.NewDefaultBuildInfo(),
		}, scfg)
		require.NoError(t, err)
		host := hostWithExtensions{Host: componenttest.NewNopHost(), ext: map[component.ID]component.Component{storageID: ext}}
		require.NoError(t, ext.Start(context.Background(), host))
		return host, func() { require.NoError(t, ext.Shutdown(context.Background())) }
	}
	cfg := emulatorConfig(emu)
	cfg.StartupCheck = false
	q := cfg.QueueConfig.GetOrInsertDefault()
	q.StorageID = &storageID
	q.NumConsumers = 1
	cfg.BackOffConfig.MaxElapsedTime = 0 // retry until shutdown

	// Run 1: the service is down; everything stays queued on disk.
	emu.SetFaults(logsingestion.Faults{Fail503Rate: 1})
	host, stopStorage := newHost()
	exp, _ := startFull(t, cfg, host)
	for i := 0; i < 5; i++ {
		require.NoError(t, exp.ConsumeLogs(context.Background(), genLogs(200, 500, "q"+string(rune('a'+i)))))
	}
	require.Eventually(t, func() bool { return emu.Stats().RequestsByStatus[503] > 0 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, exp.Shutdown(context.Background()))
	stopStorage()
	assert.Zero(t, emu.RowCount())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	t.Logf("queue files: %v", filepath.Join(dir, entries[0].Name()))

	// Run 2: a new exporter on the same storage delivers the backlog.
	emu.SetFaults(logsingestion.Faults{})
	host, stopStorage = newHost()
	defer stopStorage()
	exp, _ = startFull(t, cfg, host)
	waitRows(t, emu, 1000, 30*time.Second)
	require.NoError(t, exp.Shutdown(context.Background()))
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, 1000)
	for id, n := range got {
		require.Equal(t, 1, n, id)
	}
}
