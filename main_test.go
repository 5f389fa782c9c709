package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// writeProfile writes a profile file into a temporary directory and returns its path.
func writeProfile(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// runCLI runs the command line and returns its exit code and outputs.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli(args, &out, &errb)
	return code, out.String(), errb.String()
}

const quickLoad = "load:\n  stages:\n    - {duration: 1s, rate: 5}\n"

// TestExitCodes checks the documented exit codes.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     func(t *testing.T) []string
		code     int
		inStdout string
		inStderr string
	}{
		// A short run whose thresholds hold.
		{"success", func(t *testing.T) []string {
			return []string{"run", writeProfile(t, quickLoad+"thresholds: [\"errors < 1%\"]\n"), "--no-progress"}
		}, exitOK, "thresholds: 1 passed, 0 failed", ""},
		// An unmeetable threshold: exit 3, and the table names it with the measured value.
		{"threshold breached", func(t *testing.T) []string {
			return []string{"run", writeProfile(t, quickLoad+"thresholds: [\"step.create.p50 < 1µs\"]\n"), "--no-progress"}
		}, exitThresholds, "step.create.p50 < 1µs", ""},
		// A malformed profile: exit 2, with file and line.
		{"malformed", func(t *testing.T) []string {
			return []string{"run", writeProfile(t, "load:\n  stages:\n    - {duration: 1s, rate: -5}\n")}
		}, exitUsage, "", "p.yaml:3: load.stages[0].rate: must be ≥ 0, got -5"},
		// A bad flag value.
		{"bad shard", func(t *testing.T) []string { return []string{"run", "smoke", "--shard", "3/2"} }, exitUsage, "", "-shard wants K/N"},
		// An unknown command.
		{"unknown command", func(t *testing.T) []string { return []string{"fly"} }, exitUsage, "", `unknown command "fly"`},
		// validate: valid and invalid files.
		{"validate ok", func(t *testing.T) []string { return []string{"validate", writeProfile(t, quickLoad)} }, exitOK, ": ok", ""},
		{"validate bad", func(t *testing.T) []string { return []string{"validate", writeProfile(t, "windw: 1s\n")} }, exitUsage, "", "p.yaml:1: windw: unknown key"},
		// profiles lists the shipped profiles.
		{"profiles", func(t *testing.T) []string { return []string{"profiles"} }, exitOK, "window-edge", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(tc.args(t)...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.inStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.inStdout, stdout)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.inStderr, stderr)
			}
		})
	}
}

// TestLiveNeedsConfirmation: a profile with a live target does not run without --live, and no
// connection is opened to it.
func TestLiveNeedsConfirmation(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	f := writeProfile(t, quickLoad+`targets:
  - name: brand
    account: "42"
    csds: `+srv.URL+`
    client_id_env: LPBENCH_TEST_ID
    client_secret_env: LPBENCH_TEST_SECRET
`)
	code, _, stderr := runCLI("run", f, "--no-progress")
	if code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr, "add --live to confirm") {
		t.Errorf("stderr does not ask for --live:\n%s", stderr)
	}
	// With --live but the credentials unset: still refused before any request.
	code, _, stderr = runCLI("run", f, "--no-progress", "--live")
	if code != exitUsage || !strings.Contains(stderr, "LPBENCH_TEST_SECRET is not set") {
		t.Errorf("exit code %d, stderr:\n%s", code, stderr)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections were opened to the live target", n)
	}
}
