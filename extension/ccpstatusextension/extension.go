package ccpstatusextension

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

type statusExtension struct {
	cfg *Config
	set extension.Settings
	log *zap.Logger
	reg *connstate.Registry
	ui  *uiCache
	now func() time.Time

	server *http.Server
	ln     net.Listener
	saver  *saver // nil without storage
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newExtension(cfg *Config, set extension.Settings, reg *connstate.Registry) *statusExtension {
	return &statusExtension{cfg: cfg, set: set, log: set.Logger, reg: reg, ui: newUICache(), now: time.Now}
}

// Start restores persisted history and counts (extensions start before receivers, so the
// connectors import them when they register), then serves the pages.
func (e *statusExtension) Start(ctx context.Context, host component.Host) error {
	runCtx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	if e.cfg.Storage != nil {
		s, err := newSaver(ctx, host, *e.cfg.Storage, e.set.ID, e.reg, e.log)
		if err != nil {
			cancel()
			return err
		}
		e.saver = s
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			s.run(runCtx, e.cfg.SaveInterval)
		}()
	}
	ln, err := e.cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		e.stopBackground(ctx)
		return err
	}
	e.ln = ln
	e.server, err = e.cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), e.set.TelemetrySettings, e.handler())
	if err != nil {
		_ = ln.Close()
		e.stopBackground(ctx)
		return err
	}
	e.log.Info("ccp_status: connector page listening", zap.String("address", ln.Addr().String()))
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	return nil
}

// Shutdown stops the server and the saver; the saver writes what changed since its last save.
func (e *statusExtension) Shutdown(ctx context.Context) error {
	var err error
	if e.server != nil {
		err = e.server.Close()
	}
	e.stopBackground(ctx)
	return err
}

func (e *statusExtension) stopBackground(ctx context.Context) {
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	if e.saver != nil {
		if err := e.saver.close(ctx); err != nil {
			e.log.Warn("ccp_status: saving connector history failed", zap.Error(err))
		}
		e.saver = nil
	}
}
