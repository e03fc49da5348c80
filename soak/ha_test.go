package soak

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/e2e"
)

// TestSoakHA (make soak-ha, CCP_SOAK=ha) runs three replicas of the built distro with eight
// coordinated connectors on one etcd for CCP_SOAK_HA_FAULTS (default 10 min) of repeated faults,
// one every 15–30 s in turn: kill -9 of a random replica (restarted 2–6 s later under the same
// identity); SIGSTOP of a random replica while it waits for a page, for 1.5–3 lease durations;
// a random replica deposed in etcd (its leases revoked) while it waits for a page. Asserted as
// in the failover test, over the whole run: no event missing, at most one page delivered twice
// per change of a connector's poller, no two replicas polling a connector at once for longer
// than the renew deadline, late writes refused, leadership settled and balanced after every
// fault. See README.md, "High availability".
func TestSoakHA(t *testing.T) {
	if os.Getenv("CCP_SOAK") != "ha" {
		t.Skip("set CCP_SOAK=ha (make soak-ha)")
	}
	faults := 10 * time.Minute
	if v := os.Getenv("CCP_SOAK_HA_FAULTS"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "CCP_SOAK_HA_FAULTS")
		faults = d
	}
	c, err := e2e.StartHA(e2e.HAOptions{Collector: collector, Root: root, Dir: t.TempDir(),
		Connectors: 8, Events: 8000, Lookback: time.Hour, Ahead: faults + 4*time.Minute, SlowDelay: 100 * time.Millisecond})
	require.NoError(t, err)
	defer c.Close()
	h := &haRun{t: t, c: c, rng: rand.New(rand.NewPCG(42, 0x4a)), failedOver: map[string]int{}}
	_, err = c.WaitSettled(60 * time.Second)
	require.NoError(t, err)
	for end := time.Now().Add(faults); time.Now().Before(end); {
		h.sleep(15*time.Second, 30*time.Second)
		switch h.faults % 3 {
		case 0:
			h.kill()
		case 1:
			h.pause()
		default:
			h.depose()
		}
		h.faults++
		h.settle()
	}
	h.finish()
}

// haReport is what the HA soak measured (written to CCP_SOAK_HA_REPORT when set).
type haReport struct {
	e2e.HAReport
	Kills         int       `json:"kills"`
	Pauses        int       `json:"pauses"`
	PausesFenced  int       `json:"pauses_fenced"` // pauses after which a late write was refused
	Deposes       int       `json:"deposes"`
	DeposesFenced int       `json:"deposes_fenced"` // deposes after which a late write was refused
	TakeoverSecs  []float64 `json:"takeover_secs"`  // fault to settled leadership
	SettleFailed  int       `json:"settle_failed"`
	FencedWrites  float64   `json:"fenced_writes"` // otelcol_ccp_fenced_writes, all replicas at the end
	LeaderChanges float64   `json:"leadership_changes"`
	WallSecs      float64   `json:"wall_secs"`
}

type haRun struct {
	t          *testing.T
	c          *e2e.HACluster
	rng        *rand.Rand
	failedOver map[string]int
	rep        haReport
	faults     int
	faultAt    time.Time
}

func (h *haRun) sleep(lo, hi time.Duration) {
	time.Sleep(lo + time.Duration(h.rng.Int64N(int64(hi-lo))))
}

// active returns a random active replica.
func (h *haRun) active() *e2e.Replica {
	var rs []*e2e.Replica
	for _, r := range h.c.Replicas {
		if r.Active() {
			rs = append(rs, r)
		}
	}
	return rs[h.rng.IntN(len(rs))]
}

func (h *haRun) kill() {
	r := h.active()
	leads, err := r.Leads()
	if err != nil {
		h.t.Errorf("scraping %s before the kill: %v", r.Name, err)
	}
	for _, conn := range leads {
		h.failedOver[conn]++
	}
	r.Kill()
	h.faultAt = time.Now()
	h.rep.Kills++
	h.t.Logf("%s: kill -9 %s (leading %v)", time.Since(h.c.Start).Round(time.Second), r.Name, leads)
	h.sleep(2*time.Second, 6*time.Second)
	require.NoError(h.t, r.Start())
}

func (h *haRun) pause() {
	r := h.active()
	o := h.c.Opts
	d := o.Lease*3/2 + time.Duration(h.rng.Int64N(int64(o.Lease*3/2)))
	leads, mark, err := h.c.PauseWhilePolling(r, d, 90*time.Second)
	h.faultAt = time.Now() // settling is timed from SIGCONT
	if err != nil {
		h.t.Errorf("pausing %s: %v", r.Name, err)
		return
	}
	h.rep.Pauses++
	for _, conn := range leads {
		h.failedOver[conn]++
	}
	fenced := r.WaitFenced(mark, 5*time.Second)
	if fenced {
		h.rep.PausesFenced++
	}
	h.t.Logf("%s: SIGSTOP %s for %s (leading %v); late write refused: %v", time.Since(h.c.Start).Round(time.Second), r.Name, d, leads, fenced)
}

// depose revokes a random replica's leases in etcd while its vendor request is held.
func (h *haRun) depose() {
	r := h.active()
	leads, mark, err := h.c.DeposeWhilePolling(r, 90*time.Second)
	h.faultAt = time.Now() // the leases were just revoked
	if err != nil {
		h.t.Errorf("deposing %s: %v", r.Name, err)
		return
	}
	h.rep.Deposes++
	for _, conn := range leads {
		h.failedOver[conn]++
	}
	fenced := r.WaitFenced(mark, 3*time.Second)
	if fenced {
		h.rep.DeposesFenced++
	}
	h.t.Logf("%s: deposed %s in etcd (leading %v); late write refused: %v", time.Since(h.c.Start).Round(time.Second), r.Name, leads, fenced)
}

// settle waits for leadership to settle after a fault and records how long it took.
func (h *haRun) settle() {
	if _, err := h.c.WaitSettled(60 * time.Second); err != nil {
		h.rep.SettleFailed++
		h.t.Errorf("after the fault: %v", err)
		return
	}
	h.rep.TakeoverSecs = append(h.rep.TakeoverSecs, time.Since(h.faultAt).Seconds())
}

func (h *haRun) finish() {
	t, c := h.t, h.c
	cut := time.Now().Truncate(time.Minute)
	c.WaitIngested(cut, 3*time.Minute)
	var problems []string
	h.rep.HAReport, problems = c.Check(cut, h.failedOver, time.Second)
	for _, r := range c.Replicas {
		if n, err := r.Counter("otelcol_ccp_fenced_writes"); err == nil {
			h.rep.FencedWrites += n
		}
		if n, err := r.Counter("otelcol_ccp_leadership_changes"); err == nil {
			h.rep.LeaderChanges += n
		}
	}
	h.rep.WallSecs = time.Since(c.Start).Seconds()
	raw, _ := json.MarshalIndent(h.rep, "", "  ")
	t.Logf("report:\n%s", raw)
	if p := os.Getenv("CCP_SOAK_HA_REPORT"); p != "" {
		assert.NoError(t, os.WriteFile(p, raw, 0o644))
	}
	assert.Empty(t, problems)
	assert.Positive(t, h.rep.PausesFenced+h.rep.DeposesFenced, "late writes of deposed leaders are refused")
	assert.Zero(t, h.rep.SettleFailed)
	assert.Positive(t, h.rep.Kills)
	assert.Positive(t, h.rep.Pauses)
	assert.Positive(t, h.rep.Deposes)
}
