package e2e

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/demoenv"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// Ingested counts the rows of connector i by event id.
func (c *HACluster) Ingested(i int) map[string]int {
	seen := map[string]int{}
	for _, row := range c.Ingest.Rows(demoenv.DCRImmutableID, c.Stream(i)) {
		if id, ok := row["id"].(string); ok {
			seen[id]++
		}
	}
	return seen
}

// Missing returns, per connector with a gap, the events with a time before cut that were
// never ingested (at most 5 ids each, and how many).
func (c *HACluster) Missing(cut time.Time) map[string]string {
	out := map[string]string{}
	for i, v := range c.Vendors {
		seen := c.Ingested(i)
		var miss []string
		for _, id := range v.IDsIn(time.Unix(0, 0), cut) {
			if seen[id] == 0 {
				miss = append(miss, id)
			}
		}
		if len(miss) > 0 {
			out[c.Connector(i)] = fmt.Sprintf("%d missing, first %v", len(miss), miss[:min(5, len(miss))])
		}
	}
	return out
}

// Duplicates counts, per connector, the rows beyond the first of each event.
func (c *HACluster) Duplicates() map[string]int {
	out := map[string]int{}
	for i := range c.Vendors {
		for _, n := range c.Ingested(i) {
			out[c.Connector(i)] += n - 1
		}
	}
	return out
}

// Handovers counts, per connector, how often the replica polling it changed (requests in start
// order): every failover, rebalance or resignation shows as one.
func (c *HACluster) Handovers() map[string]int {
	out := map[string]int{}
	for i, v := range c.Vendors {
		reqs := v.ReplicaRequests()
		slices.SortStableFunc(reqs, func(a, b vendorapi.ReplicaRequest) int { return a.Start.Compare(b.Start) })
		for k := 1; k < len(reqs); k++ {
			if reqs[k].Replica != reqs[k-1].Replica {
				out[c.Connector(i)]++
			}
		}
	}
	return out
}

// Overlaps is every connector's overlap report (see vendorapi.Server.Overlaps).
func (c *HACluster) Overlaps(gap time.Duration) []vendorapi.Overlap {
	var out []vendorapi.Overlap
	for _, v := range c.Vendors {
		out = append(out, v.Overlaps(gap)...)
	}
	return out
}

// Leaders returns, for each active replica, the connectors it leads by its metrics.
func (c *HACluster) Leaders() (map[string][]string, error) {
	out := map[string][]string{}
	for _, r := range c.Replicas {
		if !r.Active() {
			continue
		}
		leads, err := r.Leads()
		if err != nil {
			return nil, err
		}
		out[r.Name] = leads
	}
	return out, nil
}

// BalanceBound is ⌈N/R⌉ + 1 for R active replicas.
func (c *HACluster) BalanceBound() int {
	active := 0
	for _, r := range c.Replicas {
		if r.Active() {
			active++
		}
	}
	return int(math.Ceil(float64(c.Opts.Connectors)/float64(max(active, 1)))) + 1
}

// settled says why leadership is not settled ("" when it is): every connector led by exactly
// one active replica, none leading more than the balance bound.
func (c *HACluster) settled(leaders map[string][]string) string {
	count := map[string]int{}
	for r, conns := range leaders {
		if len(conns) > c.BalanceBound() {
			return fmt.Sprintf("%s leads %d connectors, more than %d", r, len(conns), c.BalanceBound())
		}
		for _, conn := range conns {
			count[conn]++
		}
	}
	for i := range c.Opts.Connectors {
		if n := count[c.Connector(i)]; n != 1 {
			return fmt.Sprintf("%s has %d leaders", c.Connector(i), n)
		}
	}
	return ""
}

