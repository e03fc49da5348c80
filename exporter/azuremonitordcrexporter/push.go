package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
)

// pushState follows the records of one push until each has a final outcome.
type pushState struct {
	refs     []recRef
	done     []bool // accepted by the service or dropped for good
	dead     map[route]error
	permErrs []error
}

// rowRef is one record of one push, as it travels in requests.
type rowRef struct {
	st *pushState
	i  int
}

func (st *pushState) kill(r route, err error) {
	if st.dead == nil {
		st.dead = map[route]error{}
	}
	if _, ok := st.dead[r]; !ok {
		st.dead[r] = err
		st.permErrs = append(st.permErrs, err)
	}
}

func (st *pushState) isDead(r route) bool {
	_, dead := st.dead[r]
	return dead
}

func (st *pushState) markDone(idxs []int) {
	for _, i := range idxs {
		st.done[i] = true
	}
}

// settle marks rows as having their final outcome (accepted, or dropped for good).
func settle(rows []rowRef) {
	for _, x := range rows {
		x.st.done[x.i] = true
	}
}

func (e *dcrExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	if ld.LogRecordCount() == 0 {
		return nil
	}
	rt := e.routeRecords(ld)
	st := &pushState{refs: rt.refs, done: make([]bool, len(rt.refs))}
	// Every destination gets its chance: one refusing (a DCR being redeployed) does not hold
	// back the others; only the records not done go back to the retry.
	var retryErr error
	for _, r := range rt.order {
		err := e.sendRecords(ctx, st, r, rt.byRoute[r])
		switch {
		case err == nil:
		case consumererror.IsPermanent(err):
			// Only this destination's records are lost (an internal packing error);
			// another destination's records waiting for a retry stay queued.
			st.kill(r, err)
			st.markDone(rt.byRoute[r])
			continue
		case retryErr == nil:
			retryErr = err
		}
		if err != nil && ctx.Err() != nil {
			break
		}
	}
	return st.result(ld, retryErr)
}

// result is the push's answer to exporterhelper: the records not done with a retryable error,
// else the permanent errors, if any.
func (st *pushState) result(ld plog.Logs, retryErr error) error {
	if retryErr != nil {
		if rem := remaining(ld, st.done); rem.LogRecordCount() > 0 {
			return consumererror.NewLogs(retryErr, rem)
		}
	}
	if len(st.permErrs) > 0 {
		return consumererror.NewPermanent(errors.Join(st.permErrs...))
	}
	return nil
}

// remaining copies the records not marked done, keeping their resource and scope.
func remaining(ld plog.Logs, done []bool) plog.Logs {
	out := plog.NewLogs()
	i := 0
	rls := ld.ResourceLogs()
	for a := 0; a < rls.Len(); a++ {
		rl := rls.At(a)
		var orl plog.ResourceLogs
		haveRL := false
		sls := rl.ScopeLogs()
		for b := 0; b < sls.Len(); b++ {
			sl := sls.At(b)
			var osl plog.ScopeLogs
			haveSL := false
			lrs := sl.LogRecords()
			for c := 0; c < lrs.Len(); c++ {
				if !done[i] {
					if !haveRL {
						orl = out.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(orl.Resource())
						orl.SetSchemaUrl(rl.SchemaUrl())
						haveRL = true
					}
					if !haveSL {
						osl = orl.ScopeLogs().AppendEmpty()
						sl.Scope().CopyTo(osl.Scope())
						osl.SetSchemaUrl(sl.SchemaUrl())
						haveSL = true
					}
					lrs.At(c).CopyTo(osl.LogRecords().AppendEmpty())
				}
				i++
			}
		}
	}
	return out
}
