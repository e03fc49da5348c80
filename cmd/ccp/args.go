package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/connectorfile"
)

// options are the parsed command-line arguments of one command.
type options struct {
	file       string
	params     map[string]string
	paramOrder []string // as given, for stable output
	connector  string
	once       bool
	since      string
	hasSince   bool
	ingest     string // poll --ingest: a collector configuration whose azure_monitor_dcr exporter gets the events
	exporter   string // poll --exporter: which azure_monitor_dcr exporter of it
}

// parseArgs reads FILE and the flags of cmd. Flags may come before or after FILE, as
// "--flag value" or "--flag=value"; --parameters takes one or more k=v words.
func parseArgs(cmd string, args []string) (*options, error) {
	if len(args) > maxArgCount {
		return nil, errors.New("too many arguments")
	}
	switch cmd {
	case "validate", "convert", "poll":
	default:
		return nil, fmt.Errorf("unknown command %q", cmd)
	}
	o := &options{params: map[string]string{}}
	var files []string
	set := func(k, v string) error {
		if k == "" {
			return fmt.Errorf("--parameters %q: want name=value", k+"="+v)
		}
		if _, dup := o.params[k]; !dup {
			o.paramOrder = append(o.paramOrder, k)
		}
		o.params[k] = v
		return nil
	}
	var paramFiles []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			files = append(files, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			files = append(files, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		needVal := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", a)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "parameters", "parameter", "p":
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			k, vv, ok := strings.Cut(v, "=")
			if !ok {
				return nil, fmt.Errorf("--parameters %q: want name=value", v)
			}
			if err := set(k, vv); err != nil {
				return nil, err
			}
			// more k=v words may follow one --parameters
			for !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && strings.Contains(args[i+1], "=") {
				i++
				k, vv, _ := strings.Cut(args[i], "=")
				if err := set(k, vv); err != nil {
					return nil, err
				}
			}
		case "parameters-file":
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			paramFiles = append(paramFiles, v)
		case "connector":
			if cmd != "poll" {
				return nil, fmt.Errorf("%s is only for poll", a)
			}
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			o.connector = v
		case "once":
			if cmd != "poll" {
				return nil, fmt.Errorf("%s is only for poll", a)
			}
			if hasVal {
				return nil, fmt.Errorf("%s takes no value", a)
			}
			o.once = true
		case "ingest", "exporter":
			if cmd != "poll" {
				return nil, fmt.Errorf("%s is only for poll", a)
			}
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			if name == "ingest" {
				o.ingest = v
			} else {
				o.exporter = v
			}
		case "since":
			if cmd != "poll" {
				return nil, fmt.Errorf("%s is only for poll", a)
			}
			v, err := needVal()
			if err != nil {
				return nil, err
			}
			o.since, o.hasSince = v, true
		default:
			return nil, fmt.Errorf("unknown flag %s", a)
		}
	}
	if len(files) != 1 {
		return nil, fmt.Errorf("want exactly one FILE, got %d", len(files))
	}
	o.file = files[0]
	if cmd == "poll" {
		if !o.once {
			return nil, errors.New("--once is required (continuous polling is the collector's job: see ccp convert)")
		}
		if o.hasSince {
			if _, err := parseSince(o.since, time.Now()); err != nil {
				return nil, err
			}
		}
		if o.exporter != "" && o.ingest == "" {
			return nil, errors.New("--exporter needs --ingest CONFIG")
		}
	}
	// a parameters file (Connect API body) first; --parameters win
	for _, pf := range paramFiles {
		b, err := os.ReadFile(pf)
		if err != nil {
			return nil, fmt.Errorf("--parameters-file: %w", err)
		}
		m, err := connectorfile.ParamsFromConnectBody(b)
		if err != nil {
			return nil, fmt.Errorf("--parameters-file %s: %w", pf, err)
		}
		for _, k := range sortedKeys(m) {
			if _, given := o.params[k]; given {
				continue
			}
			o.paramOrder = append(o.paramOrder, k)
			o.params[k] = m[k]
		}
	}
	return o, nil
}

// parseSince reads --since: an RFC 3339 time or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if !t.Before(now) {
			return time.Time{}, fmt.Errorf("--since %q is not in the past", s)
		}
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time (2024-01-01T00:00:00Z) or a positive duration (90m)", s)
	}
	return now.Add(-d), nil
}
