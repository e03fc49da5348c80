package nested

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tidwall/sjson"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/kql"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/sjsonkey"
)

// Expand returns the events to emit for one parent page (see doc.go): for each parent
// record, the child steps run with the placeholder rows their KQL produced; joined steps
// attach their result to the record, the others replace it with their own events. The
// order follows the parent records, then the rows, then the child events. Any failed child
// call fails the whole page, so the caller must not advance its checkpoint.
func (r *Runner) Expand(ctx context.Context, w window.Window, parentEvents []string) ([]string, error) {
	if len(parentEvents) == 0 {
		return nil, nil
	}
	x := &expansion{r: r, w: w, budget: int64(r.opts.MaxChildCalls)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([][]string, len(parentEvents))
	errs := make([]error, len(parentEvents))
	var wg sync.WaitGroup
	var next atomic.Int64
	workers := min(len(parentEvents), maxTopWorkers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(parentEvents) || ctx.Err() != nil {
					return
				}
				results[i], errs[i] = x.record(ctx, r.root, parentEvents[i], nil)
				if errs[i] != nil {
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	if s := x.skipped.Load(); s > 0 {
		r.log.Error("nested steps: too many child calls for one parent page; the rest were skipped and their data is not collected",
			zap.Int("max_child_calls", r.opts.MaxChildCalls), zap.Int64("skipped", s), zap.Time("window_start", w.Start))
		poller.ReportSkip(r.opts.Engine.Observer, "nested_child_budget", fmt.Sprintf(
			"%d child calls of nested steps were skipped for one parent page: at most %d run per page "+
				"(nested MaxChildCalls); shorten request.queryWindowInMin or the parent's page size so a page needs fewer", s, r.opts.MaxChildCalls))
	}
	var out []string
	for _, res := range results {
		out = append(out, res...)
	}
	return out, nil
}

// firstError prefers a real failure over the cancellations it caused in siblings.
func firstError(errs []error) error {
	var canceled error
	for _, e := range errs {
		if e == nil {
			continue
		}
		if !errors.Is(e, context.Canceled) {
			return e
		}
		if canceled == nil {
			canceled = e
		}
	}
	return canceled
}

type expansion struct {
	r       *Runner
	w       window.Window
	budget  int64
	used    atomic.Int64
	skipped atomic.Int64
}

func (x *expansion) take() bool {
	if x.used.Add(1) > x.budget {
		x.skipped.Add(1)
		return false
	}
	return true
}

// record expands one record through nodes (the next steps of the step that produced it).
func (x *expansion) record(ctx context.Context, nodes []*node, rec string, inherited kql.Row) ([]string, error) {
	if len(nodes) == 0 {
		return []string{rec}, nil
	}
	type job struct {
		node int
		row  kql.Row
	}
	var jobs []job
	for i, n := range nodes {
		rows, err := n.kql.Run(rec, inherited)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.step.Path, err)
		}
		for _, row := range rows {
			if !complete(row, n.used) {
				continue // a referenced placeholder is null or empty (§7 step 2)
			}
			if !x.take() {
				continue
			}
			jobs = append(jobs, job{i, row})
		}
	}
	outs := make([][]string, len(jobs))
	errs := make([]error, len(jobs))
	if len(jobs) == 1 {
		outs[0], errs[0] = x.run(ctx, nodes[jobs[0].node], jobs[0].row)
	} else if len(jobs) > 1 {
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for j, jb := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[j], errs[j] = x.run(ctx, nodes[jb.node], jb.row)
				if errs[j] != nil {
					cancel()
				}
			}()
		}
		wg.Wait()
		cancel()
	}
	if err := firstError(errs); err != nil {
		return nil, err
	}
	perNode := make([][]string, len(nodes))
	for j, jb := range jobs {
		perNode[jb.node] = append(perNode[jb.node], outs[j]...)
	}
	joined, anyJoin := rec, false
	var emitted []string
	for i, n := range nodes {
		if !n.step.Join {
			emitted = append(emitted, perNode[i]...)
			continue
		}
		anyJoin = true
		var err error
		if joined, err = attach(joined, n.step.JoinName, perNode[i]); err != nil {
			return nil, fmt.Errorf("%s: joining into the parent record: %w", n.step.Path, err)
		}
	}
	if anyJoin {
		return append([]string{joined}, emitted...), nil
	}
	return emitted, nil
}

