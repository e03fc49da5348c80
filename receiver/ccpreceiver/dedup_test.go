package ccpreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// TestDedupReplayedWindowDeliversOnce: the same window is polled three times (the checkpoint
// is rewound before each restart, as a replayed or overlapping window would be); with dedup
// each event reaches the pipeline once, across the restarts.
func TestDedupReplayedWindowDeliversOnce(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	_, url := vendor(t, vendorapi.Config{Events: 250, Span: time.Hour, End: end, PageSize: 100})
	host := storagetest.NewStorageHost().WithFileBackedStorageExtension("file_storage", t.TempDir())
	cfg := testConfig(url)
	id := storagetest.NewStorageID("file_storage")
	cfg.Storage = &id
	cfg.Dedup = &DedupConfig{Key: "$.id", Retention: 24 * time.Hour}
	require.NoError(t, cfg.Validate())

	s := &sink{ids: map[string]int{}}
	dropped := int64(0)
	for range 3 {
		saveCheckpoint(t, host, cfg, end.Add(-2*time.Hour)) // replay the whole span
		_, before := s.count()
		r := startObserved(t, cfg, s, host)
		// Every event of the span is either delivered or dropped as a duplicate before the
		// receiver stops (counting served events would race with the last page's delivery).
		handled := func() int64 {
			_, total := s.count()
			return int64(total-before) + max(counter(t, r.tel, "otelcol_ccp_duplicates_dropped"), 0)
		}
		waitFor(t, "the span handled again", func() bool { return handled() >= 250 })
		require.NoError(t, r.Shutdown(context.Background()))
		dropped += max(counter(t, r.tel, "otelcol_ccp_duplicates_dropped"), 0)
	}
	unique, total := s.count()
	assert.Equal(t, 250, unique)
	assert.Equal(t, 250, total, "each event delivered once")
	assert.Equal(t, int64(500), dropped, "the two replays were dropped and counted")
}

func TestDedupConfigErrors(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Dedup = &DedupConfig{}
	assert.ErrorContains(t, cfg.Validate(), "dedup.key: missing")
	cfg.Dedup = &DedupConfig{Key: "$.["}
	assert.ErrorContains(t, cfg.Validate(), "dedup.key")

	conf := confmap.NewFromStringMap(map[string]any{"dedup": map[string]any{"key": "hash"}})
	cfg = createDefaultConfig().(*Config)
	require.NoError(t, conf.Unmarshal(cfg))
	require.NotNil(t, cfg.Dedup)
	assert.Equal(t, 24*time.Hour, cfg.Dedup.options().Retention, "retention defaults to 24h")
}
