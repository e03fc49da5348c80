// Package soak proves that the built distribution (bin/otelcol-ccp) loses no event through
// crashes and faults on both sides: it polls the vendor-API emulator through the ccp receiver
// (file_storage checkpoints) and ships to the Logs Ingestion emulator through the
// azure_monitor_dcr exporter (persistent sending_queue), while the harness injects API 500s,
// 429 bursts with Retry-After, slow pages, OAuth2 token expiry, ingestion 503s and 429s,
// connections dropped after the rows were stored, and kill -9 of the collector.
//
// TestSoakShort (50,000 events) runs in `make test`; TestSoak (1,000,000 events) runs with
// CCP_SOAK=full (`make soak`); TestLateEvents shows queryWindowDelayInMin at work.
// See README.md.
package soak

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/demoenv"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

var (
	root      string
	collector string
	config    string
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	root = filepath.Dir(filepath.Dir(file))
	config = filepath.Join(root, "soak", "testdata", "collector.yaml")
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	src := os.Getenv("CCP_COLLECTOR")
	if src == "" {
		src = filepath.Join(root, "bin", "otelcol-ccp")
		if _, err := os.Stat(src); err != nil {
			// `make test` and `make soak` build first; a bare `go test ./soak/` builds here.
			cmd := exec.Command("make", "-C", root, "build")
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "soak: building the distro failed:", err)
				return 1
			}
		}
	}
	// Run a private copy: a concurrent `make build` replacing bin/otelcol-ccp must not change
	// the binary between the restarts of one soak run.
	dir, err := os.MkdirTemp("", "ccp-soak-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	collector = filepath.Join(dir, "otelcol-ccp")
	if err := copyFile(src, collector); err != nil {
		fmt.Fprintln(os.Stderr, "soak: copying the collector:", err)
		return 1
	}
	return m.Run()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ---- the collector subprocess ----

type proc struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error // valid once done is closed
	hwm  int64 // max VmHWM (kB) seen while the process was alive
}

