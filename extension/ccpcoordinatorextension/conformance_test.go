package ccpcoordinatorextension

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
)

// backend is one engine under the conformance suite: env gives a fresh, isolated election
// space (etcd: a new key prefix; Kubernetes: a new fake API server) per test.
type backend struct {
	tm  timing
	clk *clock
	env func(t *testing.T) env
}

// env creates replicas sharing one election space.
type env interface {
	// engine returns a new engine for identity and a switch that cuts it off the store.
	engine(t *testing.T, identity string) (engine, func(cut bool))
}

// replica is one collector replica in a test.
type replica struct {
	*coordinator
	cut func(bool)
}

func (b *backend) replica(t *testing.T, e env, identity string) *replica {
	eng, cut := e.engine(t, identity)
	c := newCoordinator(eng, identity, b.clk, b.tm, zaptest.NewLogger(t).Named(identity))
	c.start()
	t.Cleanup(func() {
		cut(false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.stop(ctx)
	})
	return &replica{coordinator: c, cut: cut}
}

// real converts clock time of the backend into wall time for test deadlines.
func (b *backend) real(d time.Duration) time.Duration { return b.clk.real(d) }

func (b *backend) lead(t *testing.T, r *replica, connector string, within time.Duration) coordination.Term {
	t.Helper()
	cand, err := r.Join(context.Background(), connector)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), b.real(within))
	defer cancel()
	term, err := cand.Lead(ctx)
	require.NoError(t, err, "%s did not lead %s within %s", r.identity, connector, within)
	return term
}

// leadAsync campaigns in the background; the channel gets the term and the wall time it began.
type led struct {
	term coordination.Term
	at   time.Time
	err  error
}

func (b *backend) leadAsync(t *testing.T, r *replica, connector string, within time.Duration) <-chan led {
	cand, err := r.Join(context.Background(), connector)
	require.NoError(t, err)
	ch := make(chan led, 1)
	ctx, cancel := context.WithTimeout(context.Background(), b.real(within))
	go func() {
		defer cancel()
		term, err := cand.Lead(ctx)
		ch <- led{term: term, at: time.Now(), err: err}
	}()
	return ch
}

func runConformance(t *testing.T, b *backend) {
	t.Run("campaign", func(t *testing.T) { testCampaign(t, b) })
	t.Run("renew", func(t *testing.T) { testRenew(t, b) })
	t.Run("lose_on_expiry_and_fenced_write", func(t *testing.T) { testLoseOnExpiry(t, b) })
	t.Run("short_partition_leaves_nothing_stuck", func(t *testing.T) { testShortPartition(t, b) })
	t.Run("state_survives_leader_change", func(t *testing.T) { testStateSurvives(t, b) })
	t.Run("refresh_token_rotation", func(t *testing.T) { testRefreshToken(t, b) })
	t.Run("balance", func(t *testing.T) { testBalance(t, b) })
}

// One replica leads; the other waits, and leads promptly once the first resigns.
func testCampaign(t *testing.T, b *backend) {
	e := b.env(t)
	a, other := b.replica(t, e, "replica-a"), b.replica(t, e, "replica-b")
	ta := b.lead(t, a, "ccp/okta", b.tm.leaseDuration)
	assert.Equal(t, "replica-a", ta.Leader())
	waiting := b.leadAsync(t, other, "ccp/okta", 10*b.tm.leaseDuration)
	select {
	case l := <-waiting:
		t.Fatalf("replica-b led while replica-a holds the lease: %+v", l)
	case <-time.After(b.real(3 * b.tm.retryPeriod)):
	}
	leader, err := other.eng.leader(context.Background(), "ccp/okta")
	require.NoError(t, err)
	assert.Equal(t, "replica-a", leader)

	resigned := time.Now()
	require.NoError(t, ta.Resign(context.Background()))
	assertClosed(t, ta.Done(), time.Second, "a resigned term is over")
	l := <-waiting
	require.NoError(t, l.err)
	assert.Equal(t, "replica-b", l.term.Leader())
	// A resignation hands over without waiting for the lease to expire.
	assert.Less(t, l.at.Sub(resigned), b.real(b.tm.leaseDuration), "handover after a resignation")
}

// The leader keeps its term across several lease durations, and writes all along.
func testRenew(t *testing.T, b *backend) {
	e := b.env(t)
	a, other := b.replica(t, e, "replica-a"), b.replica(t, e, "replica-b")
	ta := b.lead(t, a, "ccp/renew", b.tm.leaseDuration)
	waiting := b.leadAsync(t, other, "ccp/renew", 3*b.tm.leaseDuration)
	for i := range 6 {
		time.Sleep(b.real(b.tm.leaseDuration / 2))
		require.NoError(t, ta.State().Set(context.Background(), "checkpoint", fmt.Appendf(nil, "%d", i)))
	}
	select {
	case <-ta.Done():
		t.Fatal("the term ended although renewals succeed")
	default:
	}
	l := <-waiting
	assert.ErrorIs(t, l.err, context.DeadlineExceeded, "replica-b must not lead a renewed lease")
}

