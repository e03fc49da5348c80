package logsingestion

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Default limits of the real service.
const (
	DefaultMaxWireBytes         = 1 << 20  // 1,048,576 bytes on the wire
	DefaultMaxDecompressedBytes = 50 << 20 // 52,428,800 bytes after gunzip
	DefaultRequestsPerMinute    = 12000
	DefaultBytesPerMinute       = 2 << 30
	DefaultAudience             = "https://monitor.azure.com"
	DefaultTokenTTL             = 3599 * time.Second
)

// Options configures the emulator. Zero values mean the documented defaults.
type Options struct {
	// Addr is the HTTPS listen address; default "127.0.0.1:0". Only loopback addresses are accepted.
	Addr string
	// IdentityAddr is the plain-http listen address of the managed-identity endpoints; default
	// "127.0.0.1:0" (on Addr's host).
	IdentityAddr string
	// DCRs maps a DCR immutable id to the streams declared in it.
	DCRs map[string][]string
	// Columns optionally declares the columns of a stream (stream name -> column names). Properties
	// not declared are dropped from stored rows and counted, as the real service does.
	Columns map[string][]string
	// AuxiliaryStreams marks streams whose table uses the Auxiliary plan: a request whose rows'
	// TimeGenerated values span more than 30 minutes is refused with 400
	// RecordsTimeRangeIsMoreThan30Minutes [status assumed], as the service does for such tables.
	AuxiliaryStreams map[string]bool
	// Publishers optionally restricts, per DCR id, which principals (client ids) hold
	// "Monitoring Metrics Publisher". A DCR absent from a non-nil map admits every principal.
	Publishers map[string][]string

	// TenantID, ClientID and ClientSecret register the application of the fake STS.
	// ClientSecret may be empty when only certificates / federated assertions are used.
	TenantID, ClientID, ClientSecret string
	// ClientCertificates are accepted for client-certificate assertions (RSA keys: MSAL signs PS256).
	ClientCertificates []*x509.Certificate
	// FederatedTokens are accepted verbatim as client assertions (workload identity token files).
	FederatedTokens []string
	// ManagedIdentityClientID is the principal of tokens from the managed-identity endpoints.
	// Default "msi-" + random. Requests naming another client_id / mi_res_id are refused, except
	// ManagedIdentityResourceID.
	ManagedIdentityClientID   string
	ManagedIdentityResourceID string
	// IdentityHeader is the App Service X-IDENTITY-HEADER secret; default random.
	IdentityHeader string

	// Audience of the ingestion API (default https://monitor.azure.com).
	Audience string
	// TokenTTL is the lifetime of issued tokens (default 3599 s).
	TokenTTL time.Duration

	MaxWireBytes         int64
	MaxDecompressedBytes int64
	RequestsPerMinute    int
	BytesPerMinute       int64

	Faults Faults

	// DiscardRows validates and counts rows (RowCount, Stats) without keeping them: Rows returns
	// none. For benchmarks whose millions of rows would not fit in memory.
	DiscardRows bool

	// CAFile, when set, is where the CA certificate PEM is written. Default: a file in a private
	// temporary directory removed by Close.
	CAFile string
}

// Faults are injected into ingestion requests that passed authentication and routing checks.
type Faults struct {
	// SkipRequests lets the first N requests (after SetFaults) through before any fault is injected.
	SkipRequests int
	// Fail503Rate is the fraction (0..1) of requests answered 503 ServiceUnavailable.
	Fail503Rate float64
	// Fail503Next answers the next N requests with 503.
	Fail503Next int
	// Throttle429Next answers the next N requests with 429 TooManyRequests and Retry-After.
	Throttle429Next int
	// RetryAfter is the Retry-After of injected 429/503 answers; default 1 s. Sub-second values are
	// sent as retry-after-ms (plus Retry-After: 1).
	RetryAfter time.Duration
	// DropConnNext stores the rows of the next N otherwise successful requests, then drops the
	// connection without answering.
	DropConnNext int
	// DropConnRate is the fraction of otherwise successful requests treated like DropConnNext.
	DropConnRate float64
	// Latency is added before answering every ingestion request (or only the next SlowNext ones).
	// Rows of a request whose client gives up while waiting are not stored.
	Latency time.Duration
	// SlowNext, when > 0, limits Latency to the next N requests.
	SlowNext int
	// RejectRow makes the whole request fail with 400 InvalidPayload when it returns true for a row.
	RejectRow func(row map[string]any) bool
	// Seed seeds the random choices of the rates (0: fixed default seed).
	Seed uint64

	// Destination incidents, as they happen in Azure. They last until the next SetFaults.
	// DCRNotFound answers authenticated requests 404 NotFound, as for a DCR being redeployed.
	DCRNotFound bool
	// Forbidden answers authenticated requests 403 OperationFailed, as for a role assignment
	// not yet propagated (Azure: up to 30 minutes) or removed.
	Forbidden bool
	// RefuseClientSecret makes the STS refuse the registered client secret with 401
	// invalid_client AADSTS7000215, as after a rotation. Tokens already issued stay valid
	// (call RevokeTokens too to force a new token request).
	RefuseClientSecret bool
}

