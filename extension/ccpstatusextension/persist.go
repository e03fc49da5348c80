package ccpstatusextension

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

// storageKey holds every connector's persisted part as one JSON object keyed by component ID.
const storageKey = "connectors.v1"

// saver keeps connector history and hourly counts in a storage extension. Receivers stop
// (and leave the registry) before extensions, so the saver exports a connector after each of
// its windows: what it writes at shutdown includes the last window of every connector.
type saver struct {
	client storage.Client
	reg    *connstate.Registry
	log    *zap.Logger
	unsub  func()

	mu     sync.Mutex
	latest map[string]connstate.Persisted
	dirty  bool
}

func newSaver(ctx context.Context, host component.Host, id, self component.ID, reg *connstate.Registry, log *zap.Logger) (*saver, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("storage: extension %q not found; add it under extensions and service.extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage: extension %q is not a storage extension", id)
	}
	client, err := se.GetClient(ctx, component.KindExtension, self, "")
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	s := &saver{client: client, reg: reg, log: log, latest: map[string]connstate.Persisted{}}
	raw, err := client.Get(ctx, storageKey)
	switch {
	case err != nil:
		log.Warn("ccp_status: stored connector history not readable; starting empty", zap.Error(err))
	case raw != nil:
		if err := json.Unmarshal(raw, &s.latest); err != nil {
			log.Warn("ccp_status: stored connector history not usable; starting empty", zap.Error(err))
			s.latest = map[string]connstate.Persisted{}
		}
	}
	for cid, p := range s.latest {
		reg.Preload(cid, p)
	}
	s.unsub = reg.Subscribe(s.observe)
	return s, nil
}

// observe runs on the reporting goroutine: it only copies the connector's state.
func (s *saver) observe(ev connstate.Event) {
	if ev.Window == nil {
		return
	}
	c := s.reg.Get(ev.Connector.ID)
	if c == nil {
		return
	}
	p := c.Export()
	s.mu.Lock()
	s.latest[ev.Connector.ID] = p
	s.dirty = true
	s.mu.Unlock()
}

func (s *saver) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.save(ctx, false); err != nil {
				s.log.Warn("ccp_status: saving connector history failed; retrying at the next interval", zap.Error(err))
			}
		}
	}
}

// save writes the persisted part of every connector when something changed (or always).
func (s *saver) save(ctx context.Context, always bool) error {
	for _, c := range s.reg.Connectors() {
		p := c.Export()
		s.mu.Lock()
		s.latest[c.Identity().ID] = p
		s.mu.Unlock()
	}
	s.mu.Lock()
	if !s.dirty && !always {
		s.mu.Unlock()
		return nil
	}
	raw, err := json.Marshal(s.latest)
	s.dirty = false
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.client.Set(ctx, storageKey, raw); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return err
	}
	return nil
}

// close stops observing, writes the final state and closes the client.
func (s *saver) close(ctx context.Context) error {
	s.unsub()
	err := s.save(ctx, true)
	if cerr := s.client.Close(ctx); err == nil {
		err = cerr
	}
	return err
}
