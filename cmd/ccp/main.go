// Command ccp works with Microsoft Sentinel CCP connector files outside the collector:
//
//	ccp validate FILE [--parameters k=v ...] [--parameters-file connect-body.json]
//	ccp convert  FILE [--parameters k=v ...] [--parameters-file connect-body.json]
//	ccp poll     FILE --connector X --once [--since RFC3339|duration] [--parameters k=v ...] [--ingest CONFIG [--exporter NAME]]
//
// validate prints one line per poller (OK, UNSUPPORTED, ERROR or SKIPPED), filling inputs it
// has no value for with dummies; convert prints a collector configuration for the file; poll
// runs one query window against the real API and prints the events as NDJSON on stdout with a
// redacted request trace on stderr; with --ingest it then sends the events through the
// azure_monitor_dcr exporter of a collector configuration and prints the rows accepted.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

const usage = `usage: ccp validate FILE [--parameters k=v ...] [--parameters-file connect-body.json]
       ccp convert  FILE [--parameters k=v ...] [--parameters-file connect-body.json]
       ccp poll     FILE --connector NAME|INDEX --once [--since RFC3339|DURATION] [--parameters k=v ...] [--parameters-file FILE]
                    [--ingest COLLECTOR_CONFIG [--exporter NAME]]`

// Exit codes.
const (
	exitOK      = 0
	exitFail    = 1 // a poller is not OK, a file cannot be read, a poll failed
	exitUsage   = 2
	maxArgCount = 10000
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	}
	opts, err := parseArgs(cmd, rest)
	if err != nil {
		fmt.Fprintf(stderr, "ccp %s: %v\n%s\n", cmd, err, usage)
		return exitUsage
	}
	switch cmd {
	case "validate":
		return cmdValidate(opts, stdout, stderr)
	case "convert":
		return cmdConvert(opts, stdout, stderr)
	case "poll":
		return cmdPoll(ctx, opts, stdout, stderr)
	}
	fmt.Fprintf(stderr, "ccp: unknown command %q\n%s\n", cmd, usage)
	return exitUsage
}
