package soak

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The collector subprocess.

type proc struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error // valid once done is closed
	hwm  int64 // max VmHWM (kB) seen while the process was alive
}

func startCollector(env []string, logPath string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(collector, "--config", config)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, log: lf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// sampleRSS records the process's peak resident set (VmHWM) so far.
func (p *proc) sampleRSS() {
	if p.exited() {
		return
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && kb > p.hwm {
					p.hwm = kb
				}
			}
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.sampleRSS()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to limit for a clean exit (then kills).
func (p *proc) stop(limit time.Duration) error {
	p.sampleRSS()
	if p.exited() {
		return fmt.Errorf("the collector had already exited: %v", p.err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(limit):
		p.kill()
		return fmt.Errorf("the collector did not stop within %s", limit)
	}
}

// waitReady waits (bounded) until the collector logs that it is running.
func waitReady(p *proc, logPath string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for !p.exited() && time.Now().Before(deadline) {
		if b, err := os.ReadFile(logPath); err == nil && bytes.Contains(b, []byte("Everything is ready")) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
