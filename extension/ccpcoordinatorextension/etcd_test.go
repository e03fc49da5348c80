package ccpcoordinatorextension

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdBackend runs the suite against a real etcd server (Debian's etcd-server package) on
// 127.0.0.1, at etcd's smallest lease (1 s granularity): 2 s leases.
func etcdBackend(t *testing.T) *backend {
	endpoint := startEtcd(t)
	b := &backend{
		tm:  timing{leaseDuration: 2 * time.Second, renewDeadline: time.Second, retryPeriod: 200 * time.Millisecond},
		clk: realClock(),
	}
	var n atomic.Int64
	b.env = func(*testing.T) env {
		return &etcdEnv{endpoint: endpoint, prefix: fmt.Sprintf("/test-%d/", n.Add(1)), b: b}
	}
	return b
}

func TestConformanceEtcd(t *testing.T) {
	runConformance(t, etcdBackend(t))
}

// etcdEnv is one key prefix of the shared server; each replica reaches the server through its
// own TCP proxy, which the test can cut.
type etcdEnv struct {
	endpoint string
	prefix   string
	b        *backend
}

func (e *etcdEnv) engine(t *testing.T, identity string) (engine, func(bool)) {
	p := startProxy(t, e.endpoint)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{p.addr()}, DialTimeout: time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	return newEtcdEngine(cli, e.prefix, identity, e.b.tm.leaseDuration), p.setCut
}

// startEtcd starts `etcd` on free 127.0.0.1 ports with a temporary data directory and returns
// its client endpoint. Without the binary the test fails: it must not pass untested.
func startEtcd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatalf("the etcd server binary is not on PATH: install Debian's etcd-server package (apt-get install -y etcd-server); .ci/run does: %v", err)
	}
	client, peer := freePort(t), freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin,
		"--name", "test", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", "http://"+client, "--advertise-client-urls", "http://"+client,
		"--listen-peer-urls", "http://"+peer, "--initial-advertise-peer-urls", "http://"+peer,
		"--initial-cluster", "test=http://"+peer,
		"--heartbeat-interval", "50", "--election-timeout", "500",
		"--logger", "zap", "--log-outputs", filepath.Join(dir, "etcd.log"))
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{client}, DialTimeout: time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	defer cli.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err = cli.Put(ctx, "/ready", "1")
		cancel()
		if err == nil {
			return client
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "etcd.log"))
			t.Fatalf("etcd did not serve within 30 s: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// proxy forwards TCP to target; cut closes every connection and refuses new ones, like a
// network partition between one replica and the store.
type proxy struct {
	ln     net.Listener
	target string
	cut    atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		_ = ln.Close()
		p.closeAll()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) setCut(cut bool) {
	p.cut.Store(cut)
	if cut {
		p.closeAll()
	}
}

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.cut.Load() {
			_ = in.Close()
			continue
		}
		out, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.track(in, true)
		p.track(out, true)
		p.wg.Go(func() { p.pipe(in, out) })
		p.wg.Go(func() { p.pipe(out, in) })
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.track(dst, false)
	p.track(src, false)
}
