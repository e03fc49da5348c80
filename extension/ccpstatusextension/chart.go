package ccpstatusextension

import (
	"fmt"
	"strings"
	"time"
)

// chart is an inline SVG line chart of hourly event counts (the template draws it).
type chart struct {
	Width, Height int
	Left, Top     int // plot area origin
	PlotW, PlotH  int
	Points        string // polyline points "x,y x,y …", one per hour
	Area          string // the polygon under the line
	Dots          []dot  // hours with events
	Max           int64
	Total         int64
	Days          []tick
	Label         string // accessible description
}

type dot struct {
	X, Y  float64
	Title string
}

type tick struct {
	X    float64
	Text string
}

// newChart lays out hourly counts (oldest first). Small charts (the list) omit dots and ticks.
func newChart(hours []hourJSON, width, height int, small bool, what string) chart {
	c := chart{Width: width, Height: height, Left: 44, Top: 8}
	if small {
		c.Left, c.Top = 2, 2
	}
	c.PlotW = width - c.Left - 4
	c.PlotH = height - c.Top - 20
	if small {
		c.PlotH = height - c.Top - 2
	}
	for _, h := range hours {
		c.Total += h.Events
		if h.Events > c.Max {
			c.Max = h.Events
		}
	}
	scale := float64(c.Max)
	if scale == 0 {
		scale = 1
	}
	n := len(hours)
	var pts strings.Builder
	base := float64(c.Top + c.PlotH)
	for i, h := range hours {
		x := float64(c.Left)
		if n > 1 {
			x += float64(i) * float64(c.PlotW) / float64(n-1)
		}
		y := base - float64(h.Events)/scale*float64(c.PlotH)
		fmt.Fprintf(&pts, "%.1f,%.1f ", x, y)
		if !small && h.Events > 0 {
			c.Dots = append(c.Dots, dot{X: x, Y: y, Title: fmt.Sprintf("%s: %d events", h.Hour.UTC().Format("2006-01-02 15:00 UTC"), h.Events)})
		}
		if !small && h.Hour.UTC().Hour() == 0 && x < float64(c.Left+c.PlotW-24) {
			c.Days = append(c.Days, tick{X: x, Text: h.Hour.UTC().Format("Jan 2")})
		}
	}
	c.Points = strings.TrimSpace(pts.String())
	if n > 0 {
		c.Area = fmt.Sprintf("%d,%.1f %s %d,%.1f", c.Left, base, c.Points, c.Left+c.PlotW, base)
	}
	c.Label = fmt.Sprintf("%s: %d events in the last %d days, at most %d in one hour", what, c.Total, len(hours)/24, c.Max)
	return c
}

// ago says how long before now t was, coarsely ("3m ago"); "never" for a zero time.
func ago(now time.Time, t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return human(now.Sub(*t)) + " ago"
}

// human prints a duration coarsely: 45s, 12m, 3h5m, 2d4h.
func human(d time.Duration) string {
	if d < 0 {
		return "-" + human(-d)
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
