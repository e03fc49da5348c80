// Package grafana holds the Grafana dashboard of the distribution; this test keeps its queries
// in step with the metrics the components declare.
package grafana

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// metadataFiles declare the metrics the dashboard may query (the collector exports them with
// the otelcol_ prefix).
var metadataFiles = []string{
	"../../receiver/ccpreceiver/metadata.yaml",
	"../../receiver/ccphealthreceiver/metadata.yaml",
	"../../exporter/azuremonitordcrexporter/metadata.yaml",
}

type metricDecl struct {
	Histogram *struct{} `yaml:"histogram"`
}

// declared returns every telemetry metric of the metadata files: name → is a histogram.
func declared(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range metadataFiles {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var md struct {
			Telemetry struct {
				Metrics map[string]metricDecl `yaml:"metrics"`
			} `yaml:"telemetry"`
		}
		require.NoError(t, yaml.Unmarshal(b, &md), f)
		require.NotEmpty(t, md.Telemetry.Metrics, "%s declares no telemetry metrics", f)
		for name, m := range md.Telemetry.Metrics {
			out[name] = m.Histogram != nil
		}
	}
	return out
}

type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

func load(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("otelcol-ccp.json"))
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

var metricRef = regexp.MustCompile(`\botelcol_[a-z0-9_]+`)

// metricOf maps a queried series name to the declared metric: otelcol_ prefix off and, for a
// histogram, the _bucket/_sum/_count suffix off. ok is false for an undeclared name.
func metricOf(series string, decl map[string]bool) (string, bool) {
	name := strings.TrimPrefix(series, "otelcol_")
	if _, ok := decl[name]; ok {
		return name, !decl[name] // a histogram is only queried through its series
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, cut := strings.CutSuffix(name, suffix)
		if cut && decl[base] {
			return base, true
		}
	}
	return name, false
}

// TestDashboardQueriesDeclaredMetrics: every metric the dashboard queries exists in the
// components' metadata.yaml, and every declared metric is on the dashboard.
func TestDashboardQueriesDeclaredMetrics(t *testing.T) {
	decl := declared(t)
	d := load(t)
	used := map[string]bool{}
	check := func(where, expr string) {
		refs := metricRef.FindAllString(expr, -1)
		assert.NotEmpty(t, refs, "%s queries no otelcol_ metric: %s", where, expr)
		for _, s := range refs {
			name, ok := metricOf(s, decl)
			assert.True(t, ok, "%s queries %s, which no metadata.yaml declares (or a histogram without _bucket/_sum/_count)", where, s)
			used[name] = true
		}
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			check("variable "+v.Name, v.Definition)
		}
	}
	var missing []string
	for name := range decl {
		if !used[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "metrics declared in metadata.yaml but on no panel of the dashboard: add a panel")
}

// TestDashboardIsWellFormed: what Grafana needs to import it and what keeps panels usable.
func TestDashboardIsWellFormed(t *testing.T) {
	d := load(t)
	assert.Equal(t, "otelcol-ccp", d.UID)
	assert.NotEmpty(t, d.Title)
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	assert.Equal(t, []string{"datasource", "job", "instance"}, vars)
	ids := map[int]bool{}
	for _, p := range d.Panels {
		assert.False(t, ids[p.ID], "panel id %d repeated", p.ID)
		ids[p.ID] = true
		assert.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, "panel %q is wider than the grid", p.Title)
		if p.Type == "row" {
			continue
		}
		assert.Equal(t, "${datasource}", p.Datasource.UID, "panel %q must use the datasource variable", p.Title)
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			assert.False(t, refs[tg.RefID], "panel %q repeats refId %s", p.Title, tg.RefID)
			refs[tg.RefID] = true
			assert.Contains(t, tg.Expr, `job=~"$job"`, "panel %q ignores the job filter", p.Title)
			assert.Equal(t, strings.Count(tg.Expr, "("), strings.Count(tg.Expr, ")"), "panel %q: unbalanced parentheses", p.Title)
		}
	}
}
