// Package soak proves that the built distribution (bin/otelcol-ccp), configured as `ccp
// convert` emits it (the azure_monitor_dcr exporter at its defaults: in-memory queue waiting for
// each result, retries without a deadline), loses no event through crashes and faults on both
// sides: it polls the vendor-API emulator through the ccp receiver (file_storage checkpoints)
// and ships to the Logs Ingestion emulator, while the harness injects API 500s, 429 bursts with
// Retry-After, slow pages, OAuth2 token expiry, ingestion 503s and 429s, connections dropped
// after the rows were stored, an Azure incident of more than 5 minutes (403, refused client
// secret, 404) and kill -9 of the collector.
//
// TestSoakShort (50,000 events) runs in `make test`; TestSoak (1,000,000 events) runs with
// CCP_SOAK=full (`make soak`); TestLateEvents shows queryWindowDelayInMin at work.
// See README.md.
package soak

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

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

// ---- scenarios ----

type scenario struct {
	name     string
	events   int
	span     time.Duration
	end      time.Time // exclusive end of the event span; zero = 5 minutes before the start
	paging   vendorapi.PagingMode
	window   int           // queryWindowInMin
	delay    int           // queryWindowDelayInMin
	lookback time.Duration // initial_lookback; zero = span + 1h
	faults   bool
	kills    int
	seed     uint64
	deadline time.Duration // for everything served to be ingested
	late     float64       // vendor LateFraction
	lateBy   time.Duration
	// Ingestion fault rates when faults are on: 503 with Retry-After, and connections dropped
	// after the rows were stored. Each costs the exporter one default backoff (about 5 s).
	fail503Rate, dropRate float64
	// incidentPhase, when > 0, runs the Azure incident (see incident_test.go): three
	// sub-phases of this length each. incidentKills of the kills land inside it.
	incidentPhase time.Duration
	incidentKills int

	// done, when set, replaces "every event ingested" as the end condition.
	done func(r *runner) bool
}

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

// assertNoLoss checks a faulted soak report: nothing served is missing, every row stored in a
// dropped connection was sent again, and the duplicates the collector causes stay within what
// the design allows. At the exporter's defaults a push returns once the service accepted it and
// the receiver checkpoints a page only then, so a kill -9 can duplicate at most the page in
// flight (stored, but not yet checkpointed): kills × page size. Rows the ingestion emulator
// stored and then answered with a dropped connection are duplicated by any correct
// at-least-once client (it cannot know they were stored); they are reported, not bounded.
func assertNoLoss(t *testing.T, rep *Report) {
	t.Helper()
	assert.False(t, rep.IngestTimedOut, "not every event was ingested before the deadline")
	assert.EqualValues(t, rep.Events, rep.ServedUnique, "the vendor API served every event")
	assert.Zero(t, rep.Missing, "served events never ingested, e.g. %v", rep.MissingSample)
	assert.Zero(t, rep.NotIngested, "events never ingested")
	assert.Zero(t, rep.UnresentDroppedRows, "rows stored in a dropped connection and never sent again")
	assert.GreaterOrEqual(t, rep.Duplicates, rep.RowsInDroppedConns,
		"every row stored in a dropped connection is sent again")
	assert.LessOrEqual(t, rep.CollectorDuplicates, rep.CollectorDupBound,
		"duplicates caused by the collector: %d of %d, more than the pages in flight per kill (%d kills × %d in flight × %d) (total duplicates %d = %.3f%%, of which %d rows re-sent after dropped connections; %s)",
		rep.CollectorDuplicates, rep.IngestedUnique, rep.Kills, maxInFlight, pageSize, rep.Duplicates, 100*rep.DuplicateRate,
		rep.RowsInDroppedConns, rep.CollectorDupRanges)
	assert.Zero(t, rep.DupAfterKillResent, "copies sent again after a kill without the page being polled again")
}

// incidentPhase is the length of each of the incident's three sub-phases: 3 × 110 s = 5.5 min,
// longer than the 5 minutes the exporter's retries used to last by default.
const incidentPhase = 110 * time.Second

func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built collector for about 8 minutes")
	}
	for _, pg := range pagingFromEnv(t, vendorapi.PagingNextPageToken) {
		t.Run(pg.String(), func(t *testing.T) {
			rep := run(t, scenario{
				name: "short-" + pg.String(), events: 50_000, span: 24 * time.Hour, paging: pg,
				faults: true, fail503Rate: 0.02, dropRate: 0.02, kills: 2, seed: 42, deadline: 6*time.Minute + 3*incidentPhase,
				incidentPhase: incidentPhase, incidentKills: 1,
			})
			assertNoLoss(t, rep)
			assertIncident(t, rep)
		})
	}
}

// TestSoak runs both paging modes side by side: the exporter waits out every fault with its
// default backoff (5 s and up), so a run spends most of its time waiting, not computing.
func TestSoak(t *testing.T) {
	if os.Getenv("CCP_SOAK") != "full" {
		t.Skip("set CCP_SOAK=full (make soak)")
	}
	modes := pagingFromEnv(t, vendorapi.PagingNextPageToken, vendorapi.PagingPersistentToken)
	for i, pg := range modes {
		t.Run(pg.String(), func(t *testing.T) {
			t.Parallel()
			rep := run(t, scenario{
				name: "full-" + pg.String(), events: 1_000_000, span: 24 * time.Hour, paging: pg,
				faults: true, fail503Rate: 0.02, dropRate: 0.02, kills: 5, seed: 4242 + uint64(i), deadline: 34 * time.Minute,
				incidentPhase: incidentPhase, incidentKills: 2,
			})
			assertNoLoss(t, rep)
			assertIncident(t, rep)
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
