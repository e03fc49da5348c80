package soak

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The Azure incident phase: the Logs Ingestion side refuses everything for 3 × phase, longer
// than the 5 minutes the exporter's retries used to last by default, in three consecutive
// sub-phases as they happen in Azure:
//
//  1. 403 OperationFailed: the app's role assignment on the DCR is missing (or not yet
//     propagated: Azure says up to 30 minutes);
//  2. Entra ID refuses the client secret (401 invalid_client, AADSTS7000215: a rotated secret);
//     the tokens issued so far are revoked as the phase begins, so the exporter must ask for one;
//  3. 404 NotFound: the DCR is being redeployed.
//
// The exporter must wait each out with back-pressure (the receiver's ConsumeLogs blocks, polling
// pauses, the checkpoint stays), lose nothing and store nothing while it lasts.

const (
	incForbidden = iota
	incRefuseSecret
	incDCRNotFound
	incPhases
)

var incidentPhaseNames = [incPhases]string{
	"403 Forbidden (OperationFailed)",
	"client secret refused (401 invalid_client AADSTS7000215)",
	"404 DCR not found",
}

// incidentFlags are the emulator's incident faults in force.
type incidentFlags struct{ forbidden, refuseSecret, dcrNotFound bool }

// incident drives the phase during a run.
type incident struct {
	at         int           // begins once this many events are ingested
	atIngested int           // events ingested when it began
	phase      time.Duration // length of each sub-phase
	cur        int           // -1: not begun; 0..incPhases-1: the sub-phase; incPhases: over
	start, end time.Time
	phaseStart [incPhases]time.Time
	// Emulator request-log length and STS token errors at the start and the end.
	logStart, logEnd         int
	tokenErrors0, tokenErrs1 int
	rowsBefore, rowsAfter    int // tally.rowsWhileRefused at the start and the end
	kills                    int // kill -9s that landed while it lasted
}

// IncidentReport describes the incident phase of a run.
type IncidentReport struct {
	PhaseSeconds float64  `json:"phase_seconds"` // planned length of each sub-phase
	KillsPlanned int      `json:"kills_planned"` // kill -9s planned inside it
	AtIngested   int      `json:"at_ingested"`   // unique events ingested when it began
	StartSeconds float64  `json:"start_seconds"` // since the start of the run
	EndSeconds   float64  `json:"end_seconds"`
	Seconds      float64  `json:"seconds"`
	Phases       []string `json:"phases"`
	// RequestsByStatus: ingestion requests that arrived while it lasted, by HTTP status
	// (0 = a dropped connection).
	RequestsByStatus map[string]int `json:"requests_by_status"`
	// TokenRefusals: token requests the STS refused while it lasted (AADSTS7000215).
	TokenRefusals int `json:"token_refusals"`
	// RowsStored: rows the emulator stored while it lasted. Only a request that had passed the
	// emulator's checks before it began (in flight at the switch) can store rows then.
	RowsStored int `json:"rows_stored"`
	// RowsAdmitted: rows of requests that arrived while it lasted (but for its last second)
	// and were stored. Must be 0.
	RowsAdmitted int `json:"rows_admitted"`
	// InFlightRows: rows of requests that arrived before it began and were stored after.
	InFlightRows int `json:"in_flight_rows"`
	Kills        int `json:"kills"`
}

func (in *incident) active() bool { return in != nil && in.cur >= 0 && in.cur < incPhases }
func (in *incident) over() bool   { return in == nil || in.cur >= incPhases }

// stepIncident begins, advances and ends the incident; called on every tick of the run loop.
func (r *runner) stepIncident(t *testing.T) {
	in := r.inc
	if in == nil || in.over() {
		return
	}
	if in.cur < 0 {
		if u, _ := r.tally.snapshot(); u < in.at {
			return
		}
		r.enterPhase(t, incForbidden)
		return
	}
	if time.Since(in.phaseStart[in.cur]) < in.phase {
		return
	}
	if in.cur+1 < incPhases {
		r.enterPhase(t, in.cur+1)
		return
	}
	// End: stop counting stored rows as the incident's before any request can pass again.
	in.end = time.Now()
	in.rowsAfter = r.tally.setIncident(false)
	in.tokenErrs1 = r.env.Ingest.Stats().TokenErrors
	r.setIncidentFlags(incidentFlags{})
	in.logEnd = len(r.env.Ingest.Requests())
	in.cur = incPhases
	t.Logf("%s: Azure incident over after %s", r.sc.name, in.end.Sub(in.start).Round(time.Second))
}

