package ccpstatusextension

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

// A restart is a new process: a new registry, a new extension and a new receiver registration,
// over the same storage directory. Counts and history come back; nothing is counted twice.
func TestHistoryAndCountsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	id := connstate.Identity{ID: "ccp/okta", Name: "okta", Source: "polling_config", DataType: "Okta_CL"}
	storageID := storagetest.NewStorageID("file_storage")
	withStorage := func(c *Config) { c.Storage = &storageID; c.SaveInterval = time.Hour }
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)

	reg1 := connstate.NewRegistry()
	host1 := storagetest.NewStorageHost().WithFileBackedStorageExtension("file_storage", dir)
	ext1, _ := startExt(t, reg1, host1, withStorage)
	c1 := reg1.Register(id)
	window(c1, start, 30, "")
	window(c1, start.Add(time.Minute), 0, "401 refused ***")
	window(c1, start.Add(time.Minute), 12, "")
	reg1.Unregister(c1) // receivers stop before extensions
	require.NoError(t, ext1.Shutdown(context.Background()))

	reg2 := connstate.NewRegistry()
	host2 := storagetest.NewStorageHost().WithFileBackedStorageExtension("file_storage", dir)
	_, base := startExt(t, reg2, host2, withStorage)
	c2 := reg2.Register(id)
	window(c2, start.Add(2*time.Minute), 5, "")

	s := c2.Snapshot(time.Now())
	require.Len(t, s.History, 4)
	assert.Equal(t, []int{5, 12, 0, 30}, []int{s.History[0].Records, s.History[1].Records, s.History[2].Records, s.History[3].Records})
	assert.Equal(t, "failure", s.History[2].Outcome)
	var total int64
	for _, h := range s.Hourly {
		total += h.Events
	}
	assert.EqualValues(t, 47, total)

	a := get(t, base+"/api/v1/connectors/ccp%2Fokta")
	require.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, a.body, `"events_last_14_days": 47`)
}

// The periodic save keeps a crash (no shutdown) to at most one interval of loss.
func TestPeriodicSave(t *testing.T) {
	dir := t.TempDir()
	storageID := storagetest.NewStorageID("file_storage")
	reg := connstate.NewRegistry()
	host := storagetest.NewStorageHost().WithFileBackedStorageExtension("file_storage", dir)
	ext, _ := startExt(t, reg, host, func(c *Config) { c.Storage = &storageID; c.SaveInterval = time.Second })
	c := reg.Register(connstate.Identity{ID: "ccp/x", Source: "polling_config"})
	window(c, time.Now().Add(-time.Hour), 7, "")

	client := ext.saver.client
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := client.Get(context.Background(), storageKey)
		require.NoError(t, err)
		if raw != nil {
			assert.Contains(t, string(raw), `"ccp/x"`)
			break
		}
		require.True(t, time.Now().Before(deadline), "nothing saved within 10s with save_interval 1s")
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStorageMisconfigured(t *testing.T) {
	missing := storagetest.NewStorageID("nope")
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Storage = &missing
	e := newExtension(cfg, extSettings(), connstate.NewRegistry())
	err := e.Start(context.Background(), storagetest.NewStorageHost())
	assert.ErrorContains(t, err, "not found")
	require.NoError(t, e.Shutdown(context.Background()))

	notStorage := storagetest.NewNonStorageID("plain")
	cfg.Storage = &notStorage
	e = newExtension(cfg, extSettings(), connstate.NewRegistry())
	err = e.Start(context.Background(), storagetest.NewStorageHost().WithNonStorageExtension("plain"))
	assert.ErrorContains(t, err, "not a storage extension")
	require.NoError(t, e.Shutdown(context.Background()))
}
