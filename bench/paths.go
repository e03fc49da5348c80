package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/demoenv"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// pathSpec is one of the measured paths.
type pathSpec struct {
	name     string
	receiver string // "otlp" or "ccp/bench"
	exporter string // "azure_monitor_dcr" or "debug"
	events   int
	timeout  time.Duration
	target   targets
}

// bench holds what every path shares.
type bench struct {
	collector string
	dir       string
	prefix    []string // taskset, when available
	senders   int
	batch     int
	sample    time.Duration // how often progress and CPU time are read
}

// run measures one path against fresh emulators and a fresh collector.
func (b *bench) run(i int, s pathSpec) result {
	res := result{Path: s.name, Target: s.target, Fill: nanIf(s.exporter != "azure_monitor_dcr")}
	res.ReqPer1k = res.Fill
	if err := b.measure(i, s, &res); err != nil {
		res.Err = err.Error()
	}
	return res
}

func nanIf(c bool) float64 {
	if c {
		return nan
	}
	return 0
}

func (b *bench) measure(i int, s pathSpec, res *result) error {
	dir := filepath.Join(b.dir, strconv.Itoa(i))
	env, err := startEnv(dir, s.events)
	if err != nil {
		return err
	}
	defer env.Close()
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	cfg, err := collectorConfig(s.receiver, map[string]string{
		"HEALTH": ports[0], "METRICS": ports[1], "OTLP": ports[2], "STATE": filepath.Join(dir, "state"),
		"API": env.Vendor.URL(), "APIKEY": demoenv.APIKey, "DCE": env.Ingest.IngestURL(),
		"DCR": demoenv.DCRImmutableID, "STREAM": demoenv.StreamName, "TENANT": demoenv.TenantID,
		"CLIENT": demoenv.ClientID, "AUTHORITY": env.Ingest.AuthorityHost(), "CA": env.Ingest.CAFile(),
		"EXPORTER": s.exporter,
	})
	if err != nil {
		return err
	}
	cfgPath, err := writeConfig(dir, "collector.yaml", cfg)
	if err != nil {
		return err
	}
	p, err := startCollector(b.collector, cfgPath, filepath.Join(dir, "collector.log"), b.prefix,
		[]string{"BENCH_CLIENT_SECRET=" + demoenv.ClientSecret})
	if err != nil {
		return err
	}
	defer p.stop()
	deadline := time.Now().Add(s.timeout)
	if s.receiver == "otlp" {
		err = b.otlp(p, env, ports, s, deadline, res)
	} else {
		err = b.poll(p, env, s, deadline, res)
	}
	if hwm, herr := p.peakRSSKiB(); herr == nil {
		res.PeakRSSKiB = hwm
	}
	if s.exporter == "azure_monitor_dcr" {
		wire := env.Ingest.Stats().Wire
		res.Fill = wire.MeanFill(logsingestion.DefaultMaxWireBytes)
		res.MaxReqBytes = wire.MaxBytes
		if wire.Bytes > 0 {
			res.GzipRatio = float64(wire.Decompressed) / float64(wire.Bytes)
		}
		if res.Events > 0 {
			res.ReqPer1k = float64(wire.Requests) * 1000 / float64(res.Events)
		}
	}
	return err
}

// startEnv starts the emulators: the vendor API holds events of ~1 KB, published over the 50
// minutes before the last full minute, served in pages of 1,000 with NextPageToken paging; the
// Logs Ingestion emulator checks every request as the service does and counts the rows.
func startEnv(dir string, events int) (*demoenv.Env, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	end := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute)
	return demoenv.Start(demoenv.Options{
		VendorAddr: "127.0.0.1:0", IngestAddr: "127.0.0.1:0", StateDir: dir, Events: events,
		Vendor: func(c *vendorapi.Config) {
			c.End, c.Span = end, 50*time.Minute
			c.PageSize, c.MaxPageSize = 1000, 1000
		},
		Ingest: func(o *logsingestion.Options) { o.DiscardRows = true },
	})
}

