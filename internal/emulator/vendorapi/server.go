package vendorapi

import (
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"

	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server is one emulated vendor API. It implements http.Handler (use it with
// httptest.NewServer) and can listen on 127.0.0.1 itself (Start).
type Server struct {
	cfg      Config
	store    *store
	tokenKey []byte
	evPath   []string // EventsPath split on '.', nil for a bare array

	mu           sync.Mutex
	faults       Faults
	rng          *mrand.Rand
	throttleLeft int
	failLeft     int
	tokens       map[string]int64 // access token -> expiry (unix ns)
	byStatus     map[int]int64
	log          []RequestRecord
	logPos       int
	logLen       int

	served        []atomic.Uint32
	uniqueServed  atomic.Int64
	totalServed   atomic.Int64
	requests      atomic.Int64
	tokenRequests atomic.Int64
	tokensIssued  atomic.Int64
	inflight      atomic.Int64
	maxInflight   atomic.Int64

	replicaMu  sync.Mutex
	replicaLog []ReplicaRequest

	hs      *http.Server
	url     string
	serveWG sync.WaitGroup
}

// New returns a Server for cfg (defaults applied). It panics on an invalid
// configuration (e.g. AuthAPIKey without APIKey): that is a test bug.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		panic("vendorapi: invalid Config: " + err.Error())
	}
	s := &Server{
		cfg:      cfg,
		store:    newStore(cfg),
		faults:   cfg.Faults,
		tokens:   map[string]int64{},
		byStatus: map[int]int64{},
		log:      make([]RequestRecord, cfg.LogSize),
		served:   make([]atomic.Uint32, max(cfg.Events, 0)),
	}
	seed := uint64(cfg.Seed)
	if seed == 0 {
		seed = 0x5eed
	}
	s.rng = mrand.New(mrand.NewPCG(seed, seed^0xfa017))
	if len(cfg.TokenSecret) > 0 {
		s.tokenKey = append([]byte(nil), cfg.TokenSecret...)
	} else {
		s.tokenKey = make([]byte, 32)
		_, _ = rand.Read(s.tokenKey)
	}
	if cfg.EventsPath != "-" {
		s.evPath = strings.Split(cfg.EventsPath, ".")
	}
	return s
}

// Config returns the effective configuration (defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// Start listens on addr, which must be "127.0.0.1:<port>" (port 0 picks a
// free one), ":<port>" or "localhost:<port>" (both mean 127.0.0.1), and
// serves in the background until Close. It returns s for chaining:
//
//	srv, err := vendorapi.New(cfg).Start("127.0.0.1:0")
func (s *Server) Start(addr string) (*Server, error) {
	if s.hs != nil {
		return nil, errors.New("vendorapi: server already started")
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("vendorapi: bad listen address %q: %w", addr, err)
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	if host != "127.0.0.1" {
		return nil, fmt.Errorf("vendorapi: refusing to listen on %q: only 127.0.0.1 is allowed", addr)
	}
	hp := net.JoinHostPort(host, port)
	ln, err := net.Listen("tcp4", hp)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("vendorapi: cannot listen on %s: port %s is already in use (pick another port or use port 0): %w", hp, port, err)
		}
		return nil, fmt.Errorf("vendorapi: cannot listen on %s: %w", hp, err)
	}
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		_ = s.hs.Serve(ln)
	}()
	return s, nil
}

// URL is the base URL ("http://127.0.0.1:port") after Start, "" before.
func (s *Server) URL() string { return s.url }

// EventsURL is URL() + Config.Path.
func (s *Server) EventsURL() string { return s.url + s.cfg.Path }

// TokenURL is URL() + Config.TokenPath.
func (s *Server) TokenURL() string { return s.url + s.cfg.TokenPath }