// A leader cut off from the store stops (Done) within the renew deadline, before the other
// replica takes over after the lease duration; its later writes are refused by the engine
// itself and never regress the new leader's state.
func testLoseOnExpiry(t *testing.T, b *backend) {
	e := b.env(t)
	a, other := b.replica(t, e, "replica-a"), b.replica(t, e, "replica-b")
	ta := b.lead(t, a, "ccp/expiry", b.tm.leaseDuration)
	require.NoError(t, ta.State().Set(context.Background(), "checkpoint", []byte("1")))
	waiting := b.leadAsync(t, other, "ccp/expiry", 10*b.tm.leaseDuration)

	cutAt := time.Now()
	a.cut(true)
	doneAt := waitClosed(t, ta.Done(), b.real(b.tm.renewDeadline+2*b.tm.retryPeriod)+time.Second, "cut-off leader stops")
	l := <-waiting
	require.NoError(t, l.err)
	assert.Less(t, doneAt.Sub(cutAt), b.real(b.tm.renewDeadline+2*b.tm.retryPeriod)+time.Second)
	assert.True(t, doneAt.Before(l.at), "old leader stopped (%s) before the new one began (%s)", doneAt.Sub(cutAt), l.at.Sub(cutAt))
	tb := l.term
	got, err := tb.State().Get(context.Background(), "checkpoint")
	require.NoError(t, err)
	assert.Equal(t, "1", string(got), "the new leader reads the old leader's checkpoint")
	require.NoError(t, tb.State().Set(context.Background(), "checkpoint", []byte("2")))

	a.cut(false)
	err = ta.State().Set(context.Background(), "checkpoint", []byte("0"))
	require.ErrorIs(t, err, coordination.ErrFenced)
	// The engine refuses it too, not only the ended term's flag (a paused process that
	// resumes may write before its renew loop notices).
	stale := ta.(*term).h
	assertEventually(t, 20*time.Second, func() error {
		err := stale.commit(context.Background(), []write{{key: "checkpoint", value: []byte("0")}})
		if !errors.Is(err, coordination.ErrFenced) {
			return fmt.Errorf("stale commit: %v", err)
		}
		return nil
	})
	got, err = tb.State().Get(context.Background(), "checkpoint")
	require.NoError(t, err)
	assert.Equal(t, "2", string(got), "a refused write never regresses the state")
	assert.GreaterOrEqual(t, a.metrics.refusedWrites("ccp/expiry"), int64(1))
}

// A leader cut off just past its renew deadline but for less than the lease duration stops;
// once the partition heals the connector is led again (by either replica) within a few lease
// durations: nothing of the ended term keeps the lease alive.
func testShortPartition(t *testing.T, b *backend) {
	e := b.env(t)
	a, other := b.replica(t, e, "replica-a"), b.replica(t, e, "replica-b")
	ta := b.lead(t, a, "ccp/short", b.tm.leaseDuration)
	ca, err := a.Join(context.Background(), "ccp/other-connector") // keeps a's share at 1
	require.NoError(t, err)
	defer ca.Close(context.Background())
	a.cut(true)
	waitClosed(t, ta.Done(), b.real(b.tm.renewDeadline+2*b.tm.retryPeriod)+time.Second, "cut-off leader stops")
	a.cut(false)
	waiting := b.leadAsync(t, other, "ccp/short", 6*b.tm.leaseDuration)
	l := <-waiting
	require.NoError(t, l.err, "the connector stayed without a leader after the partition healed")
	assert.Equal(t, "replica-b", l.term.Leader())
}

// Everything one leader wrote (batch of sets and deletes) is what the next one reads.
func testStateSurvives(t *testing.T, b *backend) {
	e := b.env(t)
	a, other := b.replica(t, e, "replica-a"), b.replica(t, e, "replica-b")
	ta := b.lead(t, a, "ccp/state", b.tm.leaseDuration)
	st := ta.State()
	require.NoError(t, st.Set(context.Background(), "tmp", []byte("x")))
	read := storage.GetOperation("tmp")
	require.NoError(t, st.Batch(context.Background(),
		storage.SetOperation("checkpoint", []byte(`{"end":"2026-12-02T03:00:00Z"}`)),
		storage.SetOperation("cursor", []byte("abc")),
		storage.DeleteOperation("tmp"),
		read,
	))
	assert.Nil(t, read.Value, "a Get in a batch sees the batch's earlier delete")
	waiting := b.leadAsync(t, other, "ccp/state", 10*b.tm.leaseDuration)
	require.NoError(t, ta.Resign(context.Background()))
	l := <-waiting
	require.NoError(t, l.err)
	for key, want := range map[string]string{"checkpoint": `{"end":"2026-12-02T03:00:00Z"}`, "cursor": "abc", "tmp": ""} {
		got, err := l.term.State().Get(context.Background(), key)
		require.NoError(t, err)
		assert.Equal(t, want, string(got), key)
	}
}

