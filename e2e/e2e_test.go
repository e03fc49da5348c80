// Package e2e runs the built distribution (bin/otelcol-ccp) as a subprocess against the
// repository's emulators and checks what a user would: every event the vendor API served is
// ingested exactly once, also across a restart, and the demo's failure modes are clear.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/demoenv"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

var (
	root      string
	collector string
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	root = filepath.Dir(filepath.Dir(file))
	collector = os.Getenv("CCP_COLLECTOR")
	if collector == "" {
		collector = filepath.Join(root, "bin", "otelcol-ccp")
		if _, err := os.Stat(collector); err != nil {
			// `make test` builds first; a bare `go test ./...` builds here.
			cmd := exec.Command("make", "-C", root, "build")
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "e2e: building the distro failed:", err)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// syncBuffer collects a subprocess's output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

func startCollector(t *testing.T, env []string, config string) *proc {
	t.Helper()
	cmd := exec.Command(collector, "--config", config)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		p.done <- err
		require.NoError(t, err, "collector exit; log:\n%s", p.out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("collector did not stop within 30s; log:\n%s", p.out.String())
	}
}

func waitUntil(t *testing.T, p *proc, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("collector exited (%v) while waiting for %s; log:\n%s", err, what, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; log:\n%s", limit, what, p.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ids(t *testing.T, env *demoenv.Env) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, row := range env.Ingest.Rows(demoenv.DCRImmutableID, demoenv.StreamName) {
		id, _ := row["id"].(string)
		require.NotEmpty(t, id, "row without id: %v", row)
		seen[id]++
	}
	return seen
}

func TestDemoConfigEndToEndExactlyOnceAcrossRestart(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute)
	env, err := demoenv.Start(demoenv.Options{
		VendorAddr: "127.0.0.1:0", IngestAddr: "127.0.0.1:0", StateDir: t.TempDir(), Events: 2000,
		Vendor: func(c *vendorapi.Config) { c.End, c.Span = end, 2*time.Hour },
	})
	require.NoError(t, err)
	defer env.Close()
	// Debug-level logs: the run below also proves no credential reaches the log at any level.
	cenv := append(env.CollectorEnv(), "CCP_DEMO_LOOKBACK=3h", "CCP_DEMO_LOG_LEVEL=debug")
	config := filepath.Join(root, "testdata", "demo", "config.yaml")

	p := startCollector(t, cenv, config)
	waitUntil(t, p, "2000 rows ingested", 4*time.Minute, func() bool { return env.Ingested() >= 2000 })
	p.stop(t)

	served, _ := env.Vendor.Served()
	require.EqualValues(t, 2000, served, "the vendor API served every event")
	seen := ids(t, env)
	assert.Len(t, seen, 2000)
	for id, n := range seen {
		require.Equal(t, 1, n, "event %s ingested %d times", id, n)
	}
	for _, id := range env.Vendor.ServedIDs() {
		require.Contains(t, seen, id, "served but not ingested")
	}
	logs := p.out.String()
	require.Contains(t, logs, "debug", "the collector really logged at debug level")
	for _, secret := range []string{demoenv.APIKey, demoenv.ClientSecret} {
		assert.NotContains(t, logs, secret, "a credential reached the collector's log")
	}
	row := env.Ingest.Rows(demoenv.DCRImmutableID, demoenv.StreamName)[0]
	assert.Equal(t, row["src_ip"], row["SrcIpAddr"], "the transform processor mapped ASIM names")

	// Restart: the collector resumes from its checkpoint, polls again and ingests nothing twice.
	before := env.Vendor.Stats().Requests
	p = startCollector(t, cenv, config)
	waitUntil(t, p, "a poll after restart", 3*time.Minute, func() bool { return env.Vendor.Stats().Requests > before })
	time.Sleep(2 * time.Second) // let an (erroneously) re-polled page reach the emulator
	p.stop(t)
	assert.Contains(t, p.out.String(), "resuming from checkpoint")
	seen = ids(t, env)
	assert.Len(t, seen, 2000)
	for id, n := range seen {
		require.Equal(t, 1, n, "event %s ingested %d times after the restart", id, n)
	}
}

func TestComponentsAndValidate(t *testing.T) {
	out, err := exec.Command(collector, "components").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "name: ccp")
	assert.Contains(t, string(out), "name: azure_monitor_dcr")

	cmd := exec.Command(collector, "validate", "--config", filepath.Join("testdata", "demo", "config.yaml"))
	cmd.Dir = root
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, string(out))

	demo, err := os.ReadFile(filepath.Join(root, "testdata", "demo", "config.yaml"))
	require.NoError(t, err)
	bad := strings.Replace(string(demo), "initial_lookback:", "initial_lookbak:", 1)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o600))
	cmd = exec.Command(collector, "validate", "--config", path)
	cmd.Dir = root
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "initial_lookbak", "the misspelt key is named")
}

func TestDemoFailsClearly(t *testing.T) {
	emu := filepath.Join(t.TempDir(), "ccpemulator")
	build := exec.Command("go", "build", "-o", emu, "./internal/emulator/ccpemulator")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, emu, args...)
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		require.NoError(t, ctx.Err(), "the demo must fail fast, not hang")
		return string(b), err
	}
	state := t.TempDir()
	msg, err := run("demo", "--collector", filepath.Join(state, "missing"), "--state-dir", state)
	require.Error(t, err)
	assert.Contains(t, msg, "not found or not executable; run `make build` first")

	env, err := demoenv.Start(demoenv.Options{VendorAddr: "127.0.0.1:0", IngestAddr: "127.0.0.1:0", StateDir: t.TempDir()})
	require.NoError(t, err)
	defer env.Close()
	busy := strings.TrimPrefix(env.Vendor.URL(), "http://")
	msg, err = run("demo", "--collector", collector, "--vendor-addr", busy, "--ingest-addr", "127.0.0.1:0", "--state-dir", state)
	require.Error(t, err)
	assert.Contains(t, msg, "already in use")

	// A collector that cannot start (bad config) ends the demo with an error, not a hang.
	badCfg := filepath.Join(state, "bad.yaml")
	require.NoError(t, os.WriteFile(badCfg, []byte("receivers: {nope: {}}\n"), 0o600))
	msg, err = run("demo", "--collector", collector, "--config", badCfg, "--vendor-addr", "127.0.0.1:0", "--ingest-addr", "127.0.0.1:0", "--state-dir", state)
	require.Error(t, err)
	assert.Contains(t, msg, "the collector stopped unexpectedly")
}