// WaitSettled waits (at most limit) until leadership is settled and returns who leads what.
func (c *HACluster) WaitSettled(limit time.Duration) (map[string][]string, error) {
	deadline := time.Now().Add(limit)
	why := "no scrape yet"
	for time.Now().Before(deadline) {
		if err := c.checkAlive(); err != nil {
			return nil, err
		}
		leaders, err := c.Leaders()
		if err == nil {
			if why = c.settled(leaders); why == "" {
				return leaders, nil
			}
		} else {
			why = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return nil, fmt.Errorf("leadership not settled within %s: %s", limit, why)
}

// checkAlive fails when a replica that should run has exited (killed ones are not running
// because the test killed them, so only a crash of an active replica counts).
func (c *HACluster) checkAlive() error {
	for _, r := range c.Replicas {
		r.mu.Lock()
		crashed := r.cmd != nil && isDone(r.done) && r.cmd.ProcessState != nil &&
			!strings.Contains(r.cmd.ProcessState.String(), "killed")
		r.mu.Unlock()
		if crashed {
			return fmt.Errorf("replica %s exited (%s); log tail:\n%s", r.Name, r.cmd.ProcessState, r.LogTail(30))
		}
	}
	return nil
}

// WaitIngested waits (at most limit) until every event before cut is ingested; it returns the
// gaps left at the deadline.
func (c *HACluster) WaitIngested(cut time.Time, limit time.Duration) map[string]string {
	deadline := time.Now().Add(limit)
	for {
		miss := c.Missing(cut)
		if len(miss) == 0 || time.Now().After(deadline) {
			return miss
		}
		if err := c.checkAlive(); err != nil {
			miss["crash"] = err.Error()
			return miss
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// HAReport is what a failover run measured.
type HAReport struct {
	Cut        time.Time           `json:"cut"`         // events before this must be ingested
	Events     int                 `json:"events"`      // events before Cut, all connectors
	Missing    map[string]string   `json:"missing"`     // per connector with a gap
	Duplicates map[string]int      `json:"duplicates"`  // rows beyond the first, per connector
	FailedOver map[string]int      `json:"failed_over"` // leaders killed, paused or deposed
	Handovers  map[string]int      `json:"handovers"`   // changes of the polling replica, all causes
	Overlaps   []vendorapi.Overlap `json:"overlaps"`
	MaxOverlap time.Duration       `json:"max_overlap"`
}

// Check measures the run: events before cut missing, duplicates, and overlaps (gap as in
// vendorapi's Overlaps). It returns the report and what breaks the guarantees: a missing event;
// more than one page delivered twice per failover, counted per connector as the faults on its
// leader (failedOver: kills, pauses, deposes; the same replica may lead again after one) plus
// the changes of the replica polling it (Handovers: faults, and leaders letting a connector go
// to balance the load), so a connector that never failed over has none; two replicas polling
// one connector at once for longer than the renew deadline.
func (c *HACluster) Check(cut time.Time, failedOver map[string]int, gap time.Duration) (HAReport, []string) {
	rep := HAReport{Cut: cut, Missing: c.Missing(cut), Duplicates: c.Duplicates(), FailedOver: failedOver,
		Handovers: c.Handovers(), Overlaps: c.Overlaps(gap)}
	for _, v := range c.Vendors {
		rep.Events += len(v.IDsIn(time.Unix(0, 0), cut))
	}
	var problems []string
	for conn, m := range rep.Missing {
		problems = append(problems, fmt.Sprintf("%s: %s", conn, m))
	}
	for i := range c.Opts.Connectors {
		conn := c.Connector(i)
		failovers := failedOver[conn] + rep.Handovers[conn]
		if d, limit := rep.Duplicates[conn], failovers*c.Opts.PageSize; d > limit {
			problems = append(problems, fmt.Sprintf("%s: %d duplicates, more than one page (%d) per failover (%d)", conn, d, c.Opts.PageSize, failovers))
		}
	}
	for _, ov := range rep.Overlaps {
		rep.MaxOverlap = max(rep.MaxOverlap, ov.Length())
		if ov.Length() > c.Opts.Renew {
			problems = append(problems, fmt.Sprintf("%s: %s and %s polled at the same time for %s, longer than the renew deadline %s",
				ov.Connector, ov.Replicas[0], ov.Replicas[1], ov.Length(), c.Opts.Renew))
		}
	}
	slices.Sort(problems)
	return rep, problems
}

// PauseWhilePolling holds r's next vendor request (waiting at most waitLimit for one), pauses r
// with SIGSTOP, lets the emulator answer (the page waits in the paused process's socket) and
// continues r with SIGCONT after pause. It returns the connectors r led when paused and r's
// refused writes until then (for WaitFenced).
func (c *HACluster) PauseWhilePolling(r *Replica, pause, waitLimit time.Duration) ([]string, FencedMark, error) {
	return c.whilePolling(r, waitLimit, func() error {
		if err := r.Pause(); err != nil {
			return err
		}
		c.gate.releaseAll()
		time.Sleep(pause)
		return r.Resume()
	})
}

// whilePolling holds r's next vendor request (waiting at most waitLimit for one), notes whom r
// leads and its refused writes, runs fault and lets the emulator answer.
func (c *HACluster) whilePolling(r *Replica, waitLimit time.Duration, fault func() error) ([]string, FencedMark, error) {
	held, release := c.HoldNext(r.Name)
	defer release()
	select {
	case <-held:
	case <-time.After(waitLimit):
		return nil, FencedMark{}, fmt.Errorf("%s made no vendor request within %s", r.Name, waitLimit)
	}
	leads, err := r.Leads()
	if err != nil {
		return nil, FencedMark{}, err
	}
	mark := r.Fenced()
	return leads, mark, fault()
}

// FencedMark is how many state writes a replica had seen refused: counted by its current
// process (otelcol_ccp_fenced_writes) and logged by all its processes.
type FencedMark struct {
	Counted float64
	Logged  int
}

// fencedLog is in the receiver's and the coordinator's log lines for a refused write.
const fencedLog = "refused a state write"

// Fenced returns the replica's refused writes so far.
func (r *Replica) Fenced() FencedMark {
	n, _ := r.Counter("otelcol_ccp_fenced_writes")
	return FencedMark{Counted: n, Logged: strings.Count(strings.ToLower(r.Log()), fencedLog)}
}

// WaitFenced waits (at most limit) until r has a refused write more than at since: counted
// (otelcol_ccp_fenced_writes), or at least logged.
func (r *Replica) WaitFenced(since FencedMark, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		now := r.Fenced()
		if now.Counted > since.Counted || now.Logged > since.Logged {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}
