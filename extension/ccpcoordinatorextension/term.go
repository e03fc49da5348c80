package ccpcoordinatorextension

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
)

// term is one uninterrupted leadership of a connector.
type term struct {
	c         *coordinator
	connector string
	h         hold
	start     time.Time
	renewed   atomic.Int64 // clock time (UnixNano) of the start of the last successful renewal

	done   chan struct{}
	once   sync.Once
	ctx    context.Context // ends with the term: stops the renew loop
	cancel context.CancelFunc
	state  *fencedClient
}

var _ coordination.Term = (*term)(nil)

func newTerm(c *coordinator, connector string, h hold, since time.Time) *term {
	ctx, cancel := context.WithCancel(c.ctx)
	t := &term{c: c, connector: connector, h: h, start: since, done: make(chan struct{}), ctx: ctx, cancel: cancel}
	t.renewed.Store(since.UnixNano())
	t.state = &fencedClient{t: t}
	return t
}

// overdue tells whether no renewal succeeded for renew_deadline (e.g. the process was paused
// and its renew loop has not run yet).
func (t *term) overdue() bool {
	return t.c.clk.Now().Sub(time.Unix(0, t.renewed.Load())) >= t.c.tm.renewDeadline
}

func (t *term) Done() <-chan struct{} { return t.done }
func (t *term) State() storage.Client { return t.state }
func (t *term) Leader() string        { return t.c.identity }
func (t *term) Resign(ctx context.Context) error {
	return t.end(ctx, "resigned", true)
}

func (t *term) ended() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// end closes the term once; release gives the lease back so another replica can take it at
// once (not possible, nor needed, when the lease is already lost).
func (t *term) end(ctx context.Context, reason string, release bool) error {
	first := false
	t.once.Do(func() {
		first = true
		close(t.done)
		t.cancel()
		t.c.mu.Lock()
		if t.c.terms[t.connector] == t {
			delete(t.c.terms, t.connector)
		}
		t.c.mu.Unlock()
		t.c.metrics.leadershipChanged(t.connector, false)
	})
	if !first {
		return nil
	}
	log := t.c.logger.Info
	if !release {
		log = t.c.logger.Warn
	}
	log("No longer leading connector", zap.String("connector", t.connector),
		zap.String("identity", t.c.identity), zap.String("reason", reason), zap.String("fence", t.h.fence()))
	if !release {
		// Stop renewing and give the lease back if it is still ours (a conditional release
		// cannot hurt a successor); otherwise it simply expires. Not waited for: the store
		// may be unreachable.
		go func() {
			rctx, cancel := t.c.clk.withTimeout(context.Background(), t.c.tm.retryPeriod)
			defer cancel()
			_ = t.h.release(rctx)
		}()
		return nil
	}
	if err := t.h.release(ctx); err != nil {
		// The lease then simply expires; the term is over either way.
		return fmt.Errorf("release lease of %s: %w", t.connector, err)
	}
	return nil
}

// renewLoop renews the lease every retry period. The term ends when a renewal proves the
// lease lost, or when no renewal succeeded for renew_deadline: measured from the start of the
// last successful attempt, which is no later than the moment the store extended the lease, so
// the holder stops before the lease can expire and be taken over.
func (t *term) renewLoop() {
	c := t.c
	last := t.start
	for {
		t.renewed.Store(last.UnixNano())
		wait := min(c.tm.retryPeriod, c.tm.renewDeadline-c.clk.Now().Sub(last))
		if wait > 0 && !c.clk.sleep(t.ctx, wait) {
			return
		}
		remaining := c.tm.renewDeadline - c.clk.Now().Sub(last)
		if remaining <= 0 {
			_ = t.end(context.Background(), fmt.Sprintf("could not renew the lease within renew_deadline (%s)", c.tm.renewDeadline), false)
			return
		}
		attempt := c.clk.Now()
		actx, cancel := c.clk.withTimeout(t.ctx, remaining)
		err := t.h.renew(actx)
		cancel()
		switch {
		case err == nil:
			last = attempt
		case t.ctx.Err() != nil:
			return
		case errors.Is(err, errLost):
			_ = t.end(context.Background(), err.Error(), false)
			return
		default:
			c.logger.Debug("Lease renewal failed; retrying until the renew deadline",
				zap.String("connector", t.connector), zap.Error(err))
		}
	}
}

// fencedClient is a term's view of the connector's state: reads at any time, writes only
// while the term lasts and only if the engine confirms the lease in the same transaction.
type fencedClient struct {
	t *term
}

var _ storage.Client = (*fencedClient)(nil)

func (f *fencedClient) Get(ctx context.Context, key string) ([]byte, error) {
	return f.t.h.get(ctx, key)
}

func (f *fencedClient) Set(ctx context.Context, key string, value []byte) error {
	return f.commit(ctx, []write{{key: key, value: value}})
}

func (f *fencedClient) Delete(ctx context.Context, key string) error {
	return f.commit(ctx, []write{{key: key, delete: true}})
}

// Batch applies the operations in order: a Get sees the batch's earlier writes; the writes go
// to the engine as one fenced transaction (the last write of each key).
func (f *fencedClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	pending := map[string]int{} // key -> index in writes
	var writes []write
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			if i, ok := pending[op.Key]; ok {
				op.Value = nil
				if !writes[i].delete {
					op.Value = append([]byte(nil), writes[i].value...)
				}
				continue
			}
			v, err := f.t.h.get(ctx, op.Key)
			if err != nil {
				return err
			}
			op.Value = v
		case storage.Set, storage.Delete:
			w := write{key: op.Key, value: op.Value, delete: op.Type == storage.Delete}
			if i, ok := pending[op.Key]; ok {
				writes[i] = w
				continue
			}
			pending[op.Key] = len(writes)
			writes = append(writes, w)
		default:
			return fmt.Errorf("ccp_coordinator: unknown storage operation %d", op.Type)
		}
	}
	if len(writes) == 0 {
		return nil
	}
	return f.commit(ctx, writes)
}

func (*fencedClient) Close(context.Context) error { return nil }

func (f *fencedClient) commit(ctx context.Context, writes []write) error {
	t := f.t
	if !t.ended() && t.overdue() {
		_ = t.end(context.Background(), fmt.Sprintf("no renewal within renew_deadline (%s)", t.c.tm.renewDeadline), false)
	}
	if t.ended() {
		return f.refused(fmt.Errorf("%w (connector %s, term ended)", coordination.ErrFenced, t.connector))
	}
	err := t.h.commit(ctx, writes)
	if errors.Is(err, coordination.ErrFenced) {
		// The engine saw another term: this one is over whatever the renew loop thinks.
		_ = t.end(context.Background(), "a fenced write was refused", false)
		return f.refused(err)
	}
	return err
}

func (f *fencedClient) refused(err error) error {
	t := f.t
	t.c.metrics.fenced(t.connector)
	t.c.logger.Warn("Refused a state write of a term that is over (another replica may lead the connector)",
		zap.String("connector", t.connector), zap.String("identity", t.c.identity), zap.String("fence", t.h.fence()))
	return err
}
