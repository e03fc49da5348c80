package soak

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/demoenv"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

const (
	// pageSize is the vendor API's page (and the receiver's pageSize): the collector hands
	// whole pages to the pipeline.
	pageSize = 1000
	// maxInFlight is the receiver's default max_in_flight: at most this many pages are in the
	// pipeline, not yet accepted, so a kill re-sends at most this many.
	maxInFlight = 8
	// minUptime: a kill waits until the current process has run this long, so kills hit a
	// working collector rather than piling up on one start.
	minUptime = 3 * time.Second
	// Ingestion 429 bursts: burstLen × 429 (Retry-After 1 s) every burstEvery. At the
	// exporter's default backoff (5 s, × 1.5, ± 50 %; a Retry-After only lengthens it) a burst
	// of 2 costs about 12 s; the former 3 every 20 s would keep the one request in flight
	// throttled for good (each burst outlasts the interval).
	burstLen   = 2
	burstEvery = 2 * time.Minute
	// drainLimit bounds the wait, after the last event is ingested, for retries in progress.
	drainLimit = 3 * time.Minute
)

// killPoint is one kill -9: when a number of events has been ingested, or (incident kills)
// this long after the incident began; then after a further random delay.
type killPoint struct {
	at    int
	after time.Duration
	delay time.Duration
}

type runner struct {
	t     *testing.T
	sc    scenario
	env   *demoenv.Env
	tally *tally
	state string
	cenv  []string
	rng   *rand.Rand
	rep   *Report
	start time.Time

	p        *proc
	logs     []string
	peak     int64     // max VmHWM (kB) over the processes
	launched time.Time // start of the current process
	killedAt []time.Time

	kills, incKills []killPoint
	inc             *incident
	incFlags        incidentFlags
	burstSeed       uint64
}

func (r *runner) ingestFaults(seed uint64, burst int) logsingestion.Faults {
	f := logsingestion.Faults{RejectRow: r.tally.see, Seed: seed,
		Forbidden: r.incFlags.forbidden, RefuseClientSecret: r.incFlags.refuseSecret, DCRNotFound: r.incFlags.dcrNotFound}
	if r.sc.faults {
		f.Fail503Rate = r.sc.fail503Rate
		f.DropConnRate = r.sc.dropRate
		f.Throttle429Next = burst
		f.RetryAfter = time.Second
	}
	return f
}

// run executes one scenario and returns its report. It checks the harness itself (kills done,
// the row tap agrees with the emulator); the scenario's assertions are the caller's.
func run(t *testing.T, sc scenario) *Report {
	t.Helper()
	r := &runner{t: t, start: time.Now()}
	r.sc = sc.withDefaults(t, r.start)
	sc = r.sc
	r.rng = rand.New(rand.NewPCG(sc.seed, 0x5eed))
	r.tally = newTally(sc.events)
	r.state = t.TempDir()
	if keep := os.Getenv("CCP_SOAK_KEEP"); keep != "" {
		// Keep the collector logs and state for inspection.
		r.state = filepath.Join(keep, sc.name)
		require.NoError(t, os.RemoveAll(r.state))
		require.NoError(t, os.MkdirAll(r.state, 0o700))
	}
	r.startEnv()
	defer r.env.Close()
	r.planKills()

	r.launch()
	defer func() {
		if !r.p.exited() {
			r.p.kill()
		}
	}()
	r.loop()
	if !r.rep.IngestTimedOut {
		r.drain()
	}
	if !r.p.exited() {
		// A collector stopped before it installed its signal handler dies of the SIGTERM.
		waitReady(r.p, r.logs[len(r.logs)-1], 30*time.Second)
		if err := r.p.stop(60 * time.Second); err != nil {
			t.Errorf("stopping the collector: %v; log tail:\n%s", err, tail(r.logs[len(r.logs)-1], 40))
		}
	}
	r.retire(r.p)
	rep := r.rep
	rep.WallSeconds = time.Since(r.start).Seconds()
	assert.Equal(t, sc.kills, rep.Kills, "kill -9s done")
	rep.PeakRSSMiB = float64(r.peak) / 1024
	r.incidentReport(rep)
	r.figures(rep)
	writeReport(t, rep)
	if rep.Missing > 0 || rep.IngestTimedOut {
		for _, l := range r.logs {
			t.Logf("log %s (tail):\n%s", l, tail(l, 30))
		}
	}
	return rep
}

// withDefaults fills the scenario's zero values and applies the CCP_SOAK_* knobs.
func (sc scenario) withDefaults(t *testing.T, start time.Time) scenario {
	if sc.end.IsZero() {
		sc.end = start.UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	}
	if sc.lookback == 0 {
		sc.lookback = sc.span + time.Hour
	}
	if sc.window == 0 {
		sc.window = 5
	}
	if sc.seed == 0 {
		sc.seed = 1
	}
	if v := os.Getenv("CCP_SOAK_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "CCP_SOAK_SEED")
		sc.seed = s
	}
	if v := os.Getenv("CCP_SOAK_KILLS"); v != "" && sc.kills > 0 {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "CCP_SOAK_KILLS")
		sc.kills = n
	}
	if v := os.Getenv("CCP_SOAK_DROP_RATE"); v != "" && sc.faults {
		f, err := strconv.ParseFloat(v, 64)
		require.NoError(t, err, "CCP_SOAK_DROP_RATE")
		sc.dropRate = f
	}
	if v := os.Getenv("CCP_SOAK_INCIDENT_PHASE"); v != "" && sc.incidentPhase > 0 {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "CCP_SOAK_INCIDENT_PHASE")
		sc.deadline += 3 * (d - sc.incidentPhase)
		sc.incidentPhase = d
	}
	if sc.incidentPhase <= 0 {
		sc.incidentKills = 0
	}
	sc.incidentKills = min(sc.incidentKills, sc.kills)
	return sc
}