// incidentFaults reads the destination-incident faults.
func (e *Emulator) incidentFaults() (notFound, forbidden, refuseSecret bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.faults.DCRNotFound, e.faults.Forbidden, e.faults.RefuseClientSecret
}

// Emulator is a running emulator. Its methods are safe for concurrent use.
type Emulator struct {
	opts       Options
	ca         *testCA
	srv        *http.Server
	ln         net.Listener
	miSrv      *http.Server
	miLn       net.Listener
	caFile     string
	tmpDir     string
	hmacKey    []byte
	baseURL    string
	miBaseURL  string
	identityHd string
	miClientID string
	wg         sync.WaitGroup

	mu          sync.Mutex
	faults      Faults
	slowLimited bool // Faults.SlowNext was set: Latency applies to a limited number of requests
	rng         *mrand.Rand
	rows        map[string][]map[string]any // key dcr + "\x00" + stream
	rowCount    int
	requests    []Request
	stats       Stats
	windows     map[string][]windowEntry
	revokedAt   time.Time
}

// Request describes one ingestion request as the emulator saw it.
type Request struct {
	Time        time.Time
	DCR, Stream string
	APIVersion  string
	Status      int
	ErrorCode   string
	// WireBytes is the number of body bytes read (for a 413 on Content-Length: that header's value).
	WireBytes int64
	// ContentLength is the Content-Length header (-1 when the body was sent chunked).
	ContentLength     int64
	DecompressedBytes int64
	Rows              int
	ContentEncoding   string
	ClientRequestID   string
	Principal         string
	DroppedConn       bool
}

// Stats are counters since start (or the last Reset).
type Stats struct {
	Requests              int
	RequestsByStatus      map[int]int
	ErrorsByCode          map[string]int
	RowsStored            int
	ColumnsDropped        int
	NonObjectRowsDropped  int
	SilentlyDroppedBodies int
	DroppedConnections    int
	RowsInDroppedConns    int
	TokenRequests         map[string]int // by kind: client_secret, client_certificate, federated, managed_identity_appservice, managed_identity_imds
	TokenErrors           int
	MaxWireBytesSeen      int64
	Wire                  WireStats
}

// WireStats describe the size on the wire of the accepted requests (answered 204) that carried
// rows; accepted requests without rows (the exporter's start-up probe `[]`) are only counted.
type WireStats struct {
	Requests  int   // accepted requests with at least one row
	Bytes     int64 // their bytes on the wire, summed
	MaxBytes  int64 // the largest of them
	LastBytes int64 // the most recent one
	Empty     int   // accepted requests without rows
	// Decompressed sums their sizes after Content-Encoding (Decompressed / Bytes: the gzip ratio).
	Decompressed int64
}

// MeanFill is the mean size on the wire of the accepted requests with rows, the most recent
// excluded (the final, partial request of a flush), as a fraction of limit. With one request it
// is that request's fill; with none, 0.
func (w WireStats) MeanFill(limit int64) float64 {
	n, b := w.Requests, w.Bytes
	if n > 1 {
		n, b = n-1, b-w.LastBytes
	}
	if n == 0 || limit <= 0 {
		return 0
	}
	return float64(b) / float64(n) / float64(limit)
}

// accountWireLocked adds an accepted request to the wire statistics.
func (s *Stats) accountWireLocked(rec *Request) {
	if rec.Rows == 0 {
		s.Wire.Empty++
		return
	}
	s.Wire.Requests++
	s.Wire.Bytes += rec.WireBytes
	s.Wire.MaxBytes = max(s.Wire.MaxBytes, rec.WireBytes)
	s.Wire.LastBytes = rec.WireBytes
	s.Wire.Decompressed += rec.DecompressedBytes
}

type windowEntry struct {
	at    time.Time
	bytes int64
}

// Start starts an emulator on 127.0.0.1.
func Start(opts Options) (*Emulator, error) {
	host, err := withDefaults(&opts)
	if err != nil {
		return nil, err
	}
	e := newEmulator(opts)
	if err := e.writeCA(); err != nil {
		return nil, err
	}
	if err := e.listen(host); err != nil {
		e.cleanup()
		return nil, err
	}
	e.serve()
	return e, nil
}

