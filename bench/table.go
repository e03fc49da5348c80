package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// result is one row of the table. NaN marks a figure the path does not have.
type result struct {
	Path        string
	Events      int64   // counted by the emulators
	CPUSeconds  float64 // collector utime+stime over the run
	Wall        float64 // seconds
	Fill        float64 // mean bytes on the wire / 1,048,576, final request excluded
	ReqPer1k    float64
	MaxReqBytes int64
	GzipRatio   float64 // bytes before gzip / bytes on the wire, of the accepted requests
	PeakRSSKiB  int64
	Err         string // why the row is incomplete (timeout, collector exit)
	Target      targets
}

// targets are the figures; zero means none.
type targets struct {
	EventsPerCPU float64 // at least
	Fill         float64 // at least
	ReqPer1k     float64 // at most
	PeakRSSMiB   float64 // at most
}

func (r result) eventsPerCPU() float64 {
	if r.CPUSeconds <= 0 || r.Events == 0 {
		return math.NaN()
	}
	return float64(r.Events) / r.CPUSeconds
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// cell formats a figure with its target beside it ("–" for no figure).
func cell(v float64, format func(float64) string, target float64, op string) string {
	s := "–"
	if !math.IsNaN(v) {
		s = format(v)
	}
	if target > 0 {
		s += " (target " + op + " " + format(target) + ")"
	}
	return s
}

func fmtInt(v float64) string  { return thousands(int64(math.Round(v))) }
func fmtFill(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
func fmtReq(v float64) string  { return strconv.FormatFloat(v, 'f', 2, 64) }
func fmtMiB(v float64) string  { return strconv.FormatFloat(v, 'f', 0, 64) + " MiB" }

// writeTable prints the Markdown table, then one line of detail per row and the machine.
func writeTable(w io.Writer, rows []result, m machine) {
	fmt.Fprintln(w, "| path | events/CPU-s | wire fill | req/1k events | peak RSS |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rows {
		rss := math.NaN()
		if r.PeakRSSKiB > 0 {
			rss = float64(r.PeakRSSKiB) / 1024
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.Path,
			cell(r.eventsPerCPU(), fmtInt, r.Target.EventsPerCPU, "≥"),
			cell(r.Fill, fmtFill, r.Target.Fill, "≥"),
			cell(r.ReqPer1k, fmtReq, r.Target.ReqPer1k, "≤"),
			cell(rss, fmtMiB, r.Target.PeakRSSMiB, "≤"))
	}
	fmt.Fprintln(w)
	for i, r := range rows {
		fmt.Fprintf(w, "%d. %s events, %.2f CPU-s, %.1f s wall", i+1, thousands(r.Events), r.CPUSeconds, r.Wall)
		if r.MaxReqBytes > 0 {
			fmt.Fprintf(w, ", largest request %s bytes on the wire, gzip ratio %.1f", thousands(r.MaxReqBytes), r.GzipRatio)
		}
		if r.Err != "" {
			fmt.Fprintf(w, ", INCOMPLETE: %s", strings.SplitN(r.Err, "\n", 2)[0])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nmachine: %d CPUs (nproc), %s, %s; collector: %s\n", m.CPUs, m.Model, m.GoVersion, m.Pinning)
}