func startCollector(env []string, logPath string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(collector, "--config", config)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, log: lf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// sampleRSS records the process's peak resident set (VmHWM) so far.
func (p *proc) sampleRSS() {
	if p.exited() {
		return
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && kb > p.hwm {
					p.hwm = kb
				}
			}
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.sampleRSS()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to limit for a clean exit (then kills).
func (p *proc) stop(limit time.Duration) error {
	p.sampleRSS()
	if p.exited() {
		return fmt.Errorf("the collector had already exited: %v", p.err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(limit):
		p.kill()
		return fmt.Errorf("the collector did not stop within %s", limit)
	}
}

// waitReady waits (bounded) until the collector logs that it is running.
func waitReady(p *proc, logPath string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for !p.exited() && time.Now().Before(deadline) {
		if b, err := os.ReadFile(logPath); err == nil && bytes.Contains(b, []byte("Everything is ready")) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ---- what reached the Logs Ingestion emulator ----

// tally counts stored rows per event index as the emulator stores them. It is installed as the
// emulator's RejectRow hook, which sees every row of a request right before the request's rows
// are stored (after the injected 503/429 answers, before a dropped connection), and never
// rejects anything. The final figures are recomputed from Emulator.Rows.
//
// It also notes, for each copy after the first, which collector process (start number) stored
// the first copy and which stored this one, to tell duplicates within one process (retries)
// from those across a kill -9.
type tally struct {
	mu       sync.Mutex
	counts   []uint16
	firstGen []uint16
	firstAt  []int64 // unix ns the first copy was stored
	gen      uint16  // current collector start number, 1-based
	unique   int
	rows     int
	noID     int
	dups     []dupCopy
	// dead is set while no collector runs (after a kill -9, before the restart); rows stored
	// then come from requests the killed process had fully sent.
	dead          bool
	rowsWhileDead int
}

func (t *tally) setDead() (rowsWhileDead int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dead = true
	return t.rowsWhileDead
}

type dupCopy struct {
	index         int
	firstGen, gen uint16
	firstAt, at   int64
}

func newTally(n int) *tally {
	return &tally{counts: make([]uint16, n), firstGen: make([]uint16, n), firstAt: make([]int64, n)}
}

func (t *tally) setGen(g int) {
	t.mu.Lock()
	t.gen = uint16(g)
	t.dead = false
	t.mu.Unlock()
}

func (t *tally) see(row map[string]any) bool {
	i, ok := eventIndex(row, len(t.counts))
	now := time.Now().UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rows++
	if t.dead {
		t.rowsWhileDead++
	}
	if !ok {
		t.noID++
		return false
	}
	if t.counts[i] == 0 {
		t.unique++
		t.firstGen[i] = t.gen
		t.firstAt[i] = now
	} else if len(t.dups) < 1<<20 {
		t.dups = append(t.dups, dupCopy{index: i, firstGen: t.firstGen[i], gen: t.gen, firstAt: t.firstAt[i], at: now})
	}
	if t.counts[i] < ^uint16(0) {
		t.counts[i]++
	}
	return false
}

func (t *tally) snapshot() (unique, rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unique, t.rows
}

// eventIndex parses the vendor emulator's id "evt-%010d".
func eventIndex(row map[string]any, n int) (int, bool) {
	id, _ := row["id"].(string)
	s, ok := strings.CutPrefix(id, "evt-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}

// ---- scenarios ----

type scenario struct {
	name      string
	events    int
	span      time.Duration
	end       time.Time // exclusive end of the event span; zero = 5 minutes before the start
	paging    vendorapi.PagingMode
	window    int           // queryWindowInMin
	delay     int           // queryWindowDelayInMin
	lookback  time.Duration // initial_lookback; zero = span + 1h
	faults    bool
	kills     int
	seed      uint64
	deadline  time.Duration // for everything served to be ingested
	late      float64       // vendor LateFraction
	lateBy    time.Duration
	dropRate  float64 // ingestion DropConnRate when faults are on
	consumers int     // exporter sending_queue num_consumers

	// done, when set, replaces "every event ingested" as the end condition.
	done func(r *runner) bool
}

// Report is what a scenario prints and writes to $CCP_SOAK_REPORT.
type Report struct {
	Scenario     string `json:"scenario"`
	Paging       string `json:"paging"`
	Events       int    `json:"events"`
	ServedUnique int64  `json:"served_unique"`
	ServedTotal  int64  `json:"served_total"`
	// VendorReserved counts events the vendor API served more than once (pages polled again).
	VendorReserved int64 `json:"vendor_reserved"`
	NeverServed    int   `json:"never_served"`
	IngestedRows   int   `json:"ingested_rows"`
	IngestedUnique int   `json:"ingested_unique"`
	// Missing: served by the vendor API but never ingested. Must be 0.
	Missing int `json:"missing"`
	// Duplicates: stored rows beyond the first copy of each event; the rate is over IngestedUnique.
	Duplicates    int     `json:"duplicates"`
	DuplicateRate float64 `json:"duplicate_rate"`
	// RowsInDroppedConns: rows the ingestion emulator stored and then answered with a dropped
	// connection. The client cannot tell them from rows never stored, so each is necessarily
	// sent again: every one of them is one duplicate no client can avoid.
	RowsInDroppedConns int `json:"rows_in_dropped_connections"`
	DroppedConnections int `json:"dropped_connections"`
	// CollectorDuplicates: duplicates the collector caused (pages polled again, queue items
	// sent again after a kill -9): stored copies whose previous copy was not in a dropped
	// connection ("exact": rows mapped to requests, one request in flight at a time), else
	// Duplicates - RowsInDroppedConns.
	CollectorDuplicates        int              `json:"collector_duplicates"`
	CollectorDupAttribution    string           `json:"collector_dup_attribution"`
	CollectorDupRanges         []string         `json:"collector_dup_ranges,omitempty"`
	DuplicatesMinusDroppedRows int              `json:"duplicates_minus_dropped_rows"`
	CollectorDuplicateRate     float64          `json:"collector_duplicate_rate"`
	Kills                      int              `json:"kills"`
	Starts                     int              `json:"starts"`
	UnexpectedExits            int              `json:"unexpected_exits"`
	PeakRSSMiB                 float64          `json:"peak_rss_mib"`
	WallSeconds                float64          `json:"wall_seconds"`
	IngestTimedOut             bool             `json:"ingest_timed_out"`
	VendorRequests             int64            `json:"vendor_requests"`
	VendorByStatus             map[string]int64 `json:"vendor_by_status"`
	VendorTokensIssued         int64            `json:"vendor_tokens_issued"`
	TokenExpiries              int              `json:"token_expiries"`
	IngestRequests             int              `json:"ingest_requests"`
	IngestByStatus             map[string]int   `json:"ingest_by_status"`
	Ingest429Bursts            int              `json:"ingest_429_bursts"`
	// Where duplicate copies came from: stored by the same collector process as the first
	// copy (retries: dropped connections), or by a later process after a kill -9, split by
	// whether the vendor API served the event more than once (the receiver polled the page
	// again) or once (the exporter's persistent queue sent an item again).
	DupSameProcess       int      `json:"dup_same_process"`
	DupAfterKillRepolled int      `json:"dup_after_kill_repolled"`
	DupAfterKillResent   int      `json:"dup_after_kill_resent"`
	DupRanges            []string `json:"dup_ranges,omitempty"`
	// RowsStoredAfterKill: rows the ingestion emulator stored after a kill -9 had ended the
	// collector (before the restart): requests the dead process had fully sent. The restarted
	// collector's persistent queue sends them again, as it must.
	RowsStoredAfterKill int      `json:"rows_stored_after_kill"`
	LateEvents          int      `json:"late_events,omitempty"`
	NotIngested         int      `json:"not_ingested"` // events (served or not) never ingested
	MissingSample       []string `json:"missing_sample,omitempty"`
}

type runner struct {
	sc    scenario
	env   *demoenv.Env
	tally *tally
	state string
	cenv  []string
}

func (r *runner) ingestFaults(seed uint64, burst int) logsingestion.Faults {
	f := logsingestion.Faults{RejectRow: r.tally.see, Seed: seed}
	if r.sc.faults {
		f.Fail503Rate = 0.05
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
	start := time.Now()
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
	if sc.consumers == 0 {
		// One request in flight at a time: a kill -9 can then duplicate at most one page
		// (exporterhelper's default of 10 lets one kill duplicate up to 10; see README.md).
		sc.consumers = 1
	}
	if v := os.Getenv("CCP_SOAK_NUM_CONSUMERS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "CCP_SOAK_NUM_CONSUMERS")
		sc.consumers = n
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
	rng := rand.New(rand.NewPCG(sc.seed, 0x5eed))
	r := &runner{sc: sc, tally: newTally(sc.events), state: t.TempDir()}
	if keep := os.Getenv("CCP_SOAK_KEEP"); keep != "" {
		// Keep the collector logs and state for inspection.
		r.state = filepath.Join(keep, sc.name)
		require.NoError(t, os.RemoveAll(r.state))
		require.NoError(t, os.MkdirAll(r.state, 0o700))
	}

	env, err := demoenv.Start(demoenv.Options{
		VendorAddr: "127.0.0.1:0", IngestAddr: "127.0.0.1:0", StateDir: r.state, Events: sc.events,
		Vendor: func(c *vendorapi.Config) {
			c.End, c.Span = sc.end, sc.span
			c.Seed = int64(sc.seed)
			c.Auth, c.ClientID, c.ClientSecret = vendorapi.AuthOAuth2, "soak-client", "soak-secret"
			c.APIKey, c.APIKeyHeader = "", ""
			c.Paging, c.PageSize, c.MaxPageSize = sc.paging, 1000, 1000
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
	require.NoError(t, err)
	r.env = env
	defer env.Close()

	pagingName := map[vendorapi.PagingMode]string{
		vendorapi.PagingNextPageToken:   "NextPageToken",
		vendorapi.PagingPersistentToken: "PersistentToken",
	}[sc.paging]
	require.NotEmpty(t, pagingName, "the soak config supports NextPageToken and PersistentToken")
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
		"CCP_SOAK_NUM_CONSUMERS=" + strconv.Itoa(sc.consumers),
	}

	// Kill points: random fractions of the events ingested, plus a random delay.
	type killPoint struct {
		at    int
		delay time.Duration
	}
	kills := make([]killPoint, sc.kills)
	for i := range kills {
		kills[i] = killPoint{at: int(float64(sc.events) * (0.05 + 0.85*rng.Float64())), delay: time.Duration(rng.Int64N(int64(2 * time.Second)))}
	}
	slices.SortFunc(kills, func(a, b killPoint) int { return a.at - b.at })

	rep := &Report{Scenario: sc.name, Paging: pagingName, Events: sc.events}
	var logs []string
	var peak int64
	// A kill waits until the current process has run minUptime, so kills hit a working
	// collector rather than piling up on one start.
	const minUptime = 3 * time.Second
	var launched time.Time
	var killedAt []time.Time // when each kill -9 had taken effect
	launch := func() *proc {
		path := filepath.Join(r.state, fmt.Sprintf("collector-%d.log", rep.Starts))
		p, err := startCollector(r.cenv, path)
		require.NoError(t, err)
		logs = append(logs, path)
		rep.Starts++
		r.tally.setGen(rep.Starts)
		launched = time.Now()
		return p
	}
	retire := func(p *proc) { peak = max(peak, p.hwm) }

	p := launch()
	defer func() {
		if !p.exited() {
			p.kill()
		}
	}()

	// Faults that are events rather than rates: token expiry and 429 bursts on ingestion.
	var nextExpire, nextBurst time.Time
	if sc.faults {
		nextExpire = time.Now().Add(15 * time.Second)
		nextBurst = time.Now().Add(10 * time.Second)
	}
	burstSeed := sc.seed
	deadline := start.Add(sc.deadline)
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
		if finished && len(kills) == 0 {
			break
		}
		now := time.Now()
		if now.After(deadline) {
			rep.IngestTimedOut = true
			break
		}
		if p.exited() {
			rep.UnexpectedExits++
			t.Errorf("the collector exited on its own (%v); log tail:\n%s", p.err, tail(logs[len(logs)-1], 40))
			retire(p)
			if rep.UnexpectedExits >= maxUnexpected {
				break
			}
			p = launch()
			continue
		}
		if tick%5 == 0 {
			p.sampleRSS()
		}
		if sc.faults && now.After(nextExpire) {
			env.Vendor.ExpireTokens()
			rep.TokenExpiries++
			nextExpire = now.Add(15 * time.Second)
		}
		if sc.faults && now.After(nextBurst) {
			burstSeed++
			env.Ingest.SetFaults(r.ingestFaults(burstSeed, 3))
			rep.Ingest429Bursts++
			nextBurst = now.Add(20 * time.Second)
		}
		if len(kills) > 0 && time.Since(launched) >= minUptime {
			// A run that finished early still gets all its kills (and must then still be whole).
			if u, _ := r.tally.snapshot(); u >= kills[0].at || finished {
				time.Sleep(kills[0].delay)
				kills = kills[1:]
				p.kill()
				killedAt = append(killedAt, time.Now())
				before := r.tally.setDead()
				retire(p)
				rep.Kills++
				u, _ := r.tally.snapshot()
				// Leave the emulator time to finish what the dead process had sent.
				time.Sleep(500*time.Millisecond + time.Duration(rng.Int64N(int64(time.Second))))
				after := r.tally.setDead()
				rep.RowsStoredAfterKill += after - before
				t.Logf("%s: kill -9 #%d at %d/%d events ingested; %d rows of its in-flight requests stored after it died",
					sc.name, rep.Kills, u, sc.events, after-before)
				p = launch()
				continue
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Let retries in progress finish (a dropped connection's rows are stored, yet the item is
	// sent again): stop once the ingestion endpoint saw no request for 6 s, more than the
	// exporter's longest retry interval (5 s), or after 60 s.
	if !rep.IngestTimedOut {
		last, quiet := env.Ingest.Stats().Requests, time.Now()
		for limit := time.Now().Add(60 * time.Second); time.Now().Before(limit) && time.Since(quiet) < 6*time.Second; {
			time.Sleep(250 * time.Millisecond)
			if n := env.Ingest.Stats().Requests; n != last {
				last, quiet = n, time.Now()
			}
		}
	}
	if !p.exited() {
		// A collector stopped before it installed its signal handler dies of the SIGTERM.
		waitReady(p, logs[len(logs)-1], 30*time.Second)
		if err := p.stop(60 * time.Second); err != nil {
			t.Errorf("stopping the collector: %v; log tail:\n%s", err, tail(logs[len(logs)-1], 40))
		}
	}
	retire(p)
	rep.WallSeconds = time.Since(start).Seconds()
	assert.Equal(t, sc.kills, rep.Kills, "kill -9s done")
	rep.PeakRSSMiB = float64(peak) / 1024

	// Final figures from the emulators themselves.
	vs := env.Vendor.Stats()
	rep.ServedUnique, rep.ServedTotal = env.Vendor.Served()
	rep.VendorReserved = rep.ServedTotal - rep.ServedUnique
	rep.NeverServed = sc.events - int(rep.ServedUnique)
	rep.VendorRequests = vs.Requests
	rep.VendorTokensIssued = vs.TokensIssued
	rep.VendorByStatus = map[string]int64{}
	for k, v := range vs.ByStatus {
		rep.VendorByStatus[strconv.Itoa(k)] = v
	}
	is := env.Ingest.Stats()
	rep.IngestRequests = is.Requests
	rep.IngestByStatus = map[string]int{}
	for k, v := range is.RequestsByStatus {
		rep.IngestByStatus[strconv.Itoa(k)] = v
	}
	rep.DroppedConnections, rep.RowsInDroppedConns = is.DroppedConnections, is.RowsInDroppedConns

	counts := make([]int, sc.events)
	rows := env.Ingest.Rows(demoenv.DCRImmutableID, demoenv.StreamName)
	rep.IngestedRows = len(rows)
	// Which stored row came in a dropped connection: the emulator stores the rows of a request
	// contiguously and logs requests in order; with one request in flight at a time (one
	// consumer, one collector process) the two orders agree, and the mapping is exact.
	dropped := make([]bool, 0, len(rows))
	for _, q := range env.Ingest.Requests() {
		if q.Rows > 0 && (q.Status == 204 || q.DroppedConn) && q.DCR == demoenv.DCRImmutableID && q.Stream == demoenv.StreamName {
			for range q.Rows {
				dropped = append(dropped, q.DroppedConn)
			}
		}
	}
	exact := len(dropped) == len(rows) && sc.consumers == 1
	prevDropped := make([]bool, sc.events)
	var unexplained []int // events with a copy whose previous copy was not in a dropped connection
	for k, row := range rows {
		i, ok := eventIndex(row, sc.events)
		require.True(t, ok, "a stored row without a known event id: %v", row)
		if counts[i] > 0 && exact && !prevDropped[i] {
			unexplained = append(unexplained, i)
		}
		counts[i]++
		if exact {
			prevDropped[i] = dropped[k]
		}
	}
	rows = nil
	for i, n := range counts {
		if n > 0 {
			rep.IngestedUnique++
			rep.Duplicates += n - 1
			continue
		}
		rep.NotIngested++
		if env.Vendor.IsLate(i) {
			rep.LateEvents++
		}
	}
	for _, id := range env.Vendor.ServedIDs() {
		i, ok := env.Vendor.IndexOf(id)
		if ok && counts[i] == 0 {
			rep.Missing++
			if len(rep.MissingSample) < 20 {
				rep.MissingSample = append(rep.MissingSample, id)
			}
		}
	}
	if rep.IngestedUnique > 0 {
		rep.DuplicateRate = float64(rep.Duplicates) / float64(rep.IngestedUnique)
	}
	rep.DuplicatesMinusDroppedRows = rep.Duplicates - rep.RowsInDroppedConns
	rep.CollectorDuplicates = rep.DuplicatesMinusDroppedRows
	if exact {
		rep.CollectorDuplicates = len(unexplained)
		rep.CollectorDupAttribution = "exact"
		slices.Sort(unexplained)
		for k := 0; k < len(unexplained) && len(rep.CollectorDupRanges) < 20; {
			e := k
			for e+1 < len(unexplained) && unexplained[e+1]-unexplained[e] <= 1 {
				e++
			}
			i := unexplained[k]
			rep.CollectorDupRanges = append(rep.CollectorDupRanges, fmt.Sprintf("events %d..%d: %d copies; first copy stored by start %d%s",
				i, unexplained[e], e-k+1, r.tally.firstGen[i], beforeKill(killedAt, int(r.tally.firstGen[i]), r.tally.firstAt[i])))
			k = e + 1
		}
	} else {
		rep.CollectorDupAttribution = "duplicates minus rows in dropped connections"
	}
	if rep.IngestedUnique > 0 {
		rep.CollectorDuplicateRate = float64(rep.CollectorDuplicates) / float64(rep.IngestedUnique)
	}
	r.tally.mu.Lock()
	dups := slices.Clone(r.tally.dups)
	r.tally.mu.Unlock()
	// Group by (first process, later process), then by runs of consecutive event indices.
	slices.SortFunc(dups, func(a, b dupCopy) int {
		if a.firstGen != b.firstGen {
			return int(a.firstGen) - int(b.firstGen)
		}
		if a.gen != b.gen {
			return int(a.gen) - int(b.gen)
		}
		return a.index - b.index
	})
	for k := 0; k < len(dups); {
		d := dups[k]
		e, copies := k, 0
		for e < len(dups) && dups[e].firstGen == d.firstGen && dups[e].gen == d.gen &&
			dups[e].index-dups[max(e-1, k)].index <= 1 {
			copies++
			e++
		}
		for _, c := range dups[k:e] {
			switch {
			case c.gen == c.firstGen:
				rep.DupSameProcess++
			case env.Vendor.ServedCount(env.Vendor.EventID(c.index)) > 1:
				rep.DupAfterKillRepolled++
			default:
				rep.DupAfterKillResent++
			}
		}
		if len(rep.DupRanges) < 40 {
			where := ""
			if d.gen != d.firstGen {
				where = beforeKill(killedAt, int(d.firstGen), d.firstAt)
			}
			rep.DupRanges = append(rep.DupRanges, fmt.Sprintf("events %d..%d: %d extra copies, first stored by start %d, again by start %d%s",
				d.index, dups[e-1].index, copies, d.firstGen, d.gen, where))
		}
		k = e
	}
	tu, trows := r.tally.snapshot()
	assert.Equal(t, rep.IngestedRows, trows, "the RejectRow tap saw every stored row")
	assert.Equal(t, rep.IngestedUnique, tu)

	writeReport(t, rep)
	if rep.Missing > 0 || rep.IngestTimedOut {
		for _, l := range logs {
			t.Logf("log %s (tail):\n%s", l, tail(l, 30))
		}
	}
	return rep
}

// beforeKill says how long before the kill -9 that ended collector start gen (1-based) a row
// stored at ns was stored.
func beforeKill(killedAt []time.Time, gen int, ns int64) string {
	if gen < 1 || gen > len(killedAt) {
		return ""
	}
	d := killedAt[gen-1].Sub(time.Unix(0, ns)).Round(time.Millisecond)
	if d < 0 {
		return fmt.Sprintf(", %s after the kill -9 that ended it (a request it had fully sent)", -d)
	}
	return fmt.Sprintf(", %s before the kill -9 that ended it", d)
}

func writeReport(t *testing.T, rep *Report) {
	t.Helper()
	b, err := json.MarshalIndent(rep, "", "  ")
	require.NoError(t, err)
	t.Logf("soak report %s:\n%s", rep.Scenario, b)
	t.Logf("%s [%s]: served %d unique (%d total), ingested %d unique in %d rows, missing %d, duplicates %d (%.3f%%; %d from dropped connections, %d = %.3f%% from the collector), peak RSS %.0f MiB, wall %.0fs, kills %d",
		rep.Scenario, rep.Paging, rep.ServedUnique, rep.ServedTotal, rep.IngestedUnique, rep.IngestedRows, rep.Missing,
		rep.Duplicates, 100*rep.DuplicateRate, rep.RowsInDroppedConns, rep.CollectorDuplicates, 100*rep.CollectorDuplicateRate,
		rep.PeakRSSMiB, rep.WallSeconds, rep.Kills)
	path := os.Getenv("CCP_SOAK_REPORT")
	if path == "" {
		return
	}
	// Several scenarios in one process append to one JSON array file.
	reportMu.Lock()
	defer reportMu.Unlock()
	reports = append(reports, rep)
	all, err := json.MarshalIndent(reports, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(all, '\n'), 0o644))
}

var (
	reportMu sync.Mutex
	reports  []*Report
)

func pagingFromEnv(t *testing.T, def ...vendorapi.PagingMode) []vendorapi.PagingMode {
	switch v := os.Getenv("CCP_SOAK_PAGING"); v {
	case "":
		return def
	case "NextPageToken":
		return []vendorapi.PagingMode{vendorapi.PagingNextPageToken}
	case "PersistentToken":
		return []vendorapi.PagingMode{vendorapi.PagingPersistentToken}
	case "both":
		return []vendorapi.PagingMode{vendorapi.PagingNextPageToken, vendorapi.PagingPersistentToken}
	default:
		t.Fatalf("CCP_SOAK_PAGING=%q: want NextPageToken, PersistentToken or both", v)
		return nil
	}
}

// assertNoLoss checks a faulted soak report: nothing served is missing, and the duplicates
// the collector causes stay under maxDupRate. Rows the ingestion emulator stored and then
// answered with a dropped connection are duplicated by any correct at-least-once client (it
// cannot know they were stored); they are reported, and excluded from the bound.
func assertNoLoss(t *testing.T, rep *Report, maxDupRate float64) {
	t.Helper()
	assert.False(t, rep.IngestTimedOut, "not every event was ingested before the deadline")
	assert.EqualValues(t, rep.Events, rep.ServedUnique, "the vendor API served every event")
	assert.Zero(t, rep.Missing, "served events never ingested, e.g. %v", rep.MissingSample)
	assert.Zero(t, rep.NotIngested, "events never ingested")
	assert.GreaterOrEqual(t, rep.Duplicates, rep.RowsInDroppedConns,
		"every row stored in a dropped connection is sent again")
	assert.Less(t, rep.CollectorDuplicateRate, maxDupRate,
		"duplicates caused by the collector: %d of %d (total duplicates %d = %.3f%%, of which %d rows re-sent after dropped connections)",
		rep.CollectorDuplicates, rep.IngestedUnique, rep.Duplicates, 100*rep.DuplicateRate, rep.RowsInDroppedConns)
}

func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built collector for a few minutes")
	}
	for _, pg := range pagingFromEnv(t, vendorapi.PagingNextPageToken) {
		t.Run(pg.String(), func(t *testing.T) {
			rep := run(t, scenario{
				name: "short-" + pg.String(), events: 50_000, span: 24 * time.Hour, paging: pg,
				faults: true, dropRate: 0.05, kills: 2, seed: 42, deadline: 6 * time.Minute,
			})
			assertNoLoss(t, rep, 0.01)
		})
	}
}

func TestSoak(t *testing.T) {
	if os.Getenv("CCP_SOAK") != "full" {
		t.Skip("set CCP_SOAK=full (make soak)")
	}
	modes := pagingFromEnv(t, vendorapi.PagingNextPageToken, vendorapi.PagingPersistentToken)
	budget := 30 * time.Minute
	for i, pg := range modes {
		t.Run(pg.String(), func(t *testing.T) {
			rep := run(t, scenario{
				name: "full-" + pg.String(), events: 1_000_000, span: 24 * time.Hour, paging: pg,
				faults: true, dropRate: 0.05, kills: 5, seed: 4242 + uint64(i),
				deadline: budget / time.Duration(len(modes)),
			})
			assertNoLoss(t, rep, 0.001)
		})
	}
}

// TestLateEvents: 10 % of the events reach the vendor API 3 minutes after their timestamp.
// The events lie in the minute [T-2m, T-1m) (T = the start, floored to the minute), so at the
// start none of the late ones is visible yet. With queryWindowDelayInMin 0 the collector polls
// that minute at once and never again: the late events are missed. With 5 it polls it at T+4m,
// after every late event was published: nothing is missed. Both run side by side (~4 minutes).
func TestLateEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("waits about 4 minutes of wall time")
	}
	t0 := time.Now().UTC().Truncate(time.Minute)
	const events = 2000
	base := scenario{
		events: events, span: time.Minute, end: t0.Add(-time.Minute), paging: vendorapi.PagingNextPageToken,
		window: 1, lookback: 5 * time.Minute, seed: 7, late: 0.10, lateBy: 3 * time.Minute,
		deadline: 7 * time.Minute,
	}
	lastPublish := t0.Add(-time.Minute).Add(3 * time.Minute) // latest publication of a late event

	t.Run("delay5", func(t *testing.T) {
		t.Parallel()
		sc := base
		sc.name, sc.delay = "late-delay5", 5
		rep := run(t, sc)
		assert.False(t, rep.IngestTimedOut)
		assert.Zero(t, rep.NotIngested, "with queryWindowDelayInMin above the lateness nothing is missed")
		assert.Zero(t, rep.Missing)
		assert.Zero(t, rep.Duplicates)
	})
	t.Run("delay0", func(t *testing.T) {
		t.Parallel()
		sc := base
		sc.name, sc.delay = "late-delay0", 0
		// End once every on-time event is in and a window ending after the last late
		// publication has been polled, so a missed event could not still arrive.
		sc.done = func(r *runner) bool {
			u, _ := r.tally.snapshot()
			onTime := 0
			for i := range events {
				if !r.env.Vendor.IsLate(i) {
					onTime++
				}
			}
			return u >= onTime && time.Now().After(lastPublish.Add(75*time.Second))
		}
		rep := run(t, sc)
		assert.False(t, rep.IngestTimedOut)
		assert.Zero(t, rep.Missing, "everything served was ingested")
		assert.Positive(t, rep.NotIngested, "with queryWindowDelayInMin 0 late events are missed")
		assert.Equal(t, rep.NotIngested, rep.LateEvents, "only late events are missed")
		t.Logf("queryWindowDelayInMin 0: %d of %d events missed, all of them late", rep.NotIngested, events)
	})
}
