package ccpstatusextension

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelcol-ccp/otelcol-ccp/extension/ccpstatusextension/internal/metadata"
	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

// startExt starts the extension on a free 127.0.0.1 port over reg and returns its base URL.
func startExt(t *testing.T, reg *connstate.Registry, host component.Host, mod func(*Config)) (*statusExtension, string) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	if mod != nil {
		mod(cfg)
	}
	require.NoError(t, cfg.Validate())
	if host == nil {
		host = componenttest.NewNopHost()
	}
	e := newExtension(cfg, extSettings(), reg)
	require.NoError(t, e.Start(context.Background(), host))
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return e, "http://" + e.ln.Addr().String()
}

// extSettings names the extension like a config would (storage clients are keyed by it).
func extSettings() extension.Settings {
	set := extensiontest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	return set
}

type answer struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, url string) answer {
	t.Helper()
	return do(t, http.MethodGet, url)
}

func do(t *testing.T, method, url string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// window runs one attempt of c: records received, then success or failure.
func window(c *connstate.Connector, start time.Time, records int, failure string) {
	c.Begin(start, start.Add(time.Minute))
	c.Request(false)
	if failure != "" {
		c.Failed(failure, 401)
		return
	}
	c.Page()
	c.Received(records, time.Now())
	c.Succeeded()
}