// startEnv starts both emulators and prepares the collector's environment.
func (r *runner) startEnv() {
	sc := r.sc
	env, err := demoenv.Start(demoenv.Options{
		VendorAddr: "127.0.0.1:0", IngestAddr: "127.0.0.1:0", StateDir: r.state, Events: sc.events,
		Vendor: func(c *vendorapi.Config) {
			c.End, c.Span = sc.end, sc.span
			c.Seed = int64(sc.seed)
			c.Auth, c.ClientID, c.ClientSecret = vendorapi.AuthOAuth2, "soak-client", "soak-secret"
			c.APIKey, c.APIKeyHeader = "", ""
			c.Paging, c.PageSize, c.MaxPageSize = sc.paging, pageSize, pageSize
			c.NextField, c.TokenParam = "next", "cursor"
			c.LateFraction, c.LateBy = sc.late, sc.lateBy
			if sc.faults {
				c.Faults = vendorapi.Faults{
					ErrorRate:    0.05,
					ThrottleRate: 0.02, ThrottleBurst: 3, RetryAfter: time.Second,
					SlowRate: 0.05, SlowDelay: 1500 * time.Millisecond,
				}
			}
		},
		Ingest: func(o *logsingestion.Options) { o.Faults = r.ingestFaults(sc.seed, 0) },
	})
	require.NoError(r.t, err)
	r.env = env
	r.burstSeed = sc.seed

	pagingName := map[vendorapi.PagingMode]string{
		vendorapi.PagingNextPageToken:   "NextPageToken",
		vendorapi.PagingPersistentToken: "PersistentToken",
	}[sc.paging]
	require.NotEmpty(r.t, pagingName, "the soak config supports NextPageToken and PersistentToken")
	r.rep = &Report{Scenario: sc.name, Paging: pagingName, Events: sc.events}
	r.cenv = []string{
		"CCP_SOAK_STATE=" + filepath.Join(r.state, "state"),
		"CCP_SOAK_LOOKBACK=" + sc.lookback.String(),
		"CCP_SOAK_API_URL=" + env.Vendor.URL(),
		"CCP_SOAK_API_CLIENT_ID=soak-client",
		"CCP_SOAK_API_CLIENT_SECRET=soak-secret",
		"CCP_SOAK_DCE=" + env.Ingest.IngestURL(),
		"CCP_SOAK_PAGING=" + pagingName,
		"CCP_SOAK_WINDOW_MIN=" + strconv.Itoa(sc.window),
		"CCP_SOAK_DELAY_MIN=" + strconv.Itoa(sc.delay),
		"CCP_SOAK_AUTHORITY=" + env.Ingest.AuthorityHost(),
		"CCP_SOAK_CA=" + env.Ingest.CAFile(),
		"CCP_SOAK_CLIENT_SECRET=" + demoenv.ClientSecret,
	}
}

// planKills draws the kill points and the incident's start from the scenario's seed: kills at
// random fractions (5–90 %) of the events ingested, incident kills at random times inside the
// incident, and the incident when 20–60 % of the events have been ingested.
func (r *runner) planKills() {
	sc := r.sc
	for range sc.kills - sc.incidentKills {
		r.kills = append(r.kills, killPoint{at: int(float64(sc.events) * (0.05 + 0.85*r.rng.Float64())),
			delay: time.Duration(r.rng.Int64N(int64(2 * time.Second)))})
	}
	slices.SortFunc(r.kills, func(a, b killPoint) int { return a.at - b.at })
	if sc.incidentPhase <= 0 {
		return
	}
	r.inc = &incident{at: int(float64(sc.events) * (0.2 + 0.4*r.rng.Float64())), phase: sc.incidentPhase, cur: -1}
	span := max(3*sc.incidentPhase-10*time.Second, time.Second) // the kill lands at least 5 s inside
	for range sc.incidentKills {
		r.incKills = append(r.incKills, killPoint{after: 5*time.Second + time.Duration(r.rng.Int64N(int64(span))),
			delay: time.Duration(r.rng.Int64N(int64(2 * time.Second)))})
	}
	slices.SortFunc(r.incKills, func(a, b killPoint) int { return int(a.after - b.after) })
}

func (r *runner) launch() {
	path := filepath.Join(r.state, fmt.Sprintf("collector-%d.log", r.rep.Starts))
	p, err := startCollector(r.cenv, path)
	require.NoError(r.t, err)
	r.logs = append(r.logs, path)
	r.rep.Starts++
	r.tally.setGen(r.rep.Starts)
	r.launched = time.Now()
	r.p = p
}

