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
	p := &argParser{cmd: cmd, args: args, o: &options{params: map[string]string{}}}
	if err := p.scan(); err != nil {
		return nil, err
	}
	if len(p.files) != 1 {
		return nil, fmt.Errorf("want exactly one FILE, got %d", len(p.files))
	}
	p.o.file = p.files[0]
	if cmd == "poll" {
		if err := p.o.checkPoll(); err != nil {
			return nil, err
		}
	}
	if err := p.readParamFiles(); err != nil {
		return nil, err
	}
	return p.o, nil
}

// flagSpec is one flag of the table: which command takes it, whether it takes a value, and
// what it sets. inline tells set the value came as --flag=value.
type flagSpec struct {
	pollOnly bool
	noValue  bool
	set      func(p *argParser, v string, inline bool) error
}

// flags maps each flag name (without its dashes) to its spec.
var flags = map[string]flagSpec{
	"parameters":      {set: (*argParser).parameters},
	"parameter":       {set: (*argParser).parameters},
	"p":               {set: (*argParser).parameters},
	"parameters-file": {set: func(p *argParser, v string, _ bool) error { p.paramFiles = append(p.paramFiles, v); return nil }},
	"connector":       {pollOnly: true, set: func(p *argParser, v string, _ bool) error { p.o.connector = v; return nil }},
	"once":            {pollOnly: true, noValue: true, set: func(p *argParser, _ string, _ bool) error { p.o.once = true; return nil }},
	"ingest":          {pollOnly: true, set: func(p *argParser, v string, _ bool) error { p.o.ingest = v; return nil }},
	"exporter":        {pollOnly: true, set: func(p *argParser, v string, _ bool) error { p.o.exporter = v; return nil }},
	"since":           {pollOnly: true, set: func(p *argParser, v string, _ bool) error { p.o.since, p.o.hasSince = v, true; return nil }},
}

// argParser walks the words of one command line.
type argParser struct {
	cmd        string
	args       []string
	i          int // the word being read
	o          *options
	files      []string
	paramFiles []string
}

// scan sorts the words into FILEs and flags; "--" makes every later word a FILE.
func (p *argParser) scan() error {
	for ; p.i < len(p.args); p.i++ {
		a := p.args[p.i]
		if a == "--" {
			p.files = append(p.files, p.args[p.i+1:]...)
			return nil
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			p.files = append(p.files, a)
			continue
		}
		if err := p.flag(a); err != nil {
			return err
		}
	}
	return nil
}

// flag applies one flag word a, reading its value from the next word when not inline.
func (p *argParser) flag(a string) error {
	name, val, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
	spec, ok := flags[name]
	switch {
	case !ok:
		return fmt.Errorf("unknown flag %s", a)
	case spec.pollOnly && p.cmd != "poll":
		return fmt.Errorf("%s is only for poll", a)
	case spec.noValue && inline:
		return fmt.Errorf("%s takes no value", a)
	case !spec.noValue && !inline:
		if p.i+1 >= len(p.args) {
			return fmt.Errorf("%s needs a value", a)
		}
		p.i++
		val = p.args[p.i]
	}
	return spec.set(p, val, inline)
}

// parameters reads --parameters k=v and, when its value was not inline, the k=v words after it.
func (p *argParser) parameters(v string, inline bool) error {
	k, vv, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("--parameters %q: want name=value", v)
	}
	if err := p.o.setParam(k, vv); err != nil {
		return err
	}
	for !inline && p.i+1 < len(p.args) && !strings.HasPrefix(p.args[p.i+1], "-") && strings.Contains(p.args[p.i+1], "=") {
		p.i++
		k, vv, _ := strings.Cut(p.args[p.i], "=")
		if err := p.o.setParam(k, vv); err != nil {
			return err
		}
	}
	return nil
}

// setParam records one --parameters value; a repeated name keeps its first position.
func (o *options) setParam(k, v string) error {
	if k == "" {
		return fmt.Errorf("--parameters %q: want name=value", k+"="+v)
	}
	if _, dup := o.params[k]; !dup {
		o.paramOrder = append(o.paramOrder, k)
	}
	o.params[k] = v
	return nil
}

// checkPoll checks the flags poll needs together.
func (o *options) checkPoll() error {
	if !o.once {
		return errors.New("--once is required (continuous polling is the collector's job: see ccp convert)")
	}
	if o.hasSince {
		if _, err := parseSince(o.since, time.Now()); err != nil {
			return err
		}
	}
	if o.exporter != "" && o.ingest == "" {
		return errors.New("--exporter needs --ingest CONFIG")
	}
	return nil
}

// readParamFiles adds the parameters files (Connect API bodies) under the names --parameters
// did not give: --parameters win.
func (p *argParser) readParamFiles() error {
	for _, pf := range p.paramFiles {
		b, err := os.ReadFile(pf)
		if err != nil {
			return fmt.Errorf("--parameters-file: %w", err)
		}
		m, err := connectorfile.ParamsFromConnectBody(b)
		if err != nil {
			return fmt.Errorf("--parameters-file %s: %w", pf, err)
		}
		for _, k := range sortedKeys(m) {
			if _, given := p.o.params[k]; given {
				continue
			}
			p.o.paramOrder = append(p.o.paramOrder, k)
			p.o.params[k] = m[k]
		}
	}
	return nil
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
