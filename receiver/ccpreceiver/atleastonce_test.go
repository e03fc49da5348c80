package ccpreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

const (
	aloDCR    = "dcr-0123456789abcdef0123456789abcdef"
	aloStream = "Custom-Alo_CL"
)

// defaultExporter is the README's minimal azure_monitor_dcr exporter (endpoint, DCR, stream,
// auth) against emu. Only the retry intervals are shortened, to keep the test short; the
// queue, the wait for the result and the unbounded retry are the defaults under test.
func defaultExporter(t *testing.T, emu *logsingestion.Emulator) exporter.Logs {
	t.Helper()
	f := azuremonitordcrexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*azuremonitordcrexporter.Config)
	cfg.ClientConfig.Endpoint = emu.IngestURL()
	cfg.ClientConfig.TLS.CAFile = emu.CAFile()
	cfg.DCRImmutableID, cfg.StreamName = aloDCR, aloStream
	cfg.Auth = azuremonitordcrexporter.AuthConfig{Type: azuremonitordcrexporter.AuthClientSecret,
		TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1", AuthorityHost: emu.AuthorityHost()}
	cfg.BackOffConfig.InitialInterval = 50 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 200 * time.Millisecond
	require.Zero(t, cfg.BackOffConfig.MaxElapsedTime, "the default retries without a deadline")
	set := exportertest.NewNopSettings(f.Type())
	exp, err := f.CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	return exp
}

// TestDefaultsLoseNothingThroughAnAzureIncident: with the minimal configuration (receiver with
// file_storage, exporter with its defaults), a 403 from Logs Ingestion pauses polling instead
// of checkpointing past records that were never stored; a restart after the incident delivers
// every event.
func TestDefaultsLoseNothingThroughAnAzureIncident(t *testing.T) {
	emu, err := logsingestion.Start(logsingestion.Options{
		DCRs:     map[string][]string{aloDCR: {aloStream}},
		TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1",
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Close() })
	emu.SetFaults(logsingestion.Faults{Forbidden: true})

	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	srv, url := vendor(t, vendorapi.Config{Events: 300, Span: time.Hour, End: end, PageSize: 100})
	host := storagetest.NewStorageHost().WithFileBackedStorageExtension("file_storage", t.TempDir())
	cfg := testConfig(url)
	delete(cfg.PollingConfig, "dcrConfig") // records go to the exporter's DCR and stream
	id := storagetest.NewStorageID("file_storage")
	cfg.Storage = &id

	exp := defaultExporter(t, emu)
	r := startReceiver(t, cfg, exp, host)
	waitFor(t, "the exporter to meet the 403s", func() bool { return emu.Stats().RequestsByStatus[403] >= 5 })
	assert.Zero(t, emu.RowCount())
	// The collector stops (or dies) in the middle of the incident.
	require.NoError(t, r.Shutdown(context.Background()))
	require.NoError(t, exp.Shutdown(context.Background()))

	// The incident ends; the collector starts again on the same storage.
	emu.SetFaults(logsingestion.Faults{})
	exp = defaultExporter(t, emu)
	r = startReceiver(t, cfg, exp, host)
	waitFor(t, "every event stored", func() bool { return len(storedIDs(emu)) == 300 })
	require.NoError(t, r.Shutdown(context.Background()))
	require.NoError(t, exp.Shutdown(context.Background()))
	stored := storedIDs(emu)
	for i := 0; i < 300; i++ {
		assert.Positive(t, stored[srv.EventID(i)], "event %s lost", srv.EventID(i))
	}
}

func storedIDs(emu *logsingestion.Emulator) map[string]int {
	out := map[string]int{}
	for _, row := range emu.Rows(aloDCR, aloStream) {
		if s, ok := row["id"].(string); ok {
			out[s]++
		}
	}
	return out
}
