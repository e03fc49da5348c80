// Package demoenv starts the two emulators the demo and the end-to-end tests run the distro
// against: a vendor security-events API and Azure Monitor Logs Ingestion (with its Entra ID
// token endpoint). It also names the environment variables testdata/demo/config.yaml reads, so
// the config, the demo program and the tests agree on one set of names.
package demoenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/vendorapi"
)

// Fixed demo identities; the demo config reads them through ${env:...} with these defaults.
const (
	DCRImmutableID = "dcr-00000000000000000000000000000d3e"
	StreamName     = "Custom-DemoSecurityEvents_CL"
	TenantID       = "00000000-0000-0000-0000-0000000000aa"
	ClientID       = "00000000-0000-0000-0000-0000000000bb"
	ClientSecret   = "demo-client-secret"
	APIKey         = "demo-api-key"
	APIKeyHeader   = "X-Api-Key"
)

// Options size the environment. Zero values give the demo's defaults.
type Options struct {
	VendorAddr, IngestAddr string        // default 127.0.0.1:18480 / 127.0.0.1:18481
	StateDir               string        // CA file and collector state; default ./.cache/demo
	Events                 int           // default 2000
	Span                   time.Duration // default 2h, ending Ahead after now
	Ahead                  time.Duration // events keep appearing this long; default 1h
	Vendor                 func(*vendorapi.Config)
	Ingest                 func(*logsingestion.Options)
}

// Env is a running pair of emulators.
type Env struct {
	Vendor   *vendorapi.Server
	Ingest   *logsingestion.Emulator
	StateDir string
}

// Start starts both emulators; a taken port gives an error that says which and what to do.
func Start(o Options) (*Env, error) {
	if o.VendorAddr == "" {
		o.VendorAddr = "127.0.0.1:18480"
	}
	if o.IngestAddr == "" {
		o.IngestAddr = "127.0.0.1:18481"
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(".cache", "demo")
	}
	if o.Events == 0 {
		o.Events = 2000
	}
	if o.Span == 0 {
		o.Span = 2 * time.Hour
	}
	if o.Ahead == 0 {
		o.Ahead = time.Hour
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", o.StateDir, err)
	}
	for _, a := range []struct{ name, addr string }{{"vendor API emulator", o.VendorAddr}, {"Logs Ingestion emulator", o.IngestAddr}} {
		if err := portFree(a.addr); err != nil {
			return nil, fmt.Errorf("%s: %w", a.name, err)
		}
	}
	vc := vendorapi.Config{
		Events:       o.Events,
		Span:         o.Span,
		End:          time.Now().UTC().Add(o.Ahead).Truncate(time.Minute),
		Auth:         vendorapi.AuthAPIKey,
		APIKey:       APIKey,
		APIKeyHeader: APIKeyHeader,
		Paging:       vendorapi.PagingNextPageToken,
		PageSize:     100,
	}
	if o.Vendor != nil {
		o.Vendor(&vc)
	}
	vendor, err := vendorapi.New(vc).Start(o.VendorAddr)
	if err != nil {
		return nil, fmt.Errorf("vendor API emulator: %w", err)
	}
	caFile, err := filepath.Abs(filepath.Join(o.StateDir, "ca.pem"))
	if err != nil {
		vendor.Close()
		return nil, err
	}
	io := logsingestion.Options{
		Addr:         o.IngestAddr,
		DCRs:         map[string][]string{DCRImmutableID: {StreamName}},
		TenantID:     TenantID,
		ClientID:     ClientID,
		ClientSecret: ClientSecret,
		CAFile:       caFile,
	}
	if o.Ingest != nil {
		o.Ingest(&io)
	}
	ingest, err := logsingestion.Start(io)
	if err != nil {
		vendor.Close()
		return nil, fmt.Errorf("Logs Ingestion emulator: %w", err)
	}
	return &Env{Vendor: vendor, Ingest: ingest, StateDir: o.StateDir}, nil
}

// CollectorEnv is the environment a collector running testdata/demo/config.yaml needs.
func (e *Env) CollectorEnv() []string {
	return []string{
		"CCP_DEMO_API_URL=" + e.Vendor.URL(),
		"CCP_DEMO_API_KEY=" + APIKey,
		"CCP_DEMO_DCE=" + e.Ingest.IngestURL(),
		"CCP_DEMO_AUTHORITY=" + e.Ingest.AuthorityHost(),
		"CCP_DEMO_CA=" + e.Ingest.CAFile(),
		"CCP_DEMO_CLIENT_SECRET=" + ClientSecret,
		"CCP_DEMO_STATE=" + filepath.Join(e.StateDir, "state"),
	}
}

// Ingested counts the rows the Logs Ingestion emulator stored in the demo stream.
func (e *Env) Ingested() int { return len(e.Ingest.Rows(DCRImmutableID, StreamName)) }

// Close stops both emulators.
func (e *Env) Close() {
	e.Vendor.Close()
	e.Ingest.Close()
}

func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("port %s is already in use (is another demo running?); stop that process or free the port", addr)
		}
		return fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln.Close()
}
