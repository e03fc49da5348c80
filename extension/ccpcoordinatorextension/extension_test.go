package ccpcoordinatorextension

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
)

// statusHost records the component status the extension reports.
type statusHost struct {
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (*statusHost) GetExtensions() map[component.ID]component.Component { return nil }

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

func (h *statusHost) last() *componentstatus.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return nil
	}
	return h.events[len(h.events)-1]
}

func etcdExtension(t *testing.T, endpoint, identity string, logs **observer.ObservedLogs) (extension.Extension, *statusHost) {
	cfg := createDefaultConfig().(*Config)
	cfg.Etcd = configoptional.Some(EtcdConfig{Endpoints: []string{endpoint}, Prefix: "/ext/", DialTimeout: time.Second})
	cfg.Identity, cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod = identity, 2*time.Second, time.Second, 200*time.Millisecond
	require.NoError(t, cfg.Validate())
	set := extensiontest.NewNopSettings(NewFactory().Type())
	if logs != nil {
		core, observed := observer.New(zap.InfoLevel)
		set.Logger = zap.New(core)
		*logs = observed
	}
	ext, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)
	host := &statusHost{}
	require.NoError(t, ext.Start(context.Background(), host))
	return ext, host
}

// Through the factory, as a receiver uses it: Join and Lead on the extension, the leader's
// identity in the component status and logs, Shutdown hands the connector over at once.
func TestExtensionOnEtcd(t *testing.T) {
	endpoint := startEtcd(t)
	var logs *observer.ObservedLogs
	first, host := etcdExtension(t, endpoint, "replica-1", &logs)
	second, _ := etcdExtension(t, endpoint, "replica-2", nil)
	t.Cleanup(func() { _ = second.Shutdown(context.Background()) })

	c1, err := first.(coordination.Coordinator).Join(context.Background(), "ccp/okta")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	term, err := c1.Lead(ctx)
	require.NoError(t, err)
	assert.Equal(t, "replica-1", term.Leader())
	require.NoError(t, term.State().Set(ctx, "checkpoint", []byte("42")))

	assertEventually(t, 5*time.Second, func() error {
		ev := host.last()
		if ev == nil || ev.Status() != componentstatus.StatusOK {
			return assert.AnError
		}
		leading, _ := ev.Attributes().Get("leading")
		identity, _ := ev.Attributes().Get("identity")
		if leading.Str() != "ccp/okta" || identity.Str() != "replica-1" {
			return assert.AnError
		}
		return nil
	})
	assert.NotEmpty(t, logs.FilterMessage("Leading connector").FilterField(zap.String("leader", "replica-1")).All())

	c2, err := second.(coordination.Coordinator).Join(context.Background(), "ccp/okta")
	require.NoError(t, err)
	led := make(chan coordination.Term, 1)
	go func() {
		t2, err := c2.Lead(ctx)
		if err == nil {
			led <- t2
		}
		close(led)
	}()
	require.NoError(t, first.Shutdown(context.Background()))
	assertClosed(t, term.Done(), time.Second, "shutdown ends the term")
	select {
	case t2 := <-led:
		require.NotNil(t, t2)
		got, err := t2.State().Get(ctx, "checkpoint")
		require.NoError(t, err)
		assert.Equal(t, "42", string(got))
	case <-time.After(2 * time.Second):
		t.Fatal("replica-2 did not take over within the lease duration after replica-1 shut down")
	}
	require.ErrorIs(t, term.State().Set(ctx, "checkpoint", []byte("0")), coordination.ErrFenced)
}

// An unreachable engine is a recoverable error in the status, not a failed start.
func TestExtensionUnreachableEngine(t *testing.T) {
	ext, host := etcdExtension(t, freePort(t), "replica-1", nil)
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	assertEventually(t, 5*time.Second, func() error {
		if ev := host.last(); ev == nil || ev.Status() != componentstatus.StatusRecoverableError {
			return assert.AnError
		}
		return nil
	})
	assert.Contains(t, host.last().Err().Error(), "coordination engine unreachable")
}

func TestJoinBeforeStart(t *testing.T) {
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(NewFactory().Type()), createDefaultConfig())
	require.NoError(t, err)
	_, err = ext.(coordination.Coordinator).Join(context.Background(), "ccp/okta")
	assert.ErrorContains(t, err, "not started")
}

// A TLS setting that cannot load fails Start, naming the field.
func TestExtensionEtcdTLSError(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	tlsCfg := configtls.NewDefaultClientConfig()
	tlsCfg.CAFile = filepath.Join(t.TempDir(), "missing-ca.pem")
	cfg.Etcd = configoptional.Some(EtcdConfig{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/p/", TLS: configoptional.Some(tlsCfg), Username: "u", Password: "hunter2"})
	require.NoError(t, cfg.Validate())
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(NewFactory().Type()), cfg)
	require.NoError(t, err)
	err = ext.Start(context.Background(), &statusHost{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "etcd::tls")
	assert.NotContains(t, err.Error(), "hunter2")
}
