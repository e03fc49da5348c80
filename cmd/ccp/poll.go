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
	pollers, err := connectorfile.Load(o.file)
	if err != nil {
		if !strings.Contains(err.Error(), o.file) {
			err = fmt.Errorf("%s: %w", o.file, err)
		}
		return fail("%v", err)
	}
	p, err := connector.Pick(pollers, o.connector, o.params, o.file, "--connector")
	if err != nil {
		return fail("%v", err)
	}
	if !connector.HTTPKind(p.Kind) {
		return fail("%s: kind %q is not an HTTP poller", o.file, p.Kind)
	}
	creds, missingCreds := legacyCredentials(p, o.params, false)
	secrets := []string{creds.Username, creds.Password, creds.APIKey, creds.ClientID, creds.ClientSecret,
		creds.RefreshToken, creds.AuthorizationCode, creds.UserToken}
	sc := newScrubber(o.params, secrets)
	loaded, err := connector.Resolve(p, o.params, o.file)
	if msg := pollLoadError(err, missingCreds, p, o.file); msg != "" {
		return fail("%s", sc.scrub(msg))
	}
	def := loaded.Def

	var mu sync.Mutex
	errOut := scrubWriter{mu: &mu, w: stderr, s: sc}
	enc := zap.NewDevelopmentEncoderConfig()
	enc.TimeKey = ""
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), errOut, zap.InfoLevel))
	base := pollTransport
	if base == nil {
		base = http.DefaultTransport
	}
	client := &http.Client{Transport: &traceTransport{next: base, out: errOut, now: time.Now}, Timeout: 10 * time.Minute}
	conn, err := loaded.Open(connector.Options{HTTPClient: client, Credentials: creds, Logger: log,
		Engine: poller.Options{MaxPages: 1000}})
	if err != nil {
		return fail("%s", sc.scrub(err.Error()))
	}
	resolved := loaded

	ing, err := startIngest(ctx, o, resolved.Name, def)
	if err != nil {
		return fail("%s", sc.scrub(err.Error()))
	}

	now := pollNow().UTC().Truncate(time.Second)
	end := now.Add(-time.Duration(def.Request.QueryWindowDelayInMin) * time.Minute)
	start := end.Add(-time.Duration(def.Request.QueryWindowInMin) * time.Minute)
	if o.hasSince {
		if start, err = parseSince(o.since, now); err != nil {
			return fail("%v", err)
		}
		end = now
	}
	fmt.Fprintf(errOut, "window: %s .. %s (%s)\n", start.Format(time.RFC3339), end.Format(time.RFC3339), resolved.Name)
	events, pages := 0, 0
	var line bytes.Buffer
	w := window.Window{Start: start, End: end}
	_, err = conn.Poller.PollWindow(ctx, w, "", "", func(ctx context.Context, pg poller.Page) error {
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
