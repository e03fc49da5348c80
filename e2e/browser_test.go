package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chromiumPath is Debian's chromium (CCP_CHROMIUM overrides it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CCP_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("the browser end-to-end test needs Chromium at %s (%v): .ci/run installs it "+
			"(apt-get install -y --no-install-recommends chromium); set CCP_CHROMIUM to use another, or run with -short to leave it out", path, err)
	}
	return path
}

// browser runs headless Chromium with a fresh profile each time.
type browser struct {
	t    *testing.T
	path string
}

func newBrowser(t *testing.T) *browser { return &browser{t: t, path: chromiumPath(t)} }

// consoleLine is how Chromium logs a console message (CSP violations included) to stderr.
var consoleLine = regexp.MustCompile(`:CONSOLE[:(]\d*\)?\] (.*)`)

// run starts Chromium with extra arguments; it returns stdout and the console messages.
func (b *browser) run(args ...string) (string, []string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--no-default-browser-check", "--user-data-dir=" + b.t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, b.path, append(base, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(b.t, ctx.Err(), "chromium did not finish within 90s; stderr:\n%s", stderr.String())
	require.NoError(b.t, err, "chromium %v; stderr:\n%s", args, stderr.String())
	var console []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if m := consoleLine.FindStringSubmatch(line); m != nil {
			console = append(console, m[1])
		}
	}
	return stdout.String(), console
}

// dom loads url and returns the DOM after the load event, and the console messages.
func (b *browser) dom(url string) (string, []string) {
	b.t.Helper()
	return b.run("--dump-dom", url)
}

// screenshot saves a PNG of url in dir and returns its path.
func (b *browser) screenshot(url, dir, name string) string {
	b.t.Helper()
	path := filepath.Join(dir, name)
	b.run("--hide-scrollbars", "--window-size=1280,900", "--screenshot="+path, url)
	st, err := os.Stat(path)
	require.NoError(b.t, err, "no screenshot written")
	require.Positive(b.t, st.Size())
	return path
}