// enterPhase switches the emulator to sub-phase k without a gap in which a request could pass.
func (r *runner) enterPhase(t *testing.T, k int) {
	in := r.inc
	switch k {
	case incForbidden:
		// The log position is taken before the switch and the start after it: every request
		// that arrives from the start on is refused, and is in the log after logStart.
		in.logStart = len(r.env.Ingest.Requests())
		in.tokenErrors0 = r.env.Ingest.Stats().TokenErrors
		r.setIncidentFlags(incidentFlags{forbidden: true})
		in.start = time.Now()
		in.atIngested, _ = r.tally.snapshot()
		in.rowsBefore = r.tally.setIncident(true)
	case incRefuseSecret:
		// Keep the 403 until the tokens issued so far are revoked: from then on the exporter
		// needs a new token, which the STS refuses.
		r.setIncidentFlags(incidentFlags{forbidden: true, refuseSecret: true})
		r.env.Ingest.RevokeTokens()
		r.setIncidentFlags(incidentFlags{refuseSecret: true})
	case incDCRNotFound:
		// No token can exist yet: the 404 holds for the first request made with a new one.
		r.setIncidentFlags(incidentFlags{dcrNotFound: true})
	}
	in.phaseStart[k] = time.Now()
	in.cur = k
	u, _ := r.tally.snapshot()
	t.Logf("%s: Azure incident: %s for %s (at %d/%d events ingested)", r.sc.name, incidentPhaseNames[k], in.phase, u, r.sc.events)
}

// setIncidentFlags installs the incident faults, merged with the usual random faults
// (SetFaults replaces all of them).
func (r *runner) setIncidentFlags(f incidentFlags) {
	r.incFlags = f
	r.burstSeed++
	r.env.Ingest.SetFaults(r.ingestFaults(r.burstSeed, 0))
}

// incidentReport fills rep.Incident from the emulator's request log.
func (r *runner) incidentReport(rep *Report) {
	in := r.inc
	if in == nil {
		return
	}
	if in.cur < 0 {
		// Planned, never begun (the run ended first).
		rep.Incident = &IncidentReport{PhaseSeconds: in.phase.Seconds(), KillsPlanned: r.sc.incidentKills}
		return
	}
	if !in.over() {
		// The run ended (deadline) during the incident.
		in.end, in.logEnd = time.Now(), len(r.env.Ingest.Requests())
		in.tokenErrs1, in.rowsAfter = r.env.Ingest.Stats().TokenErrors, r.tally.setIncident(false)
	}
	ir := &IncidentReport{
		PhaseSeconds: in.phase.Seconds(), KillsPlanned: r.sc.incidentKills,
		AtIngested: in.atIngested, StartSeconds: in.start.Sub(r.start).Seconds(), EndSeconds: in.end.Sub(r.start).Seconds(),
		Seconds: in.end.Sub(in.start).Seconds(), RequestsByStatus: map[string]int{},
		TokenRefusals: in.tokenErrs1 - in.tokenErrors0, RowsStored: in.rowsAfter - in.rowsBefore, Kills: in.kills,
	}
	for k := range incPhases {
		if !in.phaseStart[k].IsZero() {
			ir.Phases = append(ir.Phases, fmt.Sprintf("%s from %.1f s", incidentPhaseNames[k], in.phaseStart[k].Sub(r.start).Seconds()))
		}
	}
	for _, q := range r.env.Ingest.Requests()[in.logStart:in.logEnd] {
		switch {
		case q.Time.Before(in.start):
			if storedRows(q) {
				ir.InFlightRows += q.Rows
			}
			continue
		case !q.Time.Before(in.end):
			continue
		}
		ir.RequestsByStatus[strconv.Itoa(q.Status)]++
		// A request that arrives in the very last moment may pass the emulator's checks just
		// after the faults are lifted: the last second is left out of RowsAdmitted.
		if storedRows(q) && q.Time.Before(in.end.Add(-time.Second)) {
			ir.RowsAdmitted += q.Rows
		}
	}
	rep.Incident = ir
}

// assertIncident checks that the incident, when planned, happened as planned and that nothing
// got through while it lasted.
func assertIncident(t *testing.T, rep *Report) {
	t.Helper()
	ir := rep.Incident
	if ir == nil {
		return
	}
	assert.Len(t, ir.Phases, incPhases, "every sub-phase of the incident ran")
	assert.GreaterOrEqual(t, ir.Seconds, 3*ir.PhaseSeconds, "incident length")
	assert.Zero(t, ir.RowsAdmitted, "no request that arrived during the incident was stored")
	// At most max_in_flight pages are in the pipeline: only those can have passed the checks
	// just before the incident began.
	assert.LessOrEqual(t, ir.RowsStored, maxInFlight*pageSize, "rows stored during the incident (in flight at its start)")
	assert.Positive(t, ir.RequestsByStatus["403"], "403s answered during the incident")
	assert.Positive(t, ir.RequestsByStatus["404"], "404s answered during the incident")
	assert.Positive(t, ir.TokenRefusals, "client secret refused by the STS during the incident")
	assert.GreaterOrEqual(t, ir.Kills, ir.KillsPlanned, "kill -9s during the incident")
}