// Close stops a started server (closing open connections). It is a no-op
// for a Server only used as an http.Handler.
func (s *Server) Close() error {
	if s.hs == nil {
		return nil
	}
	err := s.hs.Close()
	s.serveWG.Wait()
	return err
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	begin := time.Now()
	rec := &recorder{ResponseWriter: w}
	switch {
	case r.URL.Path == s.cfg.Path:
		n := s.inflight.Add(1)
		for {
			m := s.maxInflight.Load()
			if n <= m || s.maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		s.requests.Add(1)
		// In-flight ends just before the last byte of the response is
		// written: a client cannot have the whole response earlier, so a
		// sequential client never shows up as concurrent.
		rec.onFinal = func() { s.inflight.Add(-1) }
		s.serveEvents(rec, r)
		rec.final()
		s.mu.Lock()
		s.byStatus[rec.status()]++
		s.mu.Unlock()
		if s.cfg.ReplicaHeader != "" {
			s.recordReplica(r.Header.Get(s.cfg.ReplicaHeader), begin, rec.status())
		}
	case s.cfg.Auth == AuthOAuth2 && r.URL.Path == s.cfg.TokenPath:
		s.tokenRequests.Add(1)
		s.serveToken(rec, r)
	default:
		writeError(rec, http.StatusNotFound, "not_found", "no such endpoint: "+r.URL.Path)
	}
	s.logRequest(r, rec, time.Since(begin))
}

type recorder struct {
	http.ResponseWriter
	code    int
	events  int
	onFinal func()
}

// final runs onFinal once.
func (r *recorder) final() {
	if f := r.onFinal; f != nil {
		r.onFinal = nil
		f()
	}
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write treats every write as the last one (single-write responses); see
// writePage for multi-part bodies.
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	r.final()
	return r.ResponseWriter.Write(b)
}

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// ---- accounting ----

// RequestRecord is one entry of the bounded request log.
type RequestRecord struct {
	Time     time.Time
	Method   string
	Path     string
	Query    string            // encoded, secrets redacted
	Header   map[string]string // selected headers, secrets redacted
	Status   int
	Events   int // events in the response
	Duration time.Duration
}

// Stats is a snapshot of the counters.
type Stats struct {
	Requests      int64         // events-endpoint requests
	ByStatus      map[int]int64 // events-endpoint requests by status code
	TokenRequests int64         // token-endpoint requests
	TokensIssued  int64
	EventsServed  int64 // events in 200 responses, repeats included
	UniqueServed  int64 // distinct events ever served
	MaxConcurrent int64 // max concurrent events-endpoint requests seen
	InFlight      int64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:      s.requests.Load(),
		TokenRequests: s.tokenRequests.Load(),
		TokensIssued:  s.tokensIssued.Load(),
		EventsServed:  s.totalServed.Load(),
		UniqueServed:  s.uniqueServed.Load(),
		MaxConcurrent: s.maxInflight.Load(),
		InFlight:      s.inflight.Load(),
	}
	st.ByStatus = s.StatusCounts()
	return st
}

// StatusCounts returns events-endpoint requests by HTTP status.
func (s *Server) StatusCounts() map[int]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[int]int64, len(s.byStatus))
	for k, v := range s.byStatus {
		m[k] = v
	}
	return m
}

// TokensIssued is the number of OAuth2 access tokens issued.
func (s *Server) TokensIssued() int64 { return s.tokensIssued.Load() }

// MaxConcurrent is the largest number of events-endpoint requests seen in
// flight at once.
func (s *Server) MaxConcurrent() int64 { return s.maxInflight.Load() }

// Served returns (distinct events served, total events served incl. repeats)
// over all 200 responses. Use WasServed/ServedCount for membership.
func (s *Server) Served() (unique, total int64) {
	return s.uniqueServed.Load(), s.totalServed.Load()
}

// ServedCount returns how many times the event with this id was returned in
// a 200 response (0 for unknown ids).
func (s *Server) ServedCount(id string) int {
	i, ok := s.store.parseID(id)
	if !ok {
		return 0
	}
	return int(s.served[i].Load())
}

// WasServed reports whether the event with this id was ever returned.
func (s *Server) WasServed(id string) bool { return s.ServedCount(id) > 0 }

// ServedIDs returns the ids of all events served at least once, in event order.
func (s *Server) ServedIDs() []string {
	var out []string
	for i := range s.served {
		if s.served[i].Load() > 0 {
			out = append(out, s.store.id(i))
		}
	}
	return out
}

// Unserved returns, in event order, the ids of events with time in
// [since, until) that are visible now but were never served (at most max
// ids; max <= 0 means all).
func (s *Server) Unserved(since, until time.Time, max int) []string {
	lo, hi := s.store.indexRange(since.UnixNano(), until.UnixNano())
	now := s.cfg.Now().UnixNano()
	var out []string
	for i := lo; i < hi; i++ {
		if s.served[i].Load() == 0 && s.store.publishNS(i) <= now {
			out = append(out, s.store.id(i))
			if max > 0 && len(out) >= max {
				break
			}
		}
	}
	return out
}

// ResetAccounting zeroes served-event accounting, status counts, the request
// log, the replica record and MaxConcurrent (not TokensIssued).
func (s *Server) ResetAccounting() {
	for i := range s.served {
		s.served[i].Store(0)
	}
	s.uniqueServed.Store(0)
	s.totalServed.Store(0)
	s.requests.Store(0)
	s.maxInflight.Store(s.inflight.Load())
	s.mu.Lock()
	clear(s.byStatus)
	s.logPos, s.logLen = 0, 0
	s.mu.Unlock()
	s.replicaMu.Lock()
	s.replicaLog = nil
	s.replicaMu.Unlock()
}

