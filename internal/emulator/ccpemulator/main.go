// Command ccpemulator runs the local emulators of a vendor security-events API and of Azure
// Monitor Logs Ingestion (with its Entra ID token endpoint), on 127.0.0.1 only.
//
//	ccpemulator serve                      # emulators only; prints the collector's environment
//	ccpemulator demo --collector bin/otelcol-ccp --config testdata/demo/config.yaml
//
// demo also runs the collector against them, prints how many events the API served and how
// many rows were ingested every few seconds, and stops both cleanly on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/demoenv"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "demo":
		err = demo(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ccpemulator:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ccpemulator serve | demo --collector PATH --config PATH")
	os.Exit(2)
}

func envFlags(fs *flag.FlagSet) *demoenv.Options {
	o := &demoenv.Options{}
	fs.StringVar(&o.VendorAddr, "vendor-addr", "127.0.0.1:18480", "vendor API emulator address (loopback only)")
	fs.StringVar(&o.IngestAddr, "ingest-addr", "127.0.0.1:18481", "Logs Ingestion emulator address (loopback only)")
	fs.StringVar(&o.StateDir, "state-dir", filepath.Join(".cache", "demo"), "directory for the CA file and collector state")
	fs.IntVar(&o.Events, "events", 2000, "events the vendor API holds (spread over 2h, the last hour still to come)")
	return o
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	o := envFlags(fs)
	_ = fs.Parse(args)
	env, err := demoenv.Start(*o)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Println("emulators running; a collector needs this environment:")
	for _, kv := range env.CollectorEnv() {
		fmt.Println("  export " + kv)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report(ctx, env, 10*time.Second)
	return nil
}

func demo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	o := envFlags(fs)
	collector := fs.String("collector", "bin/otelcol-ccp", "the otelcol-ccp binary (make build)")
	config := fs.String("config", "testdata/demo/config.yaml", "collector configuration")
	_ = fs.Parse(args)

	if st, err := os.Stat(*collector); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("collector binary %s not found or not executable; run `make build` first", *collector)
	}
	if _, err := os.Stat(*config); err != nil {
		return fmt.Errorf("collector config %s: %w", *config, err)
	}
	env, err := demoenv.Start(*o)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Printf("vendor API emulator:      %s (APIKey auth, NextPageToken paging)\n", env.Vendor.URL())
	fmt.Printf("Logs Ingestion emulator:  %s (Entra ID token endpoint at %s)\n", env.Ingest.IngestURL(), env.Ingest.AuthorityHost())
	fmt.Printf("starting %s --config %s (Ctrl-C stops everything)\n", *collector, *config)

	cmd := exec.Command(*collector, "--config", *config)
	cmd.Env = append(os.Environ(), env.CollectorEnv()...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the collector: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	repCtx, cancelRep := context.WithCancel(ctx)
	defer cancelRep()
	go report(repCtx, env, 5*time.Second)

	select {
	case err := <-exited:
		cancelRep()
		printTotals(env)
		if err == nil {
			err = errors.New("exited by itself")
		}
		return fmt.Errorf("the collector stopped unexpectedly (%v); its log above says why", err)
	case <-ctx.Done():
	}
	cancelRep()
	fmt.Println("\nstopping the collector...")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		fmt.Println("the collector did not stop within 30s and was killed")
	}
	printTotals(env)
	return nil
}

func report(ctx context.Context, env *demoenv.Env, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			printTotals(env)
		}
	}
}

func printTotals(env *demoenv.Env) {
	unique, _ := env.Vendor.Served()
	fmt.Printf("[demo] events polled from the vendor API: %d   rows ingested into %s: %d\n",
		unique, demoenv.StreamName, env.Ingested())
}
