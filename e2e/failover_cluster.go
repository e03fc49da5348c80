package e2e

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/demoenv"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// ReplicaHeader is the header with which each replica marks its vendor-API requests (set in
// every ccp receiver's client::headers), so the emulators know who polled.
const ReplicaHeader = "X-Replica"

// HAOptions size a cluster of collector replicas sharing connectors through one etcd.
type HAOptions struct {
	Collector string // the distro binary
	Root      string // working directory of the collectors
	Dir       string // configs, logs and etcd data

	Replicas   int // default 3
	Connectors int // default 6
	// Events per connector (default 3000), spread from Lookback before the start to Ahead
	// after it: most are polled back-to-back at start (initial_lookback), the rest appear
	// while the cluster runs.
	Events   int
	Lookback time.Duration // default 4h
	Ahead    time.Duration // default 10m
	PageSize int           // default 20
	// SlowDelay is how long every vendor request takes (default 200ms), so that catching up
	// lasts through the faults.
	SlowDelay           time.Duration
	Lease, Renew, Retry time.Duration // coordinator settings; default 4s, 3s, 500ms
	// NoCoordinator runs every replica on every connector: the harness's own baseline, in
	// which the overlap report must find overlaps.
	NoCoordinator bool
}

func (o HAOptions) withDefaults() HAOptions {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.Replicas, 3)
	def(&o.Connectors, 6)
	def(&o.Events, 3000)
	def(&o.PageSize, 20)
	defD(&o.Lookback, 4*time.Hour)
	defD(&o.Ahead, 10*time.Minute)
	defD(&o.SlowDelay, 200*time.Millisecond)
	defD(&o.Lease, 4*time.Second)
	defD(&o.Renew, 3*time.Second)
	defD(&o.Retry, 500*time.Millisecond)
	return o
}

// HACluster is etcd, one vendor-API emulator per connector, the Logs Ingestion emulator and the
// replicas running one config.
type HACluster struct {
	Opts     HAOptions
	Etcd     *Etcd
	Vendors  []*vendorapi.Server
	Ingest   *logsingestion.Emulator
	Replicas []*Replica
	Start    time.Time

	config     string
	servers    []*http.Server
	vendorURLs []string
	gate       *holdGate
}

// StartHA starts everything and launches every replica; Close stops it all.
func StartHA(o HAOptions) (c *HACluster, err error) {
	o = o.withDefaults()
	c = &HACluster{Opts: o, Start: time.Now(), gate: &holdGate{}}
	defer func() {
		if err != nil {
			c.Close()
			c = nil
		}
	}()
	if c.Etcd, err = StartEtcd(o.Dir, 20*time.Second); err != nil {
		return nil, err
	}
	if err = c.startVendors(); err != nil {
		return nil, err
	}
	if c.Ingest, err = logsingestion.Start(c.ingestOptions()); err != nil {
		return nil, fmt.Errorf("Logs Ingestion emulator: %w", err)
	}
	if err = c.writeConfig(); err != nil {
		return nil, err
	}
	for i := range o.Replicas {
		port := pickPort()
		if port == "" {
			return nil, errors.New("no free port for a replica's metrics")
		}
		c.Replicas = append(c.Replicas, &Replica{Name: fmt.Sprintf("replica-%d", i), MetricsAddr: "127.0.0.1:" + port, c: c})
	}
	for _, r := range c.Replicas {
		if err = r.Start(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Connector is the receiver id of connector i; Stream its stream in the DCR.
func (c *HACluster) Connector(i int) string { return fmt.Sprintf("ccp/c%d", i) }

// Stream is the DCR stream connector i's events go to.
func (c *HACluster) Stream(i int) string { return fmt.Sprintf("Custom-HA%d_CL", i) }

func (c *HACluster) startVendors() error {
	o := c.Opts
	end := c.Start.UTC().Truncate(time.Minute).Add(o.Ahead)
	for i := range o.Connectors {
		v := vendorapi.New(vendorapi.Config{
			Events: o.Events, End: end, Span: o.Lookback + o.Ahead - 2*time.Minute, Seed: int64(i + 1),
			Auth: vendorapi.AuthAPIKey, APIKey: demoenv.APIKey, APIKeyHeader: demoenv.APIKeyHeader,
			Paging: vendorapi.PagingNextPageToken, PageSize: o.PageSize,
			ReplicaHeader: ReplicaHeader, Connector: c.Connector(i),
			Faults: vendorapi.Faults{SlowRate: 1, SlowDelay: o.SlowDelay},
		})
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		hs := &http.Server{Handler: c.gate.wrap(v), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		c.Vendors = append(c.Vendors, v)
		c.servers = append(c.servers, hs)
		c.vendorURLs = append(c.vendorURLs, "http://"+ln.Addr().String())
	}
	return nil
}

func (c *HACluster) ingestOptions() logsingestion.Options {
	var streams []string
	for i := range c.Opts.Connectors {
		streams = append(streams, c.Stream(i))
	}
	return logsingestion.Options{
		DCRs:     map[string][]string{demoenv.DCRImmutableID: streams},
		TenantID: demoenv.TenantID, ClientID: demoenv.ClientID, ClientSecret: demoenv.ClientSecret,
		CAFile: filepath.Join(c.Opts.Dir, "ca.pem"),
	}
}

// Close kills the replicas and stops the emulators and etcd.
func (c *HACluster) Close() {
	for _, r := range c.Replicas {
		r.Kill()
	}
	c.gate.releaseAll()
	for _, s := range c.servers {
		_ = s.Close()
	}
	if c.Ingest != nil {
		_ = c.Ingest.Close()
	}
	if c.Etcd != nil {
		c.Etcd.Close()
	}
}

// holdGate holds the next events request of one replica until released, so a test can pause
// the replica while it waits for a page.
type holdGate struct {
	mu      sync.Mutex
	replica string
	held    chan struct{}
	release chan struct{}
}

func (g *holdGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rel := g.take(r.Header.Get(ReplicaHeader)); rel != nil {
			t := time.NewTimer(time.Minute) // bounded: a forgotten release costs a minute
			select {
			case <-rel:
			case <-t.C:
			case <-r.Context().Done():
			}
			t.Stop()
		}
		next.ServeHTTP(w, r)
	})
}

// take returns the release channel when this request is the one to hold.
func (g *holdGate) take(replica string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.replica == "" || replica != g.replica {
		return nil
	}
	g.replica = ""
	close(g.held)
	return g.release
}

func (g *holdGate) releaseAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.release != nil {
		select {
		case <-g.release:
		default:
			close(g.release)
		}
	}
}

// DeposeWhilePolling holds r's next vendor request (waiting at most waitLimit for one),
// revokes r's leases in etcd (see Etcd.Depose) and lets the emulator answer: r delivers the
// page and saves its position as a deposed leader, unless its next renewal tells it first. It
// returns the connectors r led and r's refused writes until then (for WaitFenced).
func (c *HACluster) DeposeWhilePolling(r *Replica, waitLimit time.Duration) ([]string, FencedMark, error) {
	return c.whilePolling(r, waitLimit, func() error {
		_, err := c.Etcd.Depose(EtcdPrefix+"election/", r.Name)
		return err
	})
}

// HoldNext holds the next vendor request of replica (on any connector): held is closed when
// it arrives; release lets the emulator answer it.
func (c *HACluster) HoldNext(replica string) (held <-chan struct{}, release func()) {
	g := c.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	g.replica, g.held, g.release = replica, make(chan struct{}), make(chan struct{})
	return g.held, g.releaseAll
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}