func (r *runner) retire(p *proc) { r.peak = max(r.peak, p.hwm) }

// loop runs until every event is ingested, every kill is done and the incident is over, or
// until the deadline.
func (r *runner) loop() {
	t, sc, rep := r.t, r.sc, r.rep
	var nextExpire, nextBurst time.Time
	if sc.faults {
		nextExpire = time.Now().Add(15 * time.Second)
		nextBurst = time.Now().Add(10 * time.Second)
	}
	deadline := r.start.Add(sc.deadline)
	done := sc.done
	if done == nil {
		done = func(r *runner) bool {
			u, _ := r.tally.snapshot()
			return u >= r.sc.events
		}
	}
	const maxUnexpected = 3
	for tick := 0; ; tick++ {
		finished := done(r)
		if finished && len(r.kills)+len(r.incKills) == 0 && r.inc.over() {
			return
		}
		now := time.Now()
		if now.After(deadline) {
			rep.IngestTimedOut = true
			return
		}
		if r.p.exited() {
			rep.UnexpectedExits++
			t.Errorf("the collector exited on its own (%v); log tail:\n%s", r.p.err, tail(r.logs[len(r.logs)-1], 40))
			r.retire(r.p)
			if rep.UnexpectedExits >= maxUnexpected {
				return
			}
			r.launch()
			continue
		}
		if tick%5 == 0 {
			r.p.sampleRSS()
		}
		// Faults that are events rather than rates: token expiry and 429 bursts on ingestion.
		if sc.faults && now.After(nextExpire) {
			r.env.Vendor.ExpireTokens()
			rep.TokenExpiries++
			nextExpire = now.Add(15 * time.Second)
		}
		// No burst while the incident refuses everything (the emulator checks the incident
		// first; a burst set then would only be wiped by the next sub-phase): it comes at its end.
		if sc.faults && now.After(nextBurst) && !r.inc.active() {
			r.burstSeed++
			r.env.Ingest.SetFaults(r.ingestFaults(r.burstSeed, burstLen))
			rep.Ingest429Bursts++
			nextBurst = now.Add(burstEvery)
		}
		r.stepIncident(t)
		if delay, ok := r.dueKill(finished); ok {
			r.killAndRestart(delay)
			continue
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dueKill takes the next kill that is due, if any. A run that finished early still gets all
// its ingestion-point kills (and must then still be whole).
func (r *runner) dueKill(finished bool) (time.Duration, bool) {
	if time.Since(r.launched) < minUptime {
		return 0, false
	}
	if len(r.incKills) > 0 && r.inc.cur >= 0 && time.Since(r.inc.start) >= r.incKills[0].after {
		k := r.incKills[0]
		r.incKills = r.incKills[1:]
		return k.delay, true
	}
	if len(r.kills) > 0 {
		if u, _ := r.tally.snapshot(); u >= r.kills[0].at || finished {
			k := r.kills[0]
			r.kills = r.kills[1:]
			return k.delay, true
		}
	}
	return 0, false
}

// killAndRestart kills the collector with SIGKILL after delay and starts it again after a
// pause in which the emulator can finish what the dead process had sent.
func (r *runner) killAndRestart(delay time.Duration) {
	rep := r.rep
	time.Sleep(delay)
	r.p.kill()
	r.killedAt = append(r.killedAt, time.Now())
	during := r.inc.active()
	if during {
		r.inc.kills++
	}
	before := r.tally.setDead()
	r.retire(r.p)
	rep.Kills++
	u, _ := r.tally.snapshot()
	time.Sleep(500*time.Millisecond + time.Duration(r.rng.Int64N(int64(time.Second))))
	after := r.tally.setDead()
	rep.RowsStoredAfterKill += after - before
	where := ""
	if during {
		where = fmt.Sprintf(" (during the incident: %s)", incidentPhaseNames[r.inc.cur])
	}
	r.t.Logf("%s: kill -9 #%d at %d/%d events ingested%s; %d rows of its in-flight requests stored after it died",
		r.sc.name, rep.Kills, u, r.sc.events, where, after-before)
	r.launch()
}

// drain lets retries in progress finish: a row stored in a dropped connection is sent again,
// after a backoff of up to 45 s at the exporter's defaults (30 s max interval ± 50 %). It ends
// once every such row has a later copy and the ingestion endpoint has been quiet for 6 s
// (a page polled again after a last kill has landed), or after drainLimit.
func (r *runner) drain() {
	last, quiet := r.env.Ingest.Stats().Requests, time.Now()
	for limit := time.Now().Add(drainLimit); time.Now().Before(limit); {
		time.Sleep(500 * time.Millisecond)
		if n := r.env.Ingest.Stats().Requests; n != last {
			last, quiet = n, time.Now()
		}
		if time.Since(quiet) >= 6*time.Second && r.tally.unresent(r.env.Ingest.Requests()) == 0 {
			return
		}
	}
	r.t.Logf("%s: retries still pending after %s", r.sc.name, drainLimit)
}
