package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat (getconf CLK_TCK; 100 on
// every Linux architecture Go supports when getconf is absent).
func clockTicks() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}

// parseStatTicks returns utime+stime (clock ticks) from the text of /proc/PID/stat. The command
// name (field 2) is in parentheses and may hold spaces and parentheses: fields are counted after
// its last ')'.
func parseStatTicks(stat []byte) (int64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in stat %q", stat)
	}
	f := strings.Fields(string(stat[i+1:]))
	// After the name: state is field 3 (f[0]); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat has %d fields after the name, want at least 13", len(f))
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat utime %q / stime %q are not integers", f[11], f[12])
	}
	return u + s, nil
}

// parseStatusKB returns the value (kB) of one "Name:  123 kB" line of /proc/PID/status.
func parseStatusKB(status []byte, name string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("no %s line in status", name)
}

// procReader reads a process's CPU time and peak resident set.
type procReader struct {
	pid   int
	ticks float64
}

// cpuSeconds is the process's user + system CPU time.
func (p procReader) cpuSeconds() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0, err
	}
	t, err := parseStatTicks(b)
	return float64(t) / p.ticks, err
}

// peakRSSKiB is VmHWM, the process's peak resident set since it started.
func (p procReader) peakRSSKiB() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(b, "VmHWM")
}

// machine describes where the figures come from.
type machine struct {
	CPUs      int
	Model     string
	GoVersion string
	Pinning   string
}

func describeMachine(pin string) machine {
	m := machine{CPUs: runtime.NumCPU(), Model: "unknown", GoVersion: runtime.Version(), Pinning: pin}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.Model = cpuModel(b)
	}
	return m
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel(cpuinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