func freePorts(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// otlp: once the collector is healthy, the senders push every batch; the run ends when the
// Logs Ingestion emulator has stored every record.
func (b *bench) otlp(p *collectorProc, env *demoenv.Env, ports []string, s pathSpec, deadline time.Time, res *result) error {
	load, err := newOTLPLoad("http://127.0.0.1:"+ports[2]+"/v1/logs", b.senders, b.batch, s.events)
	if err != nil {
		return err
	}
	if err := p.waitHealthy(ports[0], 60*time.Second); err != nil {
		return err
	}
	cpu0, err := p.cpuSeconds()
	if err != nil {
		return err
	}
	t0 := time.Now()
	sent := make(chan error, 1)
	go func() { sent <- load.run(deadline) }()
	rows := func() int64 { return int64(env.Ingest.RowCount()) }
	werr := b.waitFor(p, rows, int64(load.total/load.batchSize*load.batchSize), deadline)
	if err := <-sent; err != nil && werr == nil {
		werr = err
	}
	return finish(p, cpu0, t0, rows(), res, werr)
}

// poll: the receiver starts polling as soon as it starts; the CPU time is taken from the last
// sample before the vendor API served its first event (so the collector's start-up is not
// counted) to the moment the emulators hold every event.
func (b *bench) poll(p *collectorProc, env *demoenv.Env, s pathSpec, deadline time.Time, res *result) error {
	served := func() int64 { u, _ := env.Vendor.Served(); return u }
	cpu0, t0, err := b.baseline(p, served, deadline)
	if err != nil {
		return err
	}
	if s.exporter == "debug" {
		err = b.waitFor(p, served, int64(s.events), deadline)
		if err == nil {
			b.settle(p, deadline)
		}
		return finish(p, cpu0, t0, served(), res, err)
	}
	rows := func() int64 { return int64(env.Ingest.RowCount()) }
	err = b.waitFor(p, rows, int64(s.events), deadline)
	return finish(p, cpu0, t0, rows(), res, err)
}

// baseline samples the collector's CPU time until the vendor API has served an event and
// returns the last sample taken before.
func (b *bench) baseline(p *collectorProc, served func() int64, deadline time.Time) (float64, time.Time, error) {
	var cpu float64
	t := time.Now()
	for time.Now().Before(deadline) {
		c, err := p.cpuSeconds()
		if err != nil || p.exited() {
			return 0, t, fmt.Errorf("the collector exited before polling; log tail:\n%s", tailFile(p.log, 20))
		}
		if served() > 0 {
			return cpu, t, nil
		}
		cpu, t = c, time.Now()
		time.Sleep(b.sample)
	}
	return 0, t, fmt.Errorf("the vendor API served nothing before the deadline; log tail:\n%s", tailFile(p.log, 20))
}

// waitFor waits until count() reaches want, the collector exits or the deadline passes.
func (b *bench) waitFor(p *collectorProc, count func() int64, want int64, deadline time.Time) error {
	for count() < want {
		if p.exited() {
			return fmt.Errorf("the collector exited at %d of %d events; log tail:\n%s", count(), want, tailFile(p.log, 20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out at %d of %d events", count(), want)
		}
		time.Sleep(b.sample)
	}
	return nil
}

// settle waits (at most 5 s) until the collector's CPU time stops growing: the debug exporter
// is still writing the last pages when the vendor API has served them.
func (b *bench) settle(p *collectorProc, deadline time.Time) {
	last, _ := p.cpuSeconds()
	limit := time.Now().Add(5 * time.Second)
	for time.Now().Before(limit) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		c, err := p.cpuSeconds()
		if err != nil || c-last < 0.015 { // at most one clock tick in 200 ms: idle
			return
		}
		last = c
	}
}

func finish(p *collectorProc, cpu0 float64, t0 time.Time, events int64, res *result, err error) error {
	cpu1, cerr := p.cpuSeconds()
	if cerr != nil && err == nil {
		err = cerr
	}
	res.Events, res.CPUSeconds, res.Wall = events, cpu1-cpu0, time.Since(t0).Seconds()
	return err
}
