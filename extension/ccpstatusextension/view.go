package ccpstatusextension

import (
	"net/url"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

// connectorSummary is one connector of the list (GET /api/v1/connectors, the / page).
type connectorSummary struct {
	ID                  string      `json:"id"`
	Page                string      `json:"page"`
	Title               string      `json:"title"`
	Publisher           string      `json:"publisher,omitempty"`
	Kind                string      `json:"kind,omitempty"`
	Name                string      `json:"name"`
	Source              string      `json:"source"`
	Poller              string      `json:"poller,omitempty"`
	DataType            string      `json:"data_type,omitempty"`
	DCRImmutableID      string      `json:"dcr_immutable_id,omitempty"`
	StreamName          string      `json:"stream_name,omitempty"`
	WindowSizeSeconds   float64     `json:"window_size_seconds"`
	Started             time.Time   `json:"started"`
	Status              string      `json:"status"`
	Reason              string      `json:"reason,omitempty"`
	ConsecutiveFailures int         `json:"consecutive_failures"`
	LastError           string      `json:"last_error,omitempty"`
	LastErrorAt         *time.Time  `json:"last_error_at,omitempty"`
	LastDataReceived    *time.Time  `json:"last_data_received,omitempty"`
	LastCompletedWindow *windowJSON `json:"last_completed_window,omitempty"`
	LagSeconds          *float64    `json:"lag_seconds,omitempty"`
	EventsLast14Days    int64       `json:"events_last_14_days"`
	HourlyEvents        []hourJSON  `json:"hourly_events"`
}

// connectorDetail is one connector's page (GET /api/v1/connectors/{id}).
type connectorDetail struct {
	connectorSummary
	DescriptionMarkdown string            `json:"description_markdown,omitempty"`
	Instructions        []instructionJSON `json:"instructions,omitempty"`
	Prerequisites       []prereqJSON      `json:"prerequisites,omitempty"`
	DataTypes           []string          `json:"data_types"`
	SampleQueries       []sampleJSON      `json:"sample_queries,omitempty"`
	History             []windowJSON      `json:"history"`
	Requests            []traceJSON       `json:"requests"`
}

type hourJSON struct {
	Hour   time.Time `json:"hour"`
	Events int64     `json:"events"`
}

type windowJSON struct {
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Began           time.Time `json:"began"`
	Finished        time.Time `json:"finished"`
	DurationSeconds float64   `json:"duration_seconds"`
	Records         int       `json:"records"`
	Pages           int       `json:"pages"`
	Requests        int       `json:"requests"`
	Retries         int       `json:"retries"`
	Outcome         string    `json:"outcome"`
	Error           string    `json:"error,omitempty"`
	StatusCode      int       `json:"status_code,omitempty"`
	Skipped         []string  `json:"skipped,omitempty"`
	Dropped         []string  `json:"dropped,omitempty"`
}

type traceJSON struct {
	Time            time.Time `json:"time"`
	Method          string    `json:"method"`
	URL             string    `json:"url"`
	Status          int       `json:"status"`
	DurationSeconds float64   `json:"duration_seconds"`
	Bytes           int       `json:"bytes"`
	Error           string    `json:"error,omitempty"`
}

type instructionJSON struct {
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Depth       int    `json:"depth,omitempty"`
}

type prereqJSON struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

type sampleJSON struct {
	Description string `json:"description,omitempty"`
	Query       string `json:"query"`
}

// pagePath is the connector page of a component ID: the ID path-escaped ("ccp/okta" →
// "/connectors/ccp%2Fokta").
func pagePath(id string) string { return "/connectors/" + url.PathEscape(id) }

func summarize(s connstate.Snapshot, ui connectorfile.UI, hasUI bool) connectorSummary {
	out := connectorSummary{ID: s.ID, Page: pagePath(s.ID), Title: s.Name, Kind: s.Kind, Name: s.Name,
		Source: s.Source, Poller: s.Poller, DataType: s.DataType, DCRImmutableID: s.DCRImmutableID,
		StreamName: s.StreamName, WindowSizeSeconds: s.WindowSize.Seconds(), Started: s.Started,
		Status: s.Status, Reason: s.Reason, ConsecutiveFailures: s.Failures, LastError: s.LastError,
		LastErrorAt: timePtr(s.LastErrorAt), LastDataReceived: timePtr(s.LastDataReceived)}
	if hasUI {
		if ui.Title != "" {
			out.Title = ui.Title
		}
		out.Publisher = ui.Publisher
	}
	if out.Kind == "" {
		out.Kind = ui.Kind // from the definition file when the receiver did not say
	}
	if out.Title == "" {
		out.Title = s.ID
	}
	if s.LastWindow != nil {
		w := windowOf(*s.LastWindow)
		out.LastCompletedWindow = &w
		lag := s.Lag.Seconds()
		out.LagSeconds = &lag
	}
	out.HourlyEvents = make([]hourJSON, 0, len(s.Hourly))
	for _, h := range s.Hourly {
		out.EventsLast14Days += h.Events
		out.HourlyEvents = append(out.HourlyEvents, hourJSON{Hour: h.Hour, Events: h.Events})
	}
	return out
}

func detail(s connstate.Snapshot, ui connectorfile.UI, hasUI bool) connectorDetail {
	d := connectorDetail{connectorSummary: summarize(s, ui, hasUI)}
	if hasUI {
		d.DescriptionMarkdown = ui.DescriptionMarkdown
		for _, in := range ui.Instructions {
			d.Instructions = append(d.Instructions, instructionJSON(in))
		}
		for _, p := range ui.Prerequisites {
			d.Prerequisites = append(d.Prerequisites, prereqJSON(p))
		}
		for _, q := range ui.SampleQueries {
			d.SampleQueries = append(d.SampleQueries, sampleJSON(q))
		}
		d.DataTypes = append(d.DataTypes, ui.DataTypes...)
	}
	if len(d.DataTypes) == 0 && s.DataType != "" {
		d.DataTypes = []string{s.DataType}
	}
	if d.DataTypes == nil {
		d.DataTypes = []string{}
	}
	d.History = make([]windowJSON, 0, len(s.History))
	for _, w := range s.History {
		d.History = append(d.History, windowOf(w))
	}
	d.Requests = make([]traceJSON, 0, len(s.Traces))
	for _, t := range s.Traces {
		d.Requests = append(d.Requests, traceJSON{Time: t.Time, Method: t.Method, URL: t.URL, Status: t.Status,
			DurationSeconds: t.Duration.Seconds(), Bytes: t.Bytes, Error: t.Error})
	}
	return d
}

func windowOf(w connstate.Window) windowJSON {
	out := windowJSON{Start: w.Start, End: w.End, Began: w.Began, Finished: w.Finished, Records: w.Records,
		Pages: w.Pages, Requests: w.Requests, Retries: w.Retries, Outcome: w.Outcome, Error: w.Error,
		StatusCode: w.StatusCode, Skipped: w.Skipped, Dropped: w.Dropped}
	if !w.Began.IsZero() && w.Finished.After(w.Began) {
		out.DurationSeconds = w.Finished.Sub(w.Began).Seconds()
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
