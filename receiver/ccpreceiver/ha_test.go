package ccpreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/checkpoint"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// fakeElection is an in-memory coordination engine the test drives: it grants a connector's
// leadership to one identity at a time and fences the state writes of ended terms. The real
// engines (etcd, Kubernetes leases) are tested in the ccp_coordinator extension.
type fakeElection struct {
	mu     sync.Mutex
	state  map[string][]byte
	term   int
	ended  chan struct{}
	waits  map[string]chan coordination.Term
	leader string
}

func newFakeElection() *fakeElection {
	return &fakeElection{state: map[string][]byte{}, waits: map[string]chan coordination.Term{}}
}

// grant ends the current term and hands the next one to identity.
func (e *fakeElection) grant(identity string) {
	e.mu.Lock()
	if e.ended != nil {
		close(e.ended)
	}
	e.term++
	e.ended, e.leader = make(chan struct{}), identity
	t := &fakeTerm{e: e, n: e.term, done: e.ended, id: identity}
	ch := e.wait(identity)
	e.mu.Unlock()
	ch <- t
}

func (e *fakeElection) wait(identity string) chan coordination.Term {
	if e.waits[identity] == nil {
		e.waits[identity] = make(chan coordination.Term, 1)
	}
	return e.waits[identity]
}

// host is a collector host whose ccp_coordinator extension is identity's view of e.
func (e *fakeElection) host(identity string) component.Host {
	return haHost{component.MustNewID("ccp_coordinator"): &fakeCoordinator{e: e, id: identity}}
}

type haHost map[component.ID]component.Component

func (h haHost) GetExtensions() map[component.ID]component.Component { return h }

type fakeCoordinator struct {
	component.StartFunc
	component.ShutdownFunc
	e  *fakeElection
	id string
}

func (c *fakeCoordinator) Join(context.Context, string) (coordination.Candidate, error) {
	return c, nil
}