// withDefaults checks opts and fills its zero values; it returns the host of opts.Addr.
func withDefaults(opts *Options) (string, error) {
	orDefault(&opts.Addr, "127.0.0.1:0")
	host, err := loopbackHost("Addr", opts.Addr)
	if err != nil {
		return "", err
	}
	orDefault(&opts.Audience, DefaultAudience)
	opts.Audience = strings.TrimRight(opts.Audience, "/")
	orDefault(&opts.TokenTTL, DefaultTokenTTL)
	orDefault(&opts.MaxWireBytes, DefaultMaxWireBytes)
	orDefault(&opts.MaxDecompressedBytes, DefaultMaxDecompressedBytes)
	orDefault(&opts.RequestsPerMinute, DefaultRequestsPerMinute)
	orDefault(&opts.BytesPerMinute, DefaultBytesPerMinute)
	for id, streams := range opts.DCRs {
		if id == "" || len(streams) == 0 {
			return "", fmt.Errorf("logsingestion: DCR %q needs at least one stream", id)
		}
	}
	return host, nil
}

// orDefault sets *v to d when *v is zero (or negative, for numbers: the limits take no negatives).
func orDefault[T string | int | int64 | time.Duration](v *T, d T) {
	var zero T
	if *v <= zero {
		*v = d
	}
}

// loopbackHost returns the host of addr ("host:port"), which must be a loopback IP address.
func loopbackHost(field, addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("logsingestion: bad %s %q: %w", field, addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("logsingestion: %s %q must be a loopback IP address with a port", field, addr)
	}
	return host, nil
}

func newEmulator(opts Options) *Emulator {
	e := &Emulator{
		opts:       opts,
		rows:       map[string][]map[string]any{},
		windows:    map[string][]windowEntry{},
		hmacKey:    randomBytes(32),
		identityHd: opts.IdentityHeader,
		miClientID: opts.ManagedIdentityClientID,
	}
	orDefault(&e.identityHd, hex.EncodeToString(randomBytes(16)))
	orDefault(&e.miClientID, "msi-"+hex.EncodeToString(randomBytes(8)))
	e.resetStatsLocked()
	e.setFaultsLocked(opts.Faults)
	return e
}

// writeCA generates the CA and writes its PEM to Options.CAFile or a private temporary file.
func (e *Emulator) writeCA() (err error) {
	if e.ca, err = newTestCA(); err != nil {
		return err
	}
	e.caFile = e.opts.CAFile
	if e.caFile == "" {
		if e.tmpDir, err = os.MkdirTemp("", "logsingestion-emulator-"); err != nil {
			return err
		}
		e.caFile = filepath.Join(e.tmpDir, "ca.pem")
	}
	if err = os.WriteFile(e.caFile, e.ca.caPEM, 0o600); err != nil {
		e.cleanup()
		return fmt.Errorf("logsingestion: writing CA file: %w", err)
	}
	return nil
}

// listen opens the HTTPS listener on Options.Addr and the managed-identity one on
// Options.IdentityAddr (default: a free port on host).
func (e *Emulator) listen(host string) error {
	miAddr := e.opts.IdentityAddr
	if miAddr == "" {
		miAddr = net.JoinHostPort(host, "0")
	} else if _, err := loopbackHost("IdentityAddr", miAddr); err != nil {
		return err
	}
	var err error
	if e.ln, err = net.Listen("tcp", e.opts.Addr); err != nil {
		return err
	}
	if e.miLn, err = net.Listen("tcp", miAddr); err != nil {
		e.ln.Close()
		return err
	}
	e.baseURL = "https://" + e.ln.Addr().String()
	e.miBaseURL = "http://" + e.miLn.Addr().String()
	return nil
}

// serve runs the ingestion/STS server (TLS) and the managed-identity server (plain HTTP).
func (e *Emulator) serve() {
	e.srv = quietServer(http.HandlerFunc(e.serveHTTPS))
	e.srv.TLSConfig = &tls.Config{
		MinVersion:   tls.VersionTLS12, // the real service enforces TLS >= 1.2
		Certificates: []tls.Certificate{e.ca.leaf},
	}
	e.miSrv = quietServer(http.HandlerFunc(e.serveMI))
	e.goServe(func() error { return e.srv.ServeTLS(e.ln, "", "") })
	e.goServe(func() error { return e.miSrv.Serve(e.miLn) })
}

func quietServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
}

// goServe runs a server loop that Close waits for.
func (e *Emulator) goServe(run func() error) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		_ = run()
	}()
}

func (e *Emulator) cleanup() {
	if e.tmpDir != "" {
		_ = os.RemoveAll(e.tmpDir)
	}
}