// A refresh token rotated by leader 1 just before it died is the one leader 2 uses; leader
// 1's stale token never comes back.
func testRefreshToken(t *testing.T, b *backend) {
	e := b.env(t)
	a, other := b.replica(t, e, "replica-a"), b.replica(t, e, "replica-b")
	ta := b.lead(t, a, "ccp/oauth", b.tm.leaseDuration)
	require.NoError(t, ta.State().Set(context.Background(), "refresh_token", []byte("rt-1")))
	require.NoError(t, ta.State().Set(context.Background(), "refresh_token", []byte("rt-2")))
	waiting := b.leadAsync(t, other, "ccp/oauth", 10*b.tm.leaseDuration)
	a.cut(true) // dies without resigning
	l := <-waiting
	require.NoError(t, l.err)
	got, err := l.term.State().Get(context.Background(), "refresh_token")
	require.NoError(t, err)
	assert.Equal(t, "rt-2", string(got))
	require.NoError(t, l.term.State().Set(context.Background(), "refresh_token", []byte("rt-3")))
	a.cut(false)
	require.ErrorIs(t, ta.State().Set(context.Background(), "refresh_token", []byte("rt-2")), coordination.ErrFenced)
	got, err = l.term.State().Get(context.Background(), "refresh_token")
	require.NoError(t, err)
	assert.Equal(t, "rt-3", string(got))
}

// 3 replicas and 6 connectors settle with every connector led once and no replica above
// ceil(6/3)+1; a 4th replica takes a share within a few lease durations.
func testBalance(t *testing.T, b *backend) {
	e := b.env(t)
	connectors := []string{"ccp/c1", "ccp/c2", "ccp/c3", "ccp/c4", "ccp/c5", "ccp/c6"}
	var replicas []*replica
	add := func(id string) {
		r := b.replica(t, e, id)
		replicas = append(replicas, r)
		// Registered after the replica's stop: its receivers end first.
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		t.Cleanup(func() { cancel(); wg.Wait() })
		for _, c := range connectors {
			cand, err := r.Join(ctx, c)
			require.NoError(t, err)
			wg.Go(func() { runReceiver(ctx, cand) })
		}
	}
	for _, id := range []string{"replica-a", "replica-b", "replica-c"} {
		add(id)
	}
	started := time.Now()
	assertEventually(t, b.real(10*b.tm.leaseDuration), func() error { return balanced(replicas, len(connectors), 1) })
	t.Logf("3 replicas settled after %s", time.Since(started))
	assertStays(t, b.real(2*b.tm.leaseDuration), func() error { return balanced(replicas, len(connectors), 0) })
	joined := time.Now()
	add("replica-d")
	// "Within a few lease durations".
	assertEventually(t, b.real(5*b.tm.leaseDuration), func() error { return balanced(replicas, len(connectors), 1) })
	t.Logf("replica-d took its share after %s (lease duration %s)", time.Since(joined), b.real(b.tm.leaseDuration))
	assertStays(t, b.real(2*b.tm.leaseDuration), func() error { return balanced(replicas, len(connectors), 0) })
}

// assertStays checks a property for a while; transient "not led" moments are allowed (a
// connector being handed over), two leaders or a replica over the limit are not.
func assertStays(t *testing.T, during time.Duration, check func() error) {
	t.Helper()
	end := time.Now().Add(during)
	for time.Now().Before(end) {
		if err := check(); err != nil && !errors.Is(err, errNotAllLed) {
			t.Fatalf("after settling: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var errNotAllLed = errors.New("not every connector is led")

// runReceiver is what a ccp receiver does: lead, poll until the term ends, campaign again.
func runReceiver(ctx context.Context, cand coordination.Candidate) {
	for ctx.Err() == nil {
		term, err := cand.Lead(ctx)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		select {
		case <-term.Done():
		case <-ctx.Done():
		}
	}
}

// balanced: every connector led by exactly one replica, none above ceil(n/r)+1, and each
// replica leading at least minEach.
func balanced(replicas []*replica, n, minEach int) error {
	limit := (n+len(replicas)-1)/len(replicas) + 1
	leaders := map[string][]string{}
	for _, r := range replicas {
		leading := r.leading()
		if len(leading) > limit || len(leading) < minEach {
			return fmt.Errorf("%s leads %v (limit %d, at least %d)", r.identity, leading, limit, minEach)
		}
		for _, c := range leading {
			leaders[c] = append(leaders[c], r.identity)
		}
	}
	if len(leaders) != n {
		return fmt.Errorf("%w: %d of %d: %v", errNotAllLed, len(leaders), n, leaders)
	}
	for c, ids := range leaders {
		if len(ids) != 1 {
			return fmt.Errorf("%s led by %v", c, ids)
		}
	}
	return nil
}

func assertEventually(t *testing.T, within time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("not within %s: %v", within, err)
}

func waitClosed(t *testing.T, ch <-chan struct{}, within time.Duration, what string) time.Time {
	t.Helper()
	select {
	case <-ch:
		return time.Now()
	case <-time.After(within):
		t.Fatalf("%s: not within %s", what, within)
		return time.Time{}
	}
}

func assertClosed(t *testing.T, ch <-chan struct{}, within time.Duration, what string) {
	t.Helper()
	waitClosed(t, ch, within, what)
}
