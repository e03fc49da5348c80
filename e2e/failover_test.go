package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failoverBudget bounds the whole failover test; every wait takes at most what is left of it.
const failoverBudget = 170 * time.Second

// TestFailover runs one etcd, three replicas of the built distro with the same config (six ccp
// receivers on one ccp_coordinator) and one vendor-API emulator per connector whose events keep
// appearing. One replica is killed with kill -9; another is paused with SIGSTOP for twice the
// lease duration while it waits for a page, then continued. Asserted: no event missing; at
// most one page delivered twice per connector that failed over; no two replicas polling a
// connector at the same time for longer than the renew deadline; the paused replica's late
// checkpoint write refused; every connector led by exactly one replica and none leading more
// than ⌈N/R⌉ + 1, before and after the faults.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("failover end-to-end test: not run with -short")
	}
	deadline := time.Now().Add(failoverBudget)
	left := func(limit time.Duration) time.Duration { return min(limit, time.Until(deadline)) }
	c, err := StartHA(HAOptions{Collector: collector, Root: root, Dir: haDir(t)})
	require.NoError(t, err)
	defer c.Close()
	o := c.Opts

	before, err := c.WaitSettled(left(45 * time.Second))
	require.NoError(t, err, clusterLogs(c))
	t.Logf("settled after %s: %v", time.Since(c.Start).Round(time.Second), before)

	// kill -9 the replica leading the most connectors; the others take its connectors over.
	victim := mostLeading(c, before)
	failedOver := map[string]int{}
	for _, conn := range before[victim.Name] {
		failedOver[conn]++
	}
	victim.Kill()
	killedAt := time.Now()
	afterKill, err := c.WaitSettled(left(4*o.Lease + 10*time.Second))
	require.NoError(t, err, clusterLogs(c))
	t.Logf("%s killed; its %d connectors led again within %s: %v", victim.Name, len(before[victim.Name]),
		time.Since(killedAt).Round(100*time.Millisecond), afterKill)

	// SIGSTOP a leader while its request waits in the emulator, for twice the lease duration;
	// at SIGCONT it finds its terms over and stops polling (the overlap check below), and a
	// state write it makes is refused.
	paused := mostLeading(c, afterKill)
	pausedLed, mark, err := c.PauseWhilePolling(paused, 2*o.Lease, left(65*time.Second))
	require.NoError(t, err, clusterLogs(c))
	for _, conn := range pausedLed {
		failedOver[conn]++
	}
	lateRefused := paused.WaitFenced(mark, left(5*time.Second))
	t.Logf("%s paused for %s while waiting for a page, leading %v; continued; a late write refused: %v",
		paused.Name, 2*o.Lease, pausedLed, lateRefused)
	_, err = c.WaitSettled(left(30 * time.Second))
	require.NoError(t, err, clusterLogs(c))

	// A leader deposed in etcd while it runs writes before its next renewal tells it: refused.
	if !lateRefused {
		lateRefused = deposeUntilFenced(t, c, failedOver, left)
	}
	assert.True(t, lateRefused, "no late write was refused (otelcol_ccp_fenced_writes, log line)")

	final, err := c.WaitSettled(left(30 * time.Second))
	require.NoError(t, err, clusterLogs(c))
	t.Logf("settled after the faults: %v", final)

	cut := time.Now().Truncate(time.Minute)
	c.WaitIngested(cut, left(90*time.Second))
	rep, problems := c.Check(cut, failedOver, time.Second)
	assert.Empty(t, problems)
	t.Logf("%d events before %s; duplicates %v; fault failovers %v; polling replica changes %v; longest overlap %s (%d overlaps)",
		rep.Events, cut.Format(time.TimeOnly), rep.Duplicates, rep.FailedOver, rep.Handovers, rep.MaxOverlap, len(rep.Overlaps))
	t.Logf("failover test took %s", time.Since(c.Start).Round(time.Second))
}

// deposeUntilFenced deposes the replica leading the most connectors, in etcd, while its vendor
// request is held, and waits for its refused write. A write must come before the replica's
// next renewal (at most retry_period later) tells it: it tries up to five times.
func deposeUntilFenced(t *testing.T, c *HACluster, failedOver map[string]int, left func(time.Duration) time.Duration) bool {
	for attempt := range 5 {
		leaders, err := c.WaitSettled(left(30 * time.Second))
		require.NoError(t, err, clusterLogs(c))
		r := mostLeading(c, leaders)
		led, mark, err := c.DeposeWhilePolling(r, left(30*time.Second))
		require.NoError(t, err)
		for _, conn := range led {
			failedOver[conn]++
		}
		refused := r.WaitFenced(mark, left(3*time.Second))
		t.Logf("attempt %d: %s deposed in etcd while polling, leading %v; late write refused: %v", attempt+1, r.Name, led, refused)
		if refused {
			return true
		}
	}
	return false
}

// haDir is the cluster's directory (configs, logs, etcd data): a temporary one, or one under
// CCP_E2E_KEEP, kept for inspection.
func haDir(t *testing.T) string {
	keep := os.Getenv("CCP_E2E_KEEP")
	if keep == "" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp(keep, "failover-")
	require.NoError(t, err)
	t.Logf("logs and state kept in %s", dir)
	return dir
}

// mostLeading returns the active replica leading the most connectors.
func mostLeading(c *HACluster, leaders map[string][]string) *Replica {
	var best *Replica
	for _, r := range c.Replicas {
		if r.Active() && (best == nil || len(leaders[r.Name]) > len(leaders[best.Name])) {
			best = r
		}
	}
	return best
}

// clusterLogs is the tail of every replica's log, for a failure message.
func clusterLogs(c *HACluster) string {
	var b strings.Builder
	for _, r := range c.Replicas {
		b.WriteString("--- " + r.Name + "\n" + r.LogTail(25) + "\n")
	}
	return b.String()
}
