package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.uber.org/zap"
)

// incidentLogEvery is how often an ongoing destination incident is logged again at error level.
const incidentLogEvery = 5 * time.Minute

// incidents follows destination-level refusals that are waited out rather than dropped: the
// credential refused by Entra ID, a 401 after a fresh token, a missing role (403), a DCR or
// stream not (yet) found. They are retried with back-pressure, so the operator must see them:
// an error log naming the fix when an incident starts (and every incidentLogEvery while it
// lasts), a RecoverableError component status, and StatusOK plus an info log once it clears.
type incidents struct {
	log  *zap.Logger
	host component.Host // nil before start

	mu      sync.Mutex
	open    map[route]incident
	now     func() time.Time
	failing bool // the last reported status was an error
}

type incident struct {
	since, logged time.Time
	failures      int
}

func newIncidents(log *zap.Logger) *incidents {
	return &incidents{log: log, open: map[route]incident{}, now: time.Now}
}

func (in *incidents) setHost(h component.Host) {
	in.mu.Lock()
	in.host = h
	in.mu.Unlock()
}

// fail records one refusal of destination r; err already says what to check.
func (in *incidents) fail(r route, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	now := in.now()
	cur, ok := in.open[r]
	if !ok {
		cur.since = now
	}
	cur.failures++
	if !ok || now.Sub(cur.logged) >= incidentLogEvery {
		cur.logged = now
		in.log.Error("The Logs Ingestion destination refuses requests; records are kept and retried (polling receivers pause), nothing is dropped",
			zap.String("dcr_immutable_id", r.dcr), zap.String("stream_name", r.stream),
			zap.Duration("for", now.Sub(cur.since)), zap.Int("failed_attempts", cur.failures), zap.Error(err))
	}
	in.open[r] = cur
	in.failing = true
	in.report(componentstatus.NewRecoverableErrorEvent(err))
}

// probeFailed reports a refusal of the start-up probe: error log and status, but no open
// incident, since records may never go to the probed default destination (they can all carry
// their own DCR); the first accepted request anywhere reports OK again.
func (in *incidents) probeFailed(r route, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.log.Error("The Logs Ingestion destination refuses requests; records are kept and retried (polling receivers pause), nothing is dropped",
		zap.String("dcr_immutable_id", r.dcr), zap.String("stream_name", r.stream), zap.Error(err))
	in.failing = true
	in.report(componentstatus.NewRecoverableErrorEvent(err))
}

// ok records an accepted request for r and closes its incident, if any.
func (in *incidents) ok(r route) {
	in.mu.Lock()
	defer in.mu.Unlock()
	cur, open := in.open[r]
	if open {
		delete(in.open, r)
		in.log.Info("The Logs Ingestion destination accepts requests again",
			zap.String("dcr_immutable_id", r.dcr), zap.String("stream_name", r.stream),
			zap.Duration("after", in.now().Sub(cur.since)), zap.Int("failed_attempts", cur.failures))
	}
	if in.failing && len(in.open) == 0 {
		in.failing = false
		in.report(componentstatus.NewEvent(componentstatus.StatusOK))
	}
}

// report must be called with mu held.
func (in *incidents) report(ev *componentstatus.Event) {
	if in.host != nil {
		componentstatus.ReportStatus(in.host, ev)
	}
}
