// Command bench runs the performance paths of issue 13 through the built distro against the
// repository's emulators on 127.0.0.1 and prints one table: events per collector CPU-second,
// mean wire fill, requests per 1,000 events and peak RSS, with the targets beside the figures.
// `make bench-e2e` builds the distro and runs it; see bench/README.md.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
)

var nan = math.NaN()

type flags struct {
	collector                         string
	otlpEvents, pollEvents, dcrEvents int
	backfill                          int
	senders, batch, cpu               int
	only                              string
}

func main() {
	var f flags
	flag.StringVar(&f.collector, "collector", "bin/otelcol-ccp", "the distro binary (make build)")
	flag.IntVar(&f.otlpEvents, "otlp-events", 400_000, "events of path 1 (OTLP/HTTP → azure_monitor_dcr)")
	flag.IntVar(&f.pollEvents, "poll-events", 600_000, "events of path 2 (CCP poll → debug)")
	flag.IntVar(&f.dcrEvents, "dcr-events", 400_000, "events of path 3 (CCP poll → azure_monitor_dcr)")
	flag.IntVar(&f.backfill, "backfill-events", 1_000_000, "events of path 4 (backfill, peak RSS)")
	flag.IntVar(&f.senders, "senders", 8, "concurrent OTLP senders")
	flag.IntVar(&f.batch, "batch", 1000, "log records per OTLP request")
	flag.IntVar(&f.cpu, "cpu", runtime.NumCPU()-1, "the CPU taskset pins the collector to")
	flag.StringVar(&f.only, "only", "", "comma-separated path numbers to run (default all)")
	flag.Parse()
	if err := run(f); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// specs are the four paths with the targets; the timeouts keep the whole run under
// ten minutes.
func specs(f flags) []pathSpec {
	return []pathSpec{
		{name: fmt.Sprintf("1. OTLP/HTTP in (%d senders × %d records) → azure_monitor_dcr", f.senders, f.batch),
			receiver: "otlp", exporter: "azure_monitor_dcr", events: f.otlpEvents, timeout: 2 * time.Minute,
			target: targets{EventsPerCPU: 80_000, Fill: 0.95}},
		{name: "2. CCP poll (pages of 1,000) → debug, basic", receiver: "ccp/bench", exporter: "debug",
			events: f.pollEvents, timeout: 2 * time.Minute, target: targets{EventsPerCPU: 150_000}},
		{name: "3. CCP poll (pages of 1,000) → azure_monitor_dcr", receiver: "ccp/bench", exporter: "azure_monitor_dcr",
			events: f.dcrEvents, timeout: 2 * time.Minute, target: targets{EventsPerCPU: 70_000, Fill: 0.95, ReqPer1k: 0.3}},
		{name: fmt.Sprintf("4. backfill of %s events, CCP poll → azure_monitor_dcr", thousands(int64(f.backfill))),
			receiver: "ccp/bench", exporter: "azure_monitor_dcr", events: f.backfill, timeout: 4 * time.Minute,
			target: targets{PeakRSSMiB: 150}},
	}
}

func run(f flags) error {
	if st, err := os.Stat(f.collector); err != nil || st.IsDir() {
		return fmt.Errorf("collector %s not found; run `make build` first", f.collector)
	}
	dir, err := os.MkdirTemp("", "bench-e2e-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prefix, pin := pinning(f.cpu)
	b := &bench{collector: f.collector, dir: dir, prefix: prefix, senders: f.senders, batch: f.batch,
		sample: 20 * time.Millisecond}
	var rows []result
	for i, s := range specs(f) {
		if f.only != "" && !strings.Contains(","+f.only+",", fmt.Sprintf(",%d,", i+1)) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s (%s events)...\n", s.name, thousands(int64(s.events)))
		r := b.run(i+1, s)
		if r.Err != "" {
			fmt.Fprintf(os.Stderr, "bench: %s: %s\n", s.name, r.Err)
		}
		rows = append(rows, r)
	}
	fmt.Println()
	writeTable(os.Stdout, rows, describeMachine(pin))
	for _, r := range rows {
		if r.Err != "" {
			return fmt.Errorf("%d path(s) incomplete", countErr(rows))
		}
	}
	return nil
}

func countErr(rows []result) int {
	n := 0
	for _, r := range rows {
		if r.Err != "" {
			n++
		}
	}
	return n
}
