package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/nested"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

// pollDeps can be replaced by tests.
var (
	pollNow       = time.Now
	pollTransport http.RoundTripper
)

// pickPoller selects a poller by name (resolved or raw, case-insensitive) or 0-based index.
func pickPoller(pollers []connectorfile.Poller, params map[string]string, want, file string) (connectorfile.Poller, error) {
	list := func() string {
		s := make([]string, len(pollers))
		for i, p := range pollers {
			n := p.Name
			if r, _, err := connectorfile.FillDummies(p, params); err == nil && r.Name != "" {
				n = r.Name
			}
			s[i] = fmt.Sprintf("%d:%s", i, n)
		}
		return strings.Join(s, ", ")
	}
	if want == "" {
		if len(pollers) == 1 {
			return pollers[0], nil
		}
		return connectorfile.Poller{}, fmt.Errorf("%s holds %d pollers (%s); pick one with --connector NAME|INDEX", file, len(pollers), list())
	}
	if i, err := strconv.Atoi(want); err == nil {
		if i < 0 || i >= len(pollers) {
			return connectorfile.Poller{}, fmt.Errorf("--connector %d is out of range: %s holds %d pollers (%s)", i, file, len(pollers), list())
		}
		return pollers[i], nil
	}
	for _, p := range pollers {
		if strings.EqualFold(p.Name, want) {
			return p, nil
		}
		if r, _, err := connectorfile.FillDummies(p, params); err == nil && strings.EqualFold(r.Name, want) {
			return p, nil
		}
	}
	return connectorfile.Poller{}, fmt.Errorf("--connector %q: no such poller in %s; it holds %s", want, file, list())
}

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
	p, err := pickPoller(pollers, o.params, o.connector, o.file)
	if err != nil {
		return fail("%v", err)
	}
	if !httpKind(p.Kind) {
		return fail("%s: kind %q is not an HTTP poller", o.file, p.Kind)
	}
	creds, missingCreds := legacyCredentials(p, o.params, false)
	secrets := []string{creds.Username, creds.Password, creds.APIKey, creds.ClientID, creds.ClientSecret,
		creds.RefreshToken, creds.AuthorizationCode, creds.UserToken}
	sc := newScrubber(o.params, secrets)
	resolved, missing, err := connectorfile.Resolve(p, o.params)
	missing = append(missing, missingCreds...)
	if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, m := range missing {
			names[i] = m.Name
			if m.Label != "" {
				names[i] += " (" + m.Label + ")"
			}
		}
		return fail("%s: parameters missing: %s; give them with --parameters name=value", o.file, strings.Join(names, ", "))
	}
	if err != nil {
		return fail("%s", sc.scrub(err.Error()))
	}
	if !resolved.Condition {
		return fail("%s: the poller %q has a condition that is false with these parameters (%s)", o.file, resolved.Name, p.ConditionExpr)
	}
	def, err := nested.ParseDefinition(resolved.Properties, o.file)
	if err == nil {
		err = def.Problems()
	}
	if err != nil {
		return fail("%s", sc.scrub(err.Error()))
	}

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
	a, err := auth.New(def.Auth, auth.Settings{HTTPClient: client, Credentials: creds, Logger: log})
	if err != nil {
		return fail("%s", sc.scrub(err.Error()))
	}
	// One limiter for the parent's pages and the nested child calls: the connector's rateLimitQPS.
	engOpts := poller.Options{HTTPClient: client, Auth: a, Logger: log, MaxPages: 1000, Limiter: ratelimit.New(def.Request.RateLimitQPS)}
	eng, err := poller.New(def, engOpts)
	if err != nil {
		return fail("%s", sc.scrub(err.Error()))
	}
	var steps *nested.Runner
	if nested.Present(resolved.Properties) {
		steps, err = nested.New(resolved.Properties, a, nested.Options{Engine: engOpts,
			AuthSettings: auth.Settings{HTTPClient: client, Credentials: creds, Logger: log}, Path: o.file})
		if err != nil {
			return fail("%s", sc.scrub(err.Error()))
		}
	}

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
	_, err = eng.PollWindow(ctx, w, "", "", func(ctx context.Context, pg poller.Page) error {
		pages++
		if steps != nil && len(pg.Events) > 0 {
			expanded, err := steps.Expand(ctx, w, pg.Events)
			if err != nil {
				return err
			}
			pg.Events = expanded
		}
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