// Requests returns the request log (both endpoints), oldest first; at most
// Config.LogSize entries are kept.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RequestRecord, 0, s.logLen)
	start := s.logPos - s.logLen
	if start < 0 {
		start += len(s.log)
	}
	for k := 0; k < s.logLen; k++ {
		out = append(out, s.log[(start+k)%len(s.log)])
	}
	return out
}

func (s *Server) markServed(idx []int) {
	var uniq int64
	for _, i := range idx {
		if s.served[i].Add(1) == 1 {
			uniq++
		}
	}
	s.uniqueServed.Add(uniq)
	s.totalServed.Add(int64(len(idx)))
}

const redacted = "[REDACTED]"

var secretParams = map[string]bool{
	"client_secret": true, "password": true, "api_key": true, "apikey": true,
	"key": true, "secret": true, "access_token": true, "token": true,
}

func (s *Server) logRequest(r *http.Request, rec *recorder, d time.Duration) {
	q := r.URL.Query()
	for name, vs := range q {
		if secretParams[strings.ToLower(name)] || strings.EqualFold(name, s.cfg.APIKeyHeader) {
			for k := range vs {
				vs[k] = redacted
			}
		}
	}
	hdr := map[string]string{}
	for _, name := range []string{"Authorization", s.cfg.APIKeyHeader, s.cfg.TokenHeader, "Content-Type", "Content-Length", "Accept-Encoding", "User-Agent", s.cfg.ReplicaHeader} {
		v := r.Header.Get(name)
		if name == "" || v == "" {
			continue
		}
		cn := http.CanonicalHeaderKey(name)
		switch {
		case cn == "Authorization":
			if sch, _, ok := strings.Cut(v, " "); ok {
				v = sch + " " + redacted
			} else {
				v = redacted
			}
		case strings.EqualFold(name, s.cfg.APIKeyHeader):
			v = redacted
		}
		hdr[cn] = v
	}
	e := RequestRecord{
		Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: q.Encode(),
		Header: hdr, Status: rec.status(), Events: rec.events, Duration: d,
	}
	s.mu.Lock()
	s.log[s.logPos] = e
	s.logPos = (s.logPos + 1) % len(s.log)
	if s.logLen < len(s.log) {
		s.logLen++
	}
	s.mu.Unlock()
}

// ---- event store accessors ----

// NumEvents is the number of events in the store.
func (s *Server) NumEvents() int { return s.store.n }

// EventID returns the id of event i (0 <= i < NumEvents).
func (s *Server) EventID(i int) string { return s.store.id(i) }

// EventTime returns the timestamp of event i.
func (s *Server) EventTime(i int) time.Time { return time.Unix(0, s.store.timeNS(i)).UTC() }

// PublishTime returns when event i becomes visible (EventTime + LateBy for
// late events).
func (s *Server) PublishTime(i int) time.Time { return time.Unix(0, s.store.publishNS(i)).UTC() }

// IsLate reports whether event i is published late.
func (s *Server) IsLate(i int) bool { return s.store.isLate(i) }

// EventJSON returns the JSON of event i exactly as served.
func (s *Server) EventJSON(i int) []byte { return s.store.appendEvent(nil, i) }

// IndexOf returns the index of the event with this id.
func (s *Server) IndexOf(id string) (int, bool) { return s.store.parseID(id) }

// EventsIn returns the index range [lo, hi) of events with time in
// [since, until), regardless of visibility.
func (s *Server) EventsIn(since, until time.Time) (lo, hi int) {
	return s.store.indexRange(since.UnixNano(), until.UnixNano())
}

// IDsIn returns the ids of the events with time in [since, until) (visible
// or not), in order.
func (s *Server) IDsIn(since, until time.Time) []string {
	lo, hi := s.EventsIn(since, until)
	out := make([]string, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, s.store.id(i))
	}
	return out
}

// FormatTime renders t the way the server expects window parameters.
func (s *Server) FormatTime(t time.Time) string {
	switch s.cfg.TimeFormat {
	case TimeUnixSeconds:
		return fmt.Sprint(t.Unix())
	case TimeUnixMillis:
		return fmt.Sprint(t.UnixMilli())
	case TimeLayout:
		return t.UTC().Format(s.cfg.TimeLayout)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// WindowQuery returns url.Values holding the window parameters for
// [since, until), formatted per Config.TimeFormat.
func (s *Server) WindowQuery(since, until time.Time) url.Values {
	return url.Values{s.cfg.SinceParam: {s.FormatTime(since)}, s.cfg.UntilParam: {s.FormatTime(until)}}
}
