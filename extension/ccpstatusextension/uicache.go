package ccpstatusextension

import (
	"sync"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
)

// pollingConfigSource is the Source of a connector configured inline (no connectorUiConfig).
const pollingConfigSource = "polling_config"

// uiCache reads each definition file's connectorUiConfig once per (file, poller).
type uiCache struct {
	mu      sync.Mutex
	entries map[[2]string]uiEntry
}

type uiEntry struct {
	ui connectorfile.UI
	ok bool
}

func newUICache() *uiCache { return &uiCache{entries: map[[2]string]uiEntry{}} }

// get returns the UI config of a poller; ok is false for inline polling_config, a file without
// connectorUiConfig or a file that cannot be read (the page then shows the connector's name).
// The poller's Kind is filled whenever the file names it.
func (c *uiCache) get(source, poller string) (connectorfile.UI, bool) {
	if source == "" || source == pollingConfigSource {
		return connectorfile.UI{}, false
	}
	key := [2]string{source, poller}
	c.mu.Lock()
	e, hit := c.entries[key]
	c.mu.Unlock()
	if hit {
		return e.ui, e.ok
	}
	ui, ok, err := connectorfile.LoadUI(source, poller)
	e = uiEntry{ui: ui, ok: ok && err == nil} // ui.Kind is kept even without a connectorUiConfig
	c.mu.Lock()
	c.entries[key] = e
	c.mu.Unlock()
	return e.ui, e.ok
}