// Close stops both listeners, waits for the servers to return and removes the temporary CA file.
func (e *Emulator) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := errors.Join(e.srv.Shutdown(ctx), e.miSrv.Shutdown(ctx))
	if err != nil {
		_ = e.srv.Close()
		_ = e.miSrv.Close()
	}
	e.wg.Wait()
	e.cleanup()
	return nil
}

// IngestURL is the Data Collection Endpoint base URL (https, no trailing slash).
func (e *Emulator) IngestURL() string { return e.baseURL }

// AuthorityHost is the https authority host of the fake STS, with a trailing slash.
func (e *Emulator) AuthorityHost() string { return e.baseURL + "/" }

// TokenURL is the v2.0 token endpoint of the configured tenant.
func (e *Emulator) TokenURL() string {
	return e.baseURL + "/" + e.opts.TenantID + "/oauth2/v2.0/token"
}

// IdentityEndpoint is the value for IDENTITY_ENDPOINT (App Service managed identity, plain http).
func (e *Emulator) IdentityEndpoint() string { return e.miBaseURL + "/msi/token" }

// IdentityHeader is the value for IDENTITY_HEADER.
func (e *Emulator) IdentityHeader() string { return e.identityHd }

// IMDSURL is the IMDS-style token URL (http://127.0.0.1:port/metadata/identity/oauth2/token).
func (e *Emulator) IMDSURL() string { return e.miBaseURL + "/metadata/identity/oauth2/token" }

// ManagedIdentityClientID is the principal of managed-identity tokens.
func (e *Emulator) ManagedIdentityClientID() string { return e.miClientID }

// Audience is the accepted token audience.
func (e *Emulator) Audience() string { return e.opts.Audience }

// Scope is the scope clients should request ("<audience>//.default", as the Azure SDKs do).
func (e *Emulator) Scope() string { return e.opts.Audience + "//.default" }

// CAFile is the path of the PEM file holding the emulator's CA certificate.
func (e *Emulator) CAFile() string { return e.caFile }

// CAPEM returns the CA certificate PEM.
func (e *Emulator) CAPEM() []byte { return append([]byte(nil), e.ca.caPEM...) }

// CertPool returns a new pool holding the emulator's CA.
func (e *Emulator) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(e.ca.caCert)
	return p
}

// HTTPClient returns an HTTP client trusting the emulator's CA.
func (e *Emulator) HTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: e.CertPool(), MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
		},
	}
}

// SetFaults replaces the fault settings (counters such as Fail503Next restart from the new values).
func (e *Emulator) SetFaults(f Faults) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setFaultsLocked(f)
}

func (e *Emulator) setFaultsLocked(f Faults) {
	if f.RetryAfter <= 0 {
		f.RetryAfter = time.Second
	}
	seed := f.Seed
	if seed == 0 {
		seed = 1
	}
	e.faults = f
	e.slowLimited = f.SlowNext > 0
	e.rng = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// RevokeTokens makes every token issued so far invalid (401), as a revoked or expired token would be.
func (e *Emulator) RevokeTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	// Token iat has second resolution: revoke everything issued up to and including this second.
	e.revokedAt = time.Now().Truncate(time.Second).Add(time.Second)
}

// Rows returns copies of the rows stored for dcr/stream, in arrival order.
func (e *Emulator) Rows(dcr, stream string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	src := e.rows[dcr+"\x00"+stream]
	out := make([]map[string]any, len(src))
	for i, r := range src {
		c := make(map[string]any, len(r))
		for k, v := range r {
			c[k] = v
		}
		out[i] = c
	}
	return out
}

// RowCount is the number of rows stored over all DCRs and streams.
func (e *Emulator) RowCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rowCount
}

// Requests returns a copy of the ingestion request log.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.requests...)
}

// Stats returns a snapshot of the counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.RequestsByStatus = copyMap(e.stats.RequestsByStatus)
	s.ErrorsByCode = copyMap(e.stats.ErrorsByCode)
	s.TokenRequests = copyMap(e.stats.TokenRequests)
	return s
}

// Reset clears stored rows, the request log, throttling windows and counters (not faults).
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rows = map[string][]map[string]any{}
	e.rowCount = 0
	e.requests = nil
	e.windows = map[string][]windowEntry{}
	e.resetStatsLocked()
}

func (e *Emulator) resetStatsLocked() {
	e.stats = Stats{
		RequestsByStatus: map[int]int{},
		ErrorsByCode:     map[string]int{},
		TokenRequests:    map[string]int{},
	}
}

func copyMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func newGUID() string {
	b := randomBytes(16)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
