package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Etcd is one real etcd server (Debian's etcd-server package) on 127.0.0.1 free ports, with its
// data in a directory of its own.
type Etcd struct {
	Endpoint string // host:port of the client listener
	cmd      *exec.Cmd
	done     chan struct{}
	logPath  string
}

// ErrNoEtcd says how to get the etcd binary the failover tests need.
var ErrNoEtcd = errors.New("etcd not found on PATH: the failover tests run a real etcd server; " +
	"install Debian's etcd-server package (apt-get install etcd-server, as .ci/run does)")

// StartEtcd starts etcd with its data under dir and waits (at most limit) until it is healthy.
func StartEtcd(dir string, limit time.Duration) (*Etcd, error) {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		return nil, ErrNoEtcd
	}
	client, peer := pickPort(), pickPort()
	if client == "" || peer == "" {
		return nil, errors.New("etcd: no free port on 127.0.0.1")
	}
	cu, pu := "http://127.0.0.1:"+client, "http://127.0.0.1:"+peer
	e := &Etcd{Endpoint: "127.0.0.1:" + client, done: make(chan struct{}), logPath: filepath.Join(dir, "etcd.log")}
	lf, err := os.Create(e.logPath)
	if err != nil {
		return nil, err
	}
	e.cmd = exec.Command(bin, "--name", "ha", "--data-dir", filepath.Join(dir, "etcd-data"),
		"--listen-client-urls", cu, "--advertise-client-urls", cu,
		"--listen-peer-urls", pu, "--initial-advertise-peer-urls", pu,
		"--initial-cluster", "ha="+pu, "--initial-cluster-state", "new",
		"--logger", "zap", "--log-level", "warn")
	e.cmd.Stdout, e.cmd.Stderr = lf, lf
	if err := e.cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("etcd: %w", err)
	}
	go func() { _ = e.cmd.Wait(); lf.Close(); close(e.done) }()
	if err := e.waitHealthy(cu+"/health", limit); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Etcd) waitHealthy(url string, limit time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-e.done:
			return fmt.Errorf("etcd exited at start; log:\n%s", readTail(e.logPath, 20))
		default:
		}
		if resp, err := hc.Get(url); err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if strings.Contains(string(b), `"health":"true"`) {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("etcd not healthy within %s; log:\n%s", limit, readTail(e.logPath, 20))
}

// Close kills etcd and waits for it.
func (e *Etcd) Close() {
	_ = e.cmd.Process.Signal(syscall.SIGKILL)
	<-e.done
}

// pickPort returns a port free on 127.0.0.1 a moment ago ("" if none).
func pickPort() string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return ""
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// readTail returns the last n lines of a file.
func readTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Depose revokes, in etcd, the leases behind identity's election keys under prefix: the
// replica loses every connector it leads and only notices at its next renewal, so a state write
// it makes in between is a deposed leader's late write. It returns the leases revoked.
func (e *Etcd) Depose(prefix, identity string) (int, error) {
	var kvs struct {
		Kvs []struct {
			Value string `json:"value"`
			Lease string `json:"lease"`
		} `json:"kvs"`
	}
	end := []byte(prefix)
	end[len(end)-1]++
	err := e.call("/v3/kv/range", map[string]string{
		"key": base64.StdEncoding.EncodeToString([]byte(prefix)), "range_end": base64.StdEncoding.EncodeToString(end),
	}, &kvs)
	if err != nil {
		return 0, err
	}
	revoked := map[string]bool{}
	for _, kv := range kvs.Kvs {
		v, _ := base64.StdEncoding.DecodeString(kv.Value)
		if string(v) != identity || kv.Lease == "" || revoked[kv.Lease] {
			continue
		}
		if err := e.call("/v3/lease/revoke", map[string]string{"ID": kv.Lease}, nil); err != nil {
			return len(revoked), err
		}
		revoked[kv.Lease] = true
	}
	return len(revoked), nil
}

// call posts a request to etcd's JSON gateway.
func (e *Etcd) call(path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	r, err := hc.Post("http://"+e.Endpoint+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer r.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return err
	}
	if r.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: HTTP %d %s", path, r.StatusCode, raw)
	}
	if resp == nil {
		return nil
	}
	return json.Unmarshal(raw, resp)
}
