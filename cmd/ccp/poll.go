package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connector"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

// pollDeps can be replaced by tests.
var (
	pollNow       = time.Now
	pollTransport http.RoundTripper
)

// cmdPoll runs one window against the real API.
func cmdPoll(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ccp poll: "+format+"\n", a...)
		return exitFail
	}
	loaded, creds, sc, msg := loadForPoll(o)
	if msg != "" {
		return fail("%s", msg)
	}
	var mu sync.Mutex
	errOut := scrubWriter{mu: &mu, w: stderr, s: sc}
	conn, err := loaded.Open(connector.Options{HTTPClient: pollClient(errOut), Credentials: creds,
		Logger: pollLogger(errOut), Engine: poller.Options{MaxPages: 1000}})
	if err != nil {
		return fail("%s", sc.scrub(err.Error()))
	}
	ing, err := startIngest(ctx, o, loaded.Name, loaded.Def)
	if err != nil {
		return fail("%s", sc.scrub(err.Error()))
	}
	w, err := pollWindow(o, loaded)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(errOut, "window: %s .. %s (%s)\n", w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339), loaded.Name)
	events, pages, err := pollPrint(ctx, conn.Poller, w, stdout, ing)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fail("interrupted after %d events", events)
		}
		return fail("%s", sc.scrub(err.Error()))
	}
	fmt.Fprintf(errOut, "done: %d events in %d pages\n", events, pages)
	if err := ing.finish(ctx, errOut); err != nil {
		return fail("%s", sc.scrub(err.Error()))
	}
	return exitOK
}

// loadForPoll picks and resolves the poller with the given parameters; msg (scrubbed) says
// why it cannot run.
func loadForPoll(o *options) (loaded *connector.Loaded, creds auth.Credentials, sc *scrubber, msg string) {
	pollers, err := connectorfile.Load(o.file)
	if err != nil {
		if !strings.Contains(err.Error(), o.file) {
			err = fmt.Errorf("%s: %w", o.file, err)
		}
		return nil, creds, nil, err.Error()
	}
	p, err := connector.Pick(pollers, o.connector, o.params, o.file, "--connector")
	if err != nil {
		return nil, creds, nil, err.Error()
	}
	if !connector.HTTPKind(p.Kind) {
		return nil, creds, nil, fmt.Sprintf("%s: kind %q is not an HTTP poller", o.file, p.Kind)
	}
	creds, missingCreds := legacyCredentials(p, o.params, false)
	sc = newScrubber(o.params, []string{creds.Username, creds.Password, creds.APIKey, creds.ClientID,
		creds.ClientSecret, creds.RefreshToken, creds.AuthorizationCode, creds.UserToken})
	loaded, err = connector.Resolve(p, o.params, o.file)
	if msg := pollLoadError(err, missingCreds, p, o.file); msg != "" {
		return nil, creds, sc, sc.scrub(msg)
	}
	return loaded, creds, sc, ""
}

// pollClient traces every request (redacted) to out.
func pollClient(out scrubWriter) *http.Client {
	base := pollTransport
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{Transport: &traceTransport{next: base, out: out, now: time.Now}, Timeout: 10 * time.Minute}
}

func pollLogger(out io.Writer) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	enc.TimeKey = ""
	return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(out), zap.InfoLevel))
}

// pollWindow is the definition's last window, or --since up to now.
func pollWindow(o *options, loaded *connector.Loaded) (window.Window, error) {
	q := loaded.Def.Request
	now := pollNow().UTC().Truncate(time.Second)
	end := now.Add(-time.Duration(q.QueryWindowDelayInMin) * time.Minute)
	start := end.Add(-time.Duration(q.QueryWindowInMin) * time.Minute)
	if o.hasSince {
		var err error
		if start, err = parseSince(o.since, now); err != nil {
			return window.Window{}, err
		}
		end = now
	}
	return window.Window{Start: start, End: end}, nil
}

// pollPrint polls w and writes each event as one line of compact JSON.
func pollPrint(ctx context.Context, p poller.WindowPoller, w window.Window, stdout io.Writer, ing *ingestRun) (events, pages int, err error) {
	var line bytes.Buffer
	_, err = p.PollWindow(ctx, w, "", "", func(ctx context.Context, pg poller.Page) error {
		pages++
		for _, ev := range pg.Events {
			line.Reset()
			if cerr := json.Compact(&line, []byte(ev)); cerr != nil {
				line.Reset()
				line.WriteString(strings.ReplaceAll(strings.ReplaceAll(ev, "\r", " "), "\n", " "))
			}
			line.WriteByte('\n')
			if _, werr := stdout.Write(line.Bytes()); werr != nil {
				return werr
			}
			ing.add(ev)
			events++
		}
		return nil
	})
	return events, pages, err
}

// pollLoadError words a load failure for the command line: missing inputs (the file's and the
// legacy credential inputs) named with their labels, a false condition with its expression.
func pollLoadError(err error, missingCreds []connectorfile.Missing, p connectorfile.Poller, file string) string {
	var missing *connector.MissingError
	var cond *connector.ConditionError
	switch {
	case errors.As(err, &missing) || err == nil && len(missingCreds) > 0:
		var all []connectorfile.Missing
		if missing != nil {
			all = missing.Missing
		}
		all = append(all, missingCreds...)
		names := make([]string, len(all))
		for i, m := range all {
			names[i] = m.Name
			if m.Label != "" {
				names[i] += " (" + m.Label + ")"
			}
		}
		return fmt.Sprintf("%s: parameters missing: %s; give them with --parameters name=value", file, strings.Join(names, ", "))
	case errors.As(err, &cond):
		return fmt.Sprintf("%s: the poller %q has a condition that is false with these parameters (%s)", file, cond.Poller, p.ConditionExpr)
	case err != nil:
		return err.Error()
	}
	return ""
}
