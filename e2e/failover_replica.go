package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Replica is one collector process of a cluster; it keeps its name (its coordinator identity
// and vendor-API marker) and its metrics port across restarts.
type Replica struct {
	Name        string
	MetricsAddr string
	c           *HACluster

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	paused bool
	logs   []string
}

// Start launches the process (again, after a kill), logging to a new file.
func (r *Replica) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil && !isDone(r.done) {
		return fmt.Errorf("replica %s is already running", r.Name)
	}
	logPath := filepath.Join(r.c.Opts.Dir, fmt.Sprintf("%s.%d.log", r.Name, len(r.logs)))
	lf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(r.c.Opts.Collector, "--config", r.c.config)
	cmd.Dir = r.c.Opts.Root
	_, port, _ := strings.Cut(r.MetricsAddr, ":")
	cmd.Env = append(os.Environ(), "CCP_HA_REPLICA="+r.Name, "CCP_HA_METRICS_PORT="+port)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("replica %s: %w", r.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); lf.Close(); close(done) }()
	r.cmd, r.done, r.paused = cmd, done, false
	r.logs = append(r.logs, logPath)
	return nil
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Running reports whether the process is alive (paused or not).
func (r *Replica) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmd != nil && !isDone(r.done)
}

// Active reports whether the process is alive and not paused.
func (r *Replica) Active() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmd != nil && !isDone(r.done) && !r.paused
}

// signal sends sig to a running process.
func (r *Replica) signal(sig syscall.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || isDone(r.done) {
		return fmt.Errorf("replica %s is not running", r.Name)
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		return err
	}
	switch sig {
	case syscall.SIGSTOP:
		r.paused = true
	case syscall.SIGCONT:
		r.paused = false
	}
	return nil
}

// Kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (r *Replica) Kill() {
	if r.signal(syscall.SIGKILL) == nil {
		<-r.done
	}
}

// Pause stops the process with SIGSTOP: it keeps its sockets but runs nothing.
func (r *Replica) Pause() error { return r.signal(syscall.SIGSTOP) }

// Resume continues a paused process with SIGCONT.
func (r *Replica) Resume() error { return r.signal(syscall.SIGCONT) }

// Stop sends SIGTERM and waits up to limit for a clean exit (then kills).
func (r *Replica) Stop(limit time.Duration) error {
	_ = r.Resume() // a paused process handles SIGTERM only once continued
	if err := r.signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-r.done:
		if st := r.cmd.ProcessState; st != nil && !st.Success() {
			return fmt.Errorf("replica %s exited: %s", r.Name, st)
		}
		return nil
	case <-time.After(limit):
		r.Kill()
		return fmt.Errorf("replica %s did not stop within %s", r.Name, limit)
	}
}

// Log returns everything the replica's processes logged, oldest first.
func (r *Replica) Log() string {
	r.mu.Lock()
	paths := append([]string(nil), r.logs...)
	r.mu.Unlock()
	var b strings.Builder
	for _, p := range paths {
		raw, _ := os.ReadFile(p)
		b.Write(raw)
	}
	return b.String()
}

// LogTail returns the last n lines the current process logged.
func (r *Replica) LogTail(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.logs) == 0 {
		return ""
	}
	return readTail(r.logs[len(r.logs)-1], n)
}

// Metrics scrapes the replica's Prometheus endpoint.
func (r *Replica) Metrics() ([]Sample, error) {
	if !r.Active() {
		return nil, errors.New("replica " + r.Name + " is not active")
	}
	return scrape(r.MetricsAddr)
}

// Leads returns the connectors this replica leads (otelcol_ccp_leader = 1), sorted.
func (r *Replica) Leads() ([]string, error) {
	s, err := r.Metrics()
	if err != nil {
		return nil, err
	}
	var out []string
	for conn, v := range PerConnector(s, "otelcol_ccp_leader") {
		if v == 1 {
			out = append(out, conn)
		}
	}
	return sortStrings(out), nil
}

// Counter sums one metric over the replica's connectors (0 when absent).
func (r *Replica) Counter(name string) (float64, error) {
	s, err := r.Metrics()
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, v := range PerConnector(s, name) {
		total += v
	}
	return total, nil
}