func (c *fakeCoordinator) Lead(ctx context.Context) (coordination.Term, error) {
	c.e.mu.Lock()
	ch := c.e.wait(c.id)
	c.e.mu.Unlock()
	select {
	case t := <-ch:
		return t, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *fakeCoordinator) Close(context.Context) error { return nil }

type fakeTerm struct {
	e    *fakeElection
	n    int
	done chan struct{}
	id   string
}

func (t *fakeTerm) Done() <-chan struct{}                      { return t.done }
func (t *fakeTerm) Leader() string                             { return t.id }
func (t *fakeTerm) Resign(context.Context) error               { return nil }
func (t *fakeTerm) State() storage.Client                      { return fakeState{t} }
func (fakeState) Close(context.Context) error                  { return nil }
func (s fakeState) Delete(ctx context.Context, k string) error { return s.Set(ctx, k, nil) }

type fakeState struct{ t *fakeTerm }

func (s fakeState) Get(_ context.Context, k string) ([]byte, error) {
	s.t.e.mu.Lock()
	defer s.t.e.mu.Unlock()
	return s.t.e.state[k], nil
}

func (s fakeState) Set(_ context.Context, k string, v []byte) error {
	s.t.e.mu.Lock()
	defer s.t.e.mu.Unlock()
	if s.t.n != s.t.e.term {
		return fmt.Errorf("term %d: %w", s.t.n, coordination.ErrFenced)
	}
	s.t.e.state[k] = v
	return nil
}

func (s fakeState) Batch(ctx context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		var err error
		switch op.Type {
		case storage.Get:
			op.Value, err = s.Get(ctx, op.Key)
		case storage.Set:
			err = s.Set(ctx, op.Key, op.Value)
		case storage.Delete:
			err = s.Delete(ctx, op.Key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// gateSink accepts its first pushes, then holds every push until the caller gives up.
type gateSink struct {
	sink
	open int
}

func (g *gateSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	g.mu.Lock()
	admit := g.open > 0
	g.open--
	g.mu.Unlock()
	if !admit {
		<-ctx.Done()
		return ctx.Err()
	}
	return g.sink.ConsumeLogs(ctx, ld)
}

var _ consumer.Logs = (*gateSink)(nil)

// With a coordinator only the leader polls; when leadership moves, polling stops on the old
// leader and the new one resumes from the checkpoint the old one saved in the coordinator.
func TestOnlyTheLeaderPollsAndResumesFromTheSharedCheckpoint(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	srv, url := vendor(t, vendorapi.Config{Events: 600, Span: 20 * time.Minute, End: end, PageSize: 100})
	e := newFakeElection()
	cfg := testConfig(url)
	id := component.MustNewID("ccp_coordinator")
	cfg.Coordinator = &id
	require.NoError(t, cfg.Validate())
	sa := &gateSink{sink: sink{ids: map[string]int{}}, open: 2}
	sb := &sink{ids: map[string]int{}}
	ra := startObserved(t, cfg, sa, e.host("a"))
	rb := startObserved(t, cfg, sb, e.host("b"))

	time.Sleep(300 * time.Millisecond)
	_, served := srv.Served()
	assert.Zero(t, served, "nobody polls before a leader is elected")
	assert.Equal(t, int64(0), gauge(t, ra.tel, "otelcol_ccp_leader"))

	e.grant("a")
	waitFor(t, "a to deliver its first two pages", func() bool { u, _ := sa.count(); return u == 200 })
	assert.Equal(t, int64(1), gauge(t, ra.tel, "otelcol_ccp_leader"))
	assert.Equal(t, int64(0), gauge(t, rb.tel, "otelcol_ccp_leader"))

	e.grant("b") // a's term ends: its parts in flight are abandoned, b resumes after page 2
	waitFor(t, "b to deliver the rest", func() bool { u, _ := sb.count(); return u == 400 })
	waitFor(t, "a to stand by", func() bool { return gauge(t, ra.tel, "otelcol_ccp_leader") == 0 })
	ua, _ := sa.count()
	ub, tb := sb.count()
	assert.Equal(t, 200, ua)
	assert.Equal(t, 400, tb, "b re-sends nothing a's checkpoint covered")
	for k := range sb.ids {
		assert.NotContains(t, sa.ids, k, "an event delivered by both replicas")
	}
	assert.Equal(t, 400, ub)
	assert.Equal(t, int64(2), counter(t, ra.tel, "otelcol_ccp_leadership_changes"), "a gained and lost")
	assert.Equal(t, int64(1), counter(t, rb.tel, "otelcol_ccp_leadership_changes"))
}

// A deposed leader's write is refused by the coordinator, counted, and never regresses state.
func TestFencedWritesAreCounted(t *testing.T) {
	e := newFakeElection()
	e.grant("a")
	old := <-e.wait("a")
	e.grant("b")
	cfg := testConfig("http://127.0.0.1:1")
	r := startObserved(t, cfg, &sink{ids: map[string]int{}}, componenttest.NewNopHost())
	c := &fencedClient{Client: old.State(), r: r.ccpReceiver}
	err := c.Set(context.Background(), "ccp.checkpoint", []byte(`{}`))
	require.ErrorIs(t, err, coordination.ErrFenced)
	assert.Equal(t, int64(1), counter(t, r.tel, "otelcol_ccp_fenced_writes"))
	assert.Nil(t, e.state["ccp.checkpoint"])
}

// Parts the pipeline accepts out of order are saved in hand-over order, never past a part it
// has not accepted; a refused part stops the saving.
func TestHandoverSavesPositionsInOrder(t *testing.T) {
	ctx := context.Background()
	client := storagetest.NewInMemoryClient(component.KindReceiver, component.MustNewID("ccp"), "")
	r := &ccpReceiver{cfg: &Config{MaxInFlight: 8}, tracker: checkpoint.NewTracker(checkpoint.New(client), "fp")}
	_, _ = r.tracker.Restore(ctx)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := window.Window{Start: t0, End: t0.Add(time.Minute)}
	h := r.newHandover(r.tracker.Begin(w))
	saved := func() *checkpoint.Partial {
		st, _, err := checkpoint.New(client).Load(ctx)
		require.NoError(t, err)
		return st.Partial
	}
	t1, t2, t3 := &ticket{pos: checkpoint.Position{Skip: 10}}, &ticket{pos: checkpoint.Position{Resume: "p2"}}, &ticket{pos: checkpoint.Position{Resume: "p3"}}
	h.pending = []*ticket{t1, t2, t3}
	h.finish(ctx, t3, nil)
	h.finish(ctx, t2, nil)
	assert.Nil(t, saved(), "nothing is saved while the first part is in flight")
	h.finish(ctx, t1, nil)
	require.NotNil(t, saved())
	assert.Equal(t, "p3", saved().Resume, "all three accepted: the last position is saved")

	t4, t5 := &ticket{pos: checkpoint.Position{Resume: "p4"}}, &ticket{pos: checkpoint.Position{Resume: "p5"}}
	h.pending = []*ticket{t4, t5}
	h.finish(ctx, t5, nil)
	h.finish(ctx, t4, errors.New("refused"))
	assert.Equal(t, "p3", saved().Resume, "a refused part holds the position before it")
	assert.Error(t, h.err())
}
