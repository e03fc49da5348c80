package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// corpusDir is the committed copy of the 41 real connector files.
const corpusDir = "../../internal/ccp/connectorfile/testdata/corpus"

func corpusFile(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("corpus file: %v", err)
	}
	return p
}

// runCCP runs the command in-process and returns exit code, stdout and stderr.
func runCCP(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}
