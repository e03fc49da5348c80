package main

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.yaml.in/yaml/v3"
)

func TestParseStatTicks(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields; utime 1234, stime 56.
	stat := "4242 (otel col) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 9 0 1 2 3\n"
	n, err := parseStatTicks([]byte(stat))
	require.NoError(t, err)
	assert.Equal(t, int64(1290), n)

	_, err = parseStatTicks([]byte("4242 (short) S 1 2"))
	assert.Error(t, err)
	_, err = parseStatTicks([]byte("no name here"))
	assert.Error(t, err)
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\totelcol-ccp\nVmPeak:\t  900000 kB\nVmHWM:\t   81234 kB\nVmRSS:\t   70000 kB\n"
	kb, err := parseStatusKB([]byte(status), "VmHWM")
	require.NoError(t, err)
	assert.Equal(t, int64(81234), kb)
	_, err = parseStatusKB([]byte("Name:\tx\n"), "VmHWM")
	assert.Error(t, err)
}

func TestProcReaderOnThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux only")
	}
	p := procReader{pid: os.Getpid(), ticks: clockTicks()}
	before, err := p.cpuSeconds()
	require.NoError(t, err)
	// Burn a little CPU (bounded in time), so the reading must grow.
	end := time.Now().Add(300 * time.Millisecond)
	x := 0
	for time.Now().Before(end) {
		x++
	}
	after, err := p.cpuSeconds()
	require.NoError(t, err)
	assert.Greater(t, after, before, "CPU time grows (%d iterations)", x)
	hwm, err := p.peakRSSKiB()
	require.NoError(t, err)
	assert.Greater(t, hwm, int64(1000), "a Go test binary holds more than 1 MB")
}

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	assert.Equal(t, "AMD EPYC 7B13", cpuModel([]byte(info)))
	assert.Equal(t, "unknown", cpuModel([]byte("processor\t: 0\n")))
}

func TestWriteTable(t *testing.T) {
	rows := []result{
		{Path: "OTLP", Events: 200_000, CPUSeconds: 2.5, Fill: 0.31234, ReqPer1k: 1, MaxReqBytes: 330_000,
			GzipRatio: 3.2, PeakRSSKiB: 102_400, Target: targets{EventsPerCPU: 80_000, Fill: 0.95}},
		{Path: "debug", Events: 300_000, CPUSeconds: 1.5, Fill: nan, ReqPer1k: nan, PeakRSSKiB: 51_200,
			Target: targets{EventsPerCPU: 150_000}},
		{Path: "backfill", Events: 12_000, CPUSeconds: 1, Fill: 0.5, ReqPer1k: 0.25, Err: "timed out at 12000 of 1000000 events\nlog tail",
			Target: targets{PeakRSSMiB: 150, ReqPer1k: 0.3}},
	}
	var b bytes.Buffer
	writeTable(&b, rows, machine{CPUs: 2, Model: "AMD EPYC", GoVersion: "go1.26.8", Pinning: "GOMAXPROCS=1"})
	out := b.String()
	assert.Contains(t, out, "| path | events/CPU-s | wire fill | req/1k events | peak RSS |\n|---|---|---|---|---|\n")
	assert.Contains(t, out, "| OTLP | 80,000 (target ≥ 80,000) | 0.312 (target ≥ 0.950) | 1.00 | 100 MiB |")
	assert.Contains(t, out, "| debug | 200,000 (target ≥ 150,000) | – | – | 50 MiB |")
	assert.Contains(t, out, "| backfill | 12,000 | 0.500 | 0.25 (target ≤ 0.30) | – (target ≤ 150 MiB) |")
	assert.Contains(t, out, "1. 200,000 events, 2.50 CPU-s, 0.0 s wall, largest request 330,000 bytes on the wire, gzip ratio 3.2\n")
	assert.Contains(t, out, "3. 12,000 events, 1.00 CPU-s, 0.0 s wall, INCOMPLETE: timed out at 12000 of 1000000 events\n")
	assert.NotContains(t, out, "log tail", "only the first line of an error goes into the details")
	assert.Contains(t, out, "machine: 2 CPUs (nproc), AMD EPYC, go1.26.8; collector: GOMAXPROCS=1")
}

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		assert.Equal(t, want, thousands(in))
	}
	assert.True(t, math.IsNaN(result{}.eventsPerCPU()))
}

