package soak

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/demoenv"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
)

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
	// UnresentDroppedRows: rows stored in a dropped connection with no later copy. Must be 0.
	UnresentDroppedRows int `json:"unresent_dropped_rows"`
	// CollectorDuplicates: duplicates the collector caused (pages polled and sent again after a
	// kill -9): stored copies whose previous copy was not in a dropped connection ("exact":
	// rows mapped to requests, one request in flight at a time), else
	// Duplicates - RowsInDroppedConns. CollectorDupBound is what the design allows: the rows
	// of the one page in flight per kill -9 (kills × page size).
	CollectorDuplicates        int              `json:"collector_duplicates"`
	CollectorDupBound          int              `json:"collector_dup_bound"`
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
	IngestTokenRequests        map[string]int   `json:"ingest_token_requests"`
	IngestTokenErrors          int              `json:"ingest_token_errors"`
	Ingest429Bursts            int              `json:"ingest_429_bursts"`
	// Incident: the Azure incident phase (403, refused client secret, 404), when it ran.
	Incident *IncidentReport `json:"incident,omitempty"`
	// Where duplicate copies came from: stored by the same collector process as the first
	// copy (retries: dropped connections), or by a later process after a kill -9, split by
	// whether the vendor API served the event more than once (the receiver polled the page
	// again) or once (sent again without a new poll: only a persistent queue could do that,
	// so 0 at the exporter's defaults).
	DupSameProcess       int      `json:"dup_same_process"`
	DupAfterKillRepolled int      `json:"dup_after_kill_repolled"`
	DupAfterKillResent   int      `json:"dup_after_kill_resent"`
	DupRanges            []string `json:"dup_ranges,omitempty"`
	// RowsStoredAfterKill: rows the ingestion emulator stored after a kill -9 had ended the
	// collector (before the restart): requests the dead process had fully sent. The restarted
	// collector never learnt they were stored, so it polls that page again and sends it again.
	RowsStoredAfterKill int      `json:"rows_stored_after_kill"`
	LateEvents          int      `json:"late_events,omitempty"`
	NotIngested         int      `json:"not_ingested"` // events (served or not) never ingested
	MissingSample       []string `json:"missing_sample,omitempty"`
}

// figures fills the report from the emulators themselves and checks that the row tap agrees.
func (r *runner) figures(rep *Report) {
	t, env := r.t, r.env
	vs := env.Vendor.Stats()
	rep.ServedUnique, rep.ServedTotal = env.Vendor.Served()
	rep.VendorReserved = rep.ServedTotal - rep.ServedUnique
	rep.NeverServed = r.sc.events - int(rep.ServedUnique)
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
	rep.IngestTokenRequests, rep.IngestTokenErrors = is.TokenRequests, is.TokenErrors
	rep.DroppedConnections, rep.RowsInDroppedConns = is.DroppedConnections, is.RowsInDroppedConns
	reqs := env.Ingest.Requests()
	rep.UnresentDroppedRows = r.tally.unresent(reqs)
	rep.CollectorDupBound = (rep.Kills + rep.UnexpectedExits) * maxInFlight * pageSize

	counts, unexplained, exact := r.countRows(reqs)
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
	rep.CollectorDupAttribution = "duplicates minus rows in dropped connections"
	if exact {
		rep.CollectorDuplicates = len(unexplained)
		rep.CollectorDupAttribution = "exact"
		rep.CollectorDupRanges = r.collectorDupRanges(unexplained)
	}
	if rep.IngestedUnique > 0 {
		rep.CollectorDuplicateRate = float64(rep.CollectorDuplicates) / float64(rep.IngestedUnique)
	}
	r.dupOrigins(rep)
	tu, trows := r.tally.snapshot()
	assert.Equal(t, rep.IngestedRows, trows, "the RejectRow tap saw every stored row")
	assert.Equal(t, rep.IngestedUnique, tu)
}

