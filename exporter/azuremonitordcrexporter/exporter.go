package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter/internal/metadata"
)

const (
	maxErrorBody  = 64 << 10
	maxRetryAfter = 5 * time.Minute
)

type dcrExporter struct {
	cfg    *Config
	set    exporter.Settings
	logger *zap.Logger
	tb     *metadata.TelemetryBuilder
	inc    *incidents
	mapper mapper
	ua     string

	client *http.Client
	tokens *tokenSource

	co      *coalescer
	packers sync.Pool
	rows    sync.Pool
	chunks  sync.Pool
	reqs    sync.Pool // *openReq

	urlMu sync.Mutex
	urls  map[route]string

	// For benchmarks: stdlibGzip selects compress/gzip; testPost replaces the HTTP round trip.
	stdlibGzip bool
	testPost   func(body []byte, rawLen int) postResult
}

func newExporter(cfg *Config, set exporter.Settings) (*dcrExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	e := &dcrExporter{
		cfg:    cfg,
		set:    set,
		logger: set.Logger,
		tb:     tb,
		inc:    newIncidents(set.Logger),
		mapper: newMapper(cfg),
		ua:     fmt.Sprintf("%s/%s (azure_monitor_dcr exporter)", set.BuildInfo.Command, set.BuildInfo.Version),
		urls:   map[route]string{},
		co:     newCoalescer(cfg.FlushTimeout),
	}
	e.rows.New = func() any { b := make([]byte, 0, 4096); return &b }
	e.chunks.New = func() any { return &chunk{} }
	return e, nil
}

func (e *dcrExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), e.set.TelemetrySettings)
	if err != nil {
		return err
	}
	e.client = client
	e.inc.setHost(host)
	authType := "authenticator"
	if e.cfg.ClientConfig.Auth.Get() == nil {
		authType = e.cfg.Auth.Type
		cred, scope, err := newCredential(e.cfg.Auth, client)
		if err != nil {
			return err
		}
		e.tokens = &tokenSource{cred: cred, scope: scope, onAcquire: func() {
			e.tb.AzureMonitorDcrTokenRefreshes.Add(context.Background(), 1)
		}}
	}
	e.logger.Info("Azure Monitor Logs Ingestion exporter starting",
		zap.String("endpoint", e.cfg.ClientConfig.Endpoint),
		zap.String("dcr_immutable_id", e.cfg.DCRImmutableID),
		zap.String("stream_name", e.cfg.StreamName),
		zap.String("auth", authType))
	if e.cfg.StartupCheck {
		e.startupCheck(ctx)
	}
	return nil
}

func (e *dcrExporter) shutdown(context.Context) error {
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	e.tb.Shutdown()
	return nil
}

// startupCheck posts an empty array to the default route. It never fails the start: a running
// collector waits out a refusal (a role assignment still propagating, a DCR being redeployed)
// instead of exiting, so a refusal is an error log naming the fix plus a RecoverableError
// status, and the records are retried until the destination accepts them. `ccp validate`-style
// tooling is where fail-fast belongs.
func (e *dcrExporter) startupCheck(ctx context.Context) {
	r := route{e.cfg.DCRImmutableID, e.cfg.StreamName}
	p, err := e.getPacker()
	if err != nil {
		e.logger.Error("Startup check could not run", zap.Error(err))
		return
	}
	defer e.putPacker(p)
	body, err := p.finish()
	if err != nil {
		e.logger.Error("Startup check could not run", zap.Error(err))
		return
	}
	res := e.post(ctx, r, body, p.raw)
	switch {
	case res.err != nil && res.refused:
		e.inc.probeFailed(r, fmt.Errorf("startup check: %w", res.err))
	case res.err != nil:
		e.logger.Warn("Startup check could not reach the Logs Ingestion API; continuing", zap.Error(res.err))
	case res.status >= 200 && res.status < 300:
		e.logger.Info("Startup check passed: endpoint, credentials, role assignment, DCR and stream are valid")
	case isDestinationRefusal(res):
		e.inc.probeFailed(r, fmt.Errorf("startup check: %w", e.describe(r, res)))
	default:
		e.logger.Warn("Startup check got a transient answer; continuing",
			zap.Int("status", res.status), zap.String("error_code", res.code))
	}
}

func (e *dcrExporter) getPacker() (*packer, error) {
	if p, ok := e.packers.Get().(*packer); ok {
		p.reset()
		return p, nil
	}
	return newPacker(e.cfg.MaxRequestBytes, e.cfg.MaxUncompressedBytes, e.cfg.CompressionLevel, e.cfg.AuxiliaryTableMode, e.stdlibGzip)
}

func (e *dcrExporter) putPacker(p *packer) { e.packers.Put(p) }