func TestCollectorConfigs(t *testing.T) {
	vars := func() map[string]string {
		return map[string]string{"HEALTH": "1", "METRICS": "2", "OTLP": "3", "STATE": "/tmp/s", "API": "http://127.0.0.1:4",
			"APIKEY": "k", "DCE": "https://127.0.0.1:5", "DCR": "dcr-1", "STREAM": "Custom-X_CL", "TENANT": "t",
			"CLIENT": "c", "AUTHORITY": "https://127.0.0.1:5/", "CA": "/tmp/ca.pem", "EXPORTER": "debug"}
	}
	for _, recv := range []string{"otlp", "ccp/bench"} {
		out, err := collectorConfig(recv, vars())
		require.NoError(t, err, recv)
		var doc struct {
			Service struct {
				Pipelines map[string]struct{ Receivers, Exporters []string }
			}
		}
		require.NoError(t, yaml.Unmarshal([]byte(out), &doc), out)
		assert.Equal(t, []string{recv}, doc.Service.Pipelines["logs"].Receivers)
		assert.Equal(t, []string{"debug"}, doc.Service.Pipelines["logs"].Exporters)
		assert.NotContains(t, out, "client_secret: c", "the secret comes from the environment")
	}
	v := vars()
	delete(v, "CA")
	_, err := collectorConfig("otlp", v)
	assert.ErrorContains(t, err, "marker left unset")
	_, err = collectorConfig("kafka", vars())
	assert.Error(t, err)
}

func TestOTLPBatch(t *testing.T) {
	b, err := otlpBatch(10, 100, time.Unix(1_700_000_000, 0))
	require.NoError(t, err)
	req := plogotlp.NewExportRequest()
	require.NoError(t, req.UnmarshalProto(b))
	recs := req.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	require.Equal(t, 100, recs.Len())
	body := recs.At(5).Body().Map()
	id, _ := body.Get("id")
	assert.Equal(t, "evt-0000000015", id.Str())
	size := len(recs.At(5).Body().AsString())
	assert.InDelta(t, eventSize, size, 80, "about 1 KB of JSON per record")
	// Compressible like log text, not like a repeated pattern.
	var gzb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gzb, 1)
	for i := range recs.Len() {
		_, _ = zw.Write([]byte(recs.At(i).Body().AsString()))
	}
	require.NoError(t, zw.Close())
	ratio := float64(100*size) / float64(gzb.Len())
	assert.Greater(t, ratio, 2.0)
	assert.Less(t, ratio, 8.0)
}

// TestTinyRun runs one path of 5,000 events through the built distro so the harness cannot
// rot. `make test` builds the distro first; without it the test builds it, as e2e does.
func TestTinyRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built distro; skipped with -short like the e2e tests")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	bin := filepath.Join(root, "bin", "otelcol-ccp")
	if _, err := os.Stat(bin); err != nil {
		cmd := exec.Command("make", "-C", root, "build")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		require.NoError(t, cmd.Run(), "make build")
	}
	prefix, _ := pinning(runtime.NumCPU() - 1)
	b := &bench{collector: bin, dir: t.TempDir(), prefix: prefix, senders: 2, batch: 1000, sample: 20 * time.Millisecond}
	r := b.run(1, pathSpec{name: "tiny", receiver: "ccp/bench", exporter: "azure_monitor_dcr", events: 5000, timeout: 60 * time.Second})
	require.Empty(t, r.Err)
	assert.Equal(t, int64(5000), r.Events, "every event stored, none twice")
	assert.Greater(t, r.CPUSeconds, 0.0)
	assert.Greater(t, r.Fill, 0.0)
	assert.LessOrEqual(t, r.MaxReqBytes, int64(1<<20))
	assert.Greater(t, r.ReqPer1k, 0.0)
	assert.Greater(t, r.PeakRSSKiB, int64(10_000))
}
