package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The collector configurations: the receiver's and the exporter's defaults plus what a user must
// set (endpoints, credentials, the definition). The ccp receiver keeps the README's minimal
// shape (storage for checkpoints; initial_lookback over the backfill). The collector's own
// metrics stay on (default level) but on a free port, so runs never collide.
const (
	configHead = `extensions:
  health_check: {endpoint: "127.0.0.1:@HEALTH@"}
  file_storage: {directory: "@STATE@", create_directory: true}
`
	otlpReceiver = `receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:@OTLP@"}
`
	ccpReceiver = `receivers:
  ccp/bench:
    storage: file_storage
    initial_lookback: 60m
    parameters:
      apiBase: "@API@"
      apiKey: "@APIKEY@"
      dce: "@DCE@"
    polling_config:
      connectorDefinitionName: BenchSecurityEventsCCP
      dataType: BenchSecurityEvents_CL
      dcrConfig:
        dataCollectionEndpoint: "{{dce}}"
        dataCollectionRuleImmutableId: @DCR@
        streamName: @STREAM@
      auth: {type: APIKey, ApiKeyName: X-Api-Key, ApiKey: "{{apiKey}}"}
      request:
        apiEndpoint: "{{apiBase}}/api/v1/events"
        httpMethod: Get
        queryWindowInMin: 60
        queryTimeFormat: yyyy-MM-ddTHH:mm:ssZ
        startTimeAttributeName: since
        endTimeAttributeName: until
      paging:
        pagingType: NextPageToken
        nextPageTokenJsonPath: $.next_page_token
        nextPageParaName: page_token
        pageSize: 1000
        pageSizeParaName: limit
      response: {eventsJsonPaths: ["$.data"], format: json}
`
	exportersAndService = `exporters:
  azure_monitor_dcr:
    endpoint: "@DCE@"
    dcr_immutable_id: @DCR@
    stream_name: @STREAM@
    auth:
      type: client_secret
      tenant_id: @TENANT@
      client_id: @CLIENT@
      client_secret: "${env:BENCH_CLIENT_SECRET}"
      authority_host: "@AUTHORITY@"
    tls: {ca_file: "@CA@"}
  debug: {verbosity: basic}
service:
  extensions: [health_check, file_storage]
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: @METRICS@}}}
  pipelines:
    logs: {receivers: [@RECEIVER@], exporters: [@EXPORTER@]}
`
)

// collectorConfig renders the configuration; vars maps @NAME@ markers to values.
func collectorConfig(receiver string, vars map[string]string) (string, error) {
	body := configHead
	switch receiver {
	case "otlp":
		body += otlpReceiver
	case "ccp/bench":
		body += ccpReceiver
	default:
		return "", fmt.Errorf("unknown receiver %q", receiver)
	}
	body += exportersAndService
	vars["RECEIVER"] = receiver
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		pairs = append(pairs, "@"+k+"@", v)
	}
	out := strings.NewReplacer(pairs...).Replace(body)
	if i := strings.Index(out, "@"); i >= 0 {
		return "", fmt.Errorf("configuration marker left unset near %q", out[i:min(len(out), i+20)])
	}
	return out, nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// collectorProc is the collector subprocess, held to one CPU's worth of work.
type collectorProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	procReader
}

// pinning is how the collector is held to one CPU: GOMAXPROCS=1, plus taskset when available.
func pinning(cpu int) (prefix []string, desc string) {
	if p, err := exec.LookPath("taskset"); err == nil {
		return []string{p, "-c", strconv.Itoa(cpu)}, fmt.Sprintf("GOMAXPROCS=1, taskset -c %d", cpu)
	}
	return nil, "GOMAXPROCS=1 (no taskset)"
}

// startCollector runs bin --config cfg with its output in logPath. taskset execs the collector,
// so the child's pid is the collector's.
func startCollector(bin, cfg, logPath string, prefix, env []string) (*collectorProc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append(append([]string{}, prefix...), bin, "--config", cfg)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), append(env, "GOMAXPROCS=1")...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &collectorProc{cmd: cmd, log: logPath, done: make(chan struct{}),
		procReader: procReader{pid: cmd.Process.Pid, ticks: clockTicks()}}
	go func() {
		_ = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *collectorProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitHealthy polls the health_check extension until it answers 200, the collector exits or
// the timeout passes.
func (p *collectorProc) waitHealthy(port string, timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			return errors.New("the collector exited during start-up; log tail:\n" + tailFile(p.log, 20))
		}
		if r, err := c.Get("http://127.0.0.1:" + port + "/"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the collector was not healthy within %s; log tail:\n%s", timeout, tailFile(p.log, 20))
}

// stop sends SIGTERM and waits up to 20 s, then kills.
func (p *collectorProc) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// writeConfig writes a rendered configuration into dir.
func writeConfig(dir, name, body string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, []byte(body), 0o600)
}
