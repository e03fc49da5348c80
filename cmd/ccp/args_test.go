package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseArgsErrors pins every usage error of parseArgs, message included: the flag table
// must refuse exactly what the switch it replaced refused.
func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		args []string
		want string
	}{
		{"frob", []string{"a.json"}, `unknown command "frob"`},
		{"validate", make([]string, maxArgCount+1), "too many arguments"},
		{"validate", nil, "want exactly one FILE, got 0"},
		{"validate", []string{"a.json", "b.json"}, "want exactly one FILE, got 2"},
		{"validate", []string{"a.json", "--", "b.json"}, "want exactly one FILE, got 2"},
		{"validate", []string{"a.json", "--bogus"}, "unknown flag --bogus"},
		{"validate", []string{"a.json", "--bogus=1"}, "unknown flag --bogus=1"},
		{"validate", []string{"a.json", "--parameters"}, "--parameters needs a value"},
		{"validate", []string{"a.json", "--parameters", "novalue"}, `--parameters "novalue": want name=value`},
		{"validate", []string{"a.json", "--parameters", "=v"}, `--parameters "=v": want name=value`},
		{"validate", []string{"a.json", "-p", "a=1", "=2"}, `--parameters "=2": want name=value`},
		{"validate", []string{"a.json", "--parameters-file"}, "--parameters-file needs a value"},
		{"validate", []string{"a.json", "--parameters-file", "/nonexistent/x.json"}, "--parameters-file: open /nonexistent/x.json: no such file or directory"},
		{"convert", []string{"a.json", "--connector", "x"}, "--connector is only for poll"},
		{"convert", []string{"a.json", "--connector=x"}, "--connector=x is only for poll"},
		{"validate", []string{"a.json", "--once"}, "--once is only for poll"},
		{"validate", []string{"a.json", "--ingest", "c"}, "--ingest is only for poll"},
		{"validate", []string{"a.json", "--exporter", "c"}, "--exporter is only for poll"},
		{"validate", []string{"a.json", "--since", "1h"}, "--since is only for poll"},
		{"poll", []string{"a.json", "--once=true"}, "--once=true takes no value"},
		{"poll", []string{"a.json", "--connector"}, "--connector needs a value"},
		{"poll", []string{"a.json", "--once", "--since"}, "--since needs a value"},
		{"poll", []string{"a.json", "--once", "--ingest"}, "--ingest needs a value"},
		{"poll", []string{"a.json"}, "--once is required (continuous polling is the collector's job: see ccp convert)"},
		{"poll", []string{"a.json", "--once", "--since", "-5m"}, `--since "-5m": want an RFC 3339 time (2024-01-01T00:00:00Z) or a positive duration (90m)`},
		{"poll", []string{"a.json", "--once", "--since=2999-01-01T00:00:00Z"}, `--since "2999-01-01T00:00:00Z" is not in the past`},
		{"poll", []string{"a.json", "--once", "--exporter", "x"}, "--exporter needs --ingest CONFIG"},
	} {
		t.Run(tc.cmd+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			o, err := parseArgs(tc.cmd, tc.args)
			require.Error(t, err)
			assert.Nil(t, o)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

// TestParseArgsValues pins what the accepted forms set: flags before or after FILE, inline
// values, several k=v words after one --parameters, and a parameters file that --parameters win over.
func TestParseArgsValues(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "connect.json")
	require.NoError(t, os.WriteFile(pf, []byte(`{"properties":{"apiKey":"from-file","zeta":"z","b":"file-b"}}`), 0o600))

	o, err := parseArgs("poll", []string{"--once", "--connector=Okta", "-p", "b=1", "c=x=y", "a.json",
		"--parameter=d=4", "--since", "90m", "--ingest", "col.yaml", "--exporter=data", "--parameters-file", pf, "--parameters", "b=2"})
	require.NoError(t, err)
	assert.Equal(t, "a.json", o.file)
	assert.Equal(t, "Okta", o.connector)
	assert.True(t, o.once)
	assert.Equal(t, "90m", o.since)
	assert.True(t, o.hasSince)
	assert.Equal(t, "col.yaml", o.ingest)
	assert.Equal(t, "data", o.exporter)
	assert.Equal(t, []string{"b", "c", "d", "apiKey", "zeta"}, o.paramOrder)
	assert.Equal(t, map[string]string{"b": "2", "c": "x=y", "d": "4", "apiKey": "from-file", "zeta": "z"}, o.params)

	// k=v words continue a --parameters only when its value was not inline: "e=5" is a FILE here
	_, err = parseArgs("validate", []string{"a.json", "--parameter=d=4", "e=5"})
	require.EqualError(t, err, "want exactly one FILE, got 2")

	o, err = parseArgs("convert", []string{"-", "--", "--not-a-flag"})
	require.EqualError(t, err, "want exactly one FILE, got 2")
	assert.Nil(t, o)

	o, err = parseArgs("validate", []string{"--", "-x.json"})
	require.NoError(t, err)
	assert.Equal(t, "-x.json", o.file)
	assert.Empty(t, o.params)
	assert.False(t, o.once)
}
