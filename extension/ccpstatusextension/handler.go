package ccpstatusextension

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/connstate"
)

//go:embed assets
var assets embed.FS

// contentSecurityPolicy allows only same-origin style sheets, scripts and images (no inline
// script or style, nothing from elsewhere).
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"fmtTime": fmtTime,
	"ago":     ago,
	"seconds": seconds,
	"badge":   func(s string) string { return "badge-" + strings.ToLower(s) },
	"add":     func(a, b int) int { return a + b },
	"sub":     func(a, b int) int { return a - b },
}).ParseFS(assets, "assets/*.html"))

func (e *statusExtension) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", e.index)
	mux.HandleFunc("GET /connectors/{id...}", e.connectorPage)
	mux.HandleFunc("GET /api/v1/connectors", e.apiList)
	mux.HandleFunc("GET /api/v1/connectors/{id...}", e.apiConnector)
	mux.HandleFunc("GET /static/style.css", static("assets/style.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /static/copy.js", static("assets/copy.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /static/favicon.svg", static("assets/favicon.svg", "image/svg+xml"))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	return secured(mux)
}

// secured adds the security headers to every answer.
func secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func static(name, contentType string) http.HandlerFunc {
	body, err := assets.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	}
}

type indexRow struct {
	S     connectorSummary
	Chart chart
}

func (e *statusExtension) summaries(now time.Time) []connectorSummary {
	conns := e.reg.Connectors()
	out := make([]connectorSummary, 0, len(conns))
	for _, c := range conns {
		s := c.Snapshot(now)
		ui, ok := e.ui.get(s.Source, s.Poller)
		out = append(out, summarize(s, ui, ok))
	}
	return out
}

func (e *statusExtension) detailOf(id string, now time.Time) (connectorDetail, bool) {
	c := e.reg.Get(id)
	if c == nil {
		return connectorDetail{}, false
	}
	s := c.Snapshot(now)
	ui, ok := e.ui.get(s.Source, s.Poller)
	return detail(s, ui, ok), true
}

func (e *statusExtension) index(w http.ResponseWriter, _ *http.Request) {
	now := e.now()
	rows := []indexRow{}
	for _, s := range e.summaries(now) {
		rows = append(rows, indexRow{S: s, Chart: newChart(s.HourlyEvents, 280, 48, true, s.Title)})
	}
	render(w, "index.html", map[string]any{"PageTitle": "Connectors", "Now": now, "Rows": rows})
}

type dataTypeChart struct {
	DataType string
	Chart    chart
}

func (e *statusExtension) connectorPage(w http.ResponseWriter, r *http.Request) {
	now := e.now()
	d, ok := e.detailOf(r.PathValue("id"), now)
	if !ok {
		http.Error(w, "no such connector; the list is at /", http.StatusNotFound)
		return
	}
	// The registry counts a connector's records, which all go to its one data type: one chart.
	what := d.DataType
	if what == "" && len(d.DataTypes) > 0 {
		what = d.DataTypes[0]
	}
	if what == "" {
		what = "all events"
	}
	charts := []dataTypeChart{{DataType: what, Chart: newChart(d.HourlyEvents, 760, 180, false, what)}}
	render(w, "connector.html", map[string]any{"PageTitle": d.Title, "Now": now, "D": d,
		"Description": renderMarkdown(d.DescriptionMarkdown), "Charts": charts})
}

func (e *statusExtension) apiList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"connectors": e.summaries(e.now())})
}

func (e *statusExtension) apiConnector(w http.ResponseWriter, r *http.Request) {
	d, ok := e.detailOf(r.PathValue("id"), e.now())
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such connector"})
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func fmtTime(t any) string {
	var v time.Time
	switch x := t.(type) {
	case time.Time:
		v = x
	case *time.Time:
		if x != nil {
			v = *x
		}
	}
	if v.IsZero() {
		return "–"
	}
	return v.UTC().Format("2006-01-02 15:04:05Z")
}

func seconds(v any) string {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case *float64:
		if x == nil {
			return "–"
		}
		f = *x
	default:
		return fmt.Sprint(v)
	}
	d := time.Duration(f * float64(time.Second))
	if d < time.Second && d > -time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return human(d)
}

var _ = connstate.StatusConnected