// countRows counts the stored copies of every event and lists the events with a copy whose
// previous copy was not in a dropped connection. The emulator stores the rows of a request
// contiguously and logs requests in order; with one request in flight at a time (the exporter
// waits for each result, one receiver) the two orders agree and the mapping is exact, which is
// checked against the order in which the tap saw the rows.
func (r *runner) countRows(reqs []logsingestion.Request) (counts []int, unexplained []int, exact bool) {
	rows := r.env.Ingest.Rows(demoenv.DCRImmutableID, demoenv.StreamName)
	r.rep.IngestedRows = len(rows)
	dropped := make([]bool, 0, len(rows))
	for _, q := range reqs {
		if storedRows(q) {
			for range q.Rows {
				dropped = append(dropped, q.DroppedConn)
			}
		}
	}
	r.tally.mu.Lock()
	order := slices.Clone(r.tally.order)
	r.tally.mu.Unlock()
	exact = len(dropped) == len(rows) && len(order) == len(rows)
	counts = make([]int, r.sc.events)
	prevDropped := make([]bool, r.sc.events)
	for k, row := range rows {
		i, ok := eventIndex(row, r.sc.events)
		require.True(r.t, ok, "a stored row without a known event id: %v", row)
		if exact && int(order[k]) != i {
			exact = false
		}
		if counts[i] > 0 && !prevDropped[i] {
			unexplained = append(unexplained, i)
		}
		counts[i]++
		if k < len(dropped) {
			prevDropped[i] = dropped[k]
		}
	}
	return counts, unexplained, exact
}

// collectorDupRanges lists the collector's duplicates as runs of consecutive events, with when
// the first copy was stored relative to the kill that ended its process.
func (r *runner) collectorDupRanges(unexplained []int) []string {
	var out []string
	slices.Sort(unexplained)
	for k := 0; k < len(unexplained) && len(out) < 20; {
		e := k
		for e+1 < len(unexplained) && unexplained[e+1]-unexplained[e] <= 1 {
			e++
		}
		i := unexplained[k]
		out = append(out, fmt.Sprintf("events %d..%d: %d copies; first copy stored by start %d%s",
			i, unexplained[e], e-k+1, r.tally.firstGen[i], beforeKill(r.killedAt, int(r.tally.firstGen[i]), r.tally.firstAt[i])))
		k = e + 1
	}
	return out
}

// dupOrigins sorts every extra copy by origin: the same process, or a later process after a
// kill -9 (with the page polled again, or not), grouped by (first process, later process) and
// runs of consecutive event indices.
func (r *runner) dupOrigins(rep *Report) {
	r.tally.mu.Lock()
	dups := slices.Clone(r.tally.dups)
	r.tally.mu.Unlock()
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
			case r.env.Vendor.ServedCount(r.env.Vendor.EventID(c.index)) > 1:
				rep.DupAfterKillRepolled++
			default:
				rep.DupAfterKillResent++
			}
		}
		if len(rep.DupRanges) < 40 {
			where := ""
			if d.gen != d.firstGen {
				where = beforeKill(r.killedAt, int(d.firstGen), d.firstAt)
			}
			rep.DupRanges = append(rep.DupRanges, fmt.Sprintf("events %d..%d: %d extra copies, first stored by start %d, again by start %d%s",
				d.index, dups[e-1].index, copies, d.firstGen, d.gen, where))
		}
		k = e
	}
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
	t.Logf("%s [%s]: served %d unique (%d total), ingested %d unique in %d rows, missing %d, duplicates %d (%.3f%%; %d from dropped connections, %d = %.3f%% from the collector, bound %d), peak RSS %.0f MiB, wall %.0fs, kills %d",
		rep.Scenario, rep.Paging, rep.ServedUnique, rep.ServedTotal, rep.IngestedUnique, rep.IngestedRows, rep.Missing,
		rep.Duplicates, 100*rep.DuplicateRate, rep.RowsInDroppedConns, rep.CollectorDuplicates, 100*rep.CollectorDuplicateRate,
		rep.CollectorDupBound, rep.PeakRSSMiB, rep.WallSeconds, rep.Kills)
	if ir := rep.Incident; ir != nil {
		t.Logf("%s: Azure incident %.0f s (from %.0f s to %.0f s, at %d events), ingestion requests by status %v, token refusals %d, rows stored %d (in flight at its start %d, admitted %d), kills during it %d",
			rep.Scenario, ir.Seconds, ir.StartSeconds, ir.EndSeconds, ir.AtIngested, ir.RequestsByStatus, ir.TokenRefusals,
			ir.RowsStored, ir.InFlightRows, ir.RowsAdmitted, ir.Kills)
	}
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