func complete(row kql.Row, used []string) bool {
	for _, k := range used {
		if row[k] == "" {
			return false
		}
	}
	return true
}

// run makes one child call for a row and expands its events through the step's own next
// steps (with the row as their inherited placeholders).
func (x *expansion) run(ctx context.Context, n *node, row kql.Row) ([]string, error) {
	events, err := x.call(ctx, n, row)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ev := range events {
		res, err := x.record(ctx, n.children, ev, row)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// call runs the child request of one row with its own paging and returns its events.
func (x *expansion) call(ctx context.Context, n *node, row kql.Row) ([]string, error) {
	st := n.step
	def, err := childDef(n, row)
	if err != nil {
		return nil, fmt.Errorf("nested step %s (%s): %w", st.ID, describeRow(row, n.used), err)
	}
	o := x.r.opts.Engine
	o.HTTPClient, o.Auth = st.client, st.auth
	if !x.r.confine(st, def) {
		o.Auth = nil
	}
	eng, err := n.engineFor(def, o)
	if err != nil {
		return nil, fmt.Errorf("nested step %s (%s): %w", st.ID, describeRow(row, n.used), err)
	}
	if err := acquire(ctx, st.sem); err != nil {
		return nil, err
	}
	defer release(st.sem)
	if err := acquire(ctx, x.r.sem); err != nil {
		return nil, err
	}
	defer release(x.r.sem)
	var events []string
	_, err = eng.PollWindow(ctx, x.w, "", "", func(_ context.Context, p poller.Page) error {
		events = append(events, p.Events...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nested step %s (%s): %w", st.ID, describeRow(row, n.used), err)
	}
	return events, nil
}

func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func release(sem chan struct{}) { <-sem }

// describeRow names the placeholders of a failed call; values are cut short (they are
// vendor ids and paths, not secrets, but may be long).
func describeRow(row kql.Row, used []string) string {
	parts := make([]string, 0, len(used))
	for _, k := range used {
		v := row[k]
		if len(v) > 80 {
			v = v[:80] + "..."
		}
		parts = append(parts, fmt.Sprintf("$%s$=%q", k, v))
	}
	if len(parts) == 0 {
		return "no placeholders"
	}
	return strings.Join(parts, ", ")
}

// attach sets rec[name] to the step result: absent when the step returned nothing, the
// event itself for one event, an array for several. A record that is not an object is
// wrapped as {"data": record} first.
func attach(rec, name string, events []string) (string, error) {
	if len(events) == 0 {
		return rec, nil
	}
	t := strings.TrimSpace(rec)
	if !strings.HasPrefix(t, "{") {
		t = `{"data":` + t + `}`
	}
	val := events[0]
	if len(events) > 1 {
		val = "[" + strings.Join(events, ",") + "]"
	}
	if !json.Valid([]byte(val)) {
		return "", fmt.Errorf("child result is not valid JSON")
	}
	return sjson.SetRaw(t, sjsonkey.Path(name), val)
}

// engineFor derives the call's engine from the step's, which compiled the step's response
// paths and time format once; a call whose filled definition changed them (a placeholder in
// the response) gets an engine of its own.
func (n *node) engineFor(def *definition.Definition, o poller.Options) (*poller.Engine, error) {
	if n.engine != nil && def.Request.QueryTimeFormat == n.timeFormat && reflect.DeepEqual(def.Response, n.response) {
		return n.engine.ForCall(def, o.Auth)
	}
	return poller.New(def, o)
}
