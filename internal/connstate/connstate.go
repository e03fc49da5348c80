// Package connstate is the in-process registry of running ccp connectors. Each ccp receiver
// registers its connector and reports what happens to it (windows begun, completed or failed,
// records received, data skipped, requests made, stalls); readers such as the ccp_health
// receiver (SentinelHealth-shaped records) and the ccp_status extension (the connector page)
// take snapshots or subscribe to events. Everything here is already redacted by its writer:
// errors come scrubbed from the engine, URLs come with secret values masked.
package connstate

import (
	"sort"
	"sync"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
)

// Status badges, as the connector page shows them.
const (
	StatusConnected = "Connected" // polling and delivering
	StatusDegraded  = "Degraded"  // the last attempt failed or data was skipped; retrying
	StatusFailed    = "Failed"    // FailedAfter consecutive failed attempts
	StatusStalled   = "Stalled"   // no window completed for the stall period (watchdog)
	StatusStandby   = "Standby"   // a high-availability follower
	StatusDisabled  = "Disabled"  // the definition sets isActive: false
)

// FailedAfter consecutive failed attempts turn Degraded into Failed.
const FailedAfter = 3

// Retention of the ring buffers and of the hourly event counts.
const (
	HistorySize = 100
	TraceSize   = 20
	CountDays   = 14
)

// Identity describes a connector; it does not change while the receiver runs.
type Identity struct {
	ID             string // the receiver's component ID, e.g. "ccp/okta"
	Name           string // the ccp.connector label
	Kind           string // RestApiPoller or APIPolling
	Source         string // the definition file, or "polling_config"
	Poller         string // the poller's name inside the file
	DataType       string
	DCRImmutableID string
	StreamName     string
	WindowSize     time.Duration
	Started        time.Time
}

// Window is one finished attempt at a query window.
type Window struct {
	Start, End       time.Time // the query window
	Began, Finished  time.Time // the attempt
	Records, Pages   int
	Requests         int
	Retries          int
	Outcome          string // "success" or "failure"
	Error            string // redacted; empty on success
	StatusCode       int    // HTTP status of the failure, when there was one
	Skipped, Dropped []string
}

// Change is a status transition.
type Change struct {
	Time     time.Time
	From, To string
	Reason   string
}

// Event is what subscribers receive: exactly one of Window and Change is set.
type Event struct {
	Connector Identity
	Window    *Window
	Change    *Change
}

// Registry holds the connectors of one process.
type Registry struct {
	mu      sync.Mutex
	conns   map[string]*Connector
	preload map[string]Persisted
	subs    map[int]func(Event)
	next    int
}

var std = NewRegistry()

// Default is the process-wide registry the collector's components share.
func Default() *Registry { return std }

// NewRegistry returns an empty registry (tests use their own).
func NewRegistry() *Registry {
	return &Registry{conns: map[string]*Connector{}, preload: map[string]Persisted{}, subs: map[int]func(Event){}}
}

// Preload keeps state saved before a restart for the connector that will register as id
// (extensions start before receivers); a connector already registered imports it at once.
func (r *Registry) Preload(id string, p Persisted) {
	r.mu.Lock()
	c := r.conns[id]
	if c == nil {
		r.preload[id] = p
	}
	r.mu.Unlock()
	if c != nil {
		c.Import(p)
	}
}

// Register adds a connector (replacing one with the same ID, e.g. after a restart of the
// pipeline) and returns its handle.
func (r *Registry) Register(id Identity) *Connector {
	if id.Started.IsZero() {
		id.Started = time.Now()
	}
	c := &Connector{reg: r, id: id, status: StatusConnected, hourly: map[int64]int64{}}
	r.mu.Lock()
	r.conns[id.ID] = c
	p, ok := r.preload[id.ID]
	delete(r.preload, id.ID)
	r.mu.Unlock()
	if ok {
		c.Import(p)
	}
	return c
}

// Unregister removes c (a later registration under the same ID stays).
func (r *Registry) Unregister(c *Connector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns[c.id.ID] == c {
		delete(r.conns, c.id.ID)
	}
}

// Connectors returns the registered connectors sorted by ID.
func (r *Registry) Connectors() []*Connector {
	r.mu.Lock()
	out := make([]*Connector, 0, len(r.conns))
	for _, c := range r.conns {
		out = append(out, c)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id.ID < out[j].id.ID })
	return out
}

// Get returns the connector with the given ID, or nil.
func (r *Registry) Get(id string) *Connector {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns[id]
}

// Subscribe calls fn for every event of every connector until cancel is called. fn runs on the
// reporting goroutine: it must not block.
func (r *Registry) Subscribe(fn func(Event)) (cancel func()) {
	r.mu.Lock()
	id := r.next
	r.next++
	r.subs[id] = fn
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.subs, id)
		r.mu.Unlock()
	}
}

func (r *Registry) publish(ev Event) {
	r.mu.Lock()
	fns := make([]func(Event), 0, len(r.subs))
	for _, fn := range r.subs {
		fns = append(fns, fn)
	}
	r.mu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// Trace is one request of the connector, safe to show.
type Trace = poller.Trace
