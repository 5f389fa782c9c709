package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/render"
)

// TestMain keeps the tests off a real job summary: run under GitHub Actions, every run of the
// suite (and every binary it starts, which inherits the environment) would append to it.
func TestMain(m *testing.M) {
	os.Unsetenv(render.StepSummaryEnv)
	os.Exit(m.Run())
}

// TestStepSummaryAppended: with $GITHUB_STEP_SUMMARY naming a file that already has content, a
// run appends its markdown summary and keeps the content; a second run appends a second
// summary; merge appends one too. (Not parallel: it sets the environment.)
func TestStepSummaryAppended(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	const before = "# Earlier step\n\nits summary\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(render.StepSummaryEnv, path)
	profile := writeProfile(t, quickLoad+"thresholds: [\"errors < 1%\"]\n")
	for i := range 2 {
		code, stdout, stderr := runCLI("run", profile, "--no-progress", "--out", t.TempDir())
		if code != exitcode.OK {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, code, stdout, stderr)
		}
	}
	files := writeResults(t, shardResult("r1", "h1", 0, 2, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)),
		shardResult("r1", "h1", 1, 2, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)))
	if code, stdout, stderr := runCLI(append(append([]string{"merge"}, files...), "-o", filepath.Join(t.TempDir(), "m.json"))...); code != exitcode.OK {
		t.Fatalf("merge: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.HasPrefix(got, before) {
		t.Errorf("the earlier content was not kept:\n%s", got)
	}
	if n := strings.Count(got, "\n## lpbench "); n != 3 {
		t.Errorf("%d summaries appended, want 3 (two runs, one merge):\n%s", n, got)
	}
	if n := strings.Count(got, "**served**: first auto message received by 5 of 5 consumers (100.00%)"); n != 2 {
		t.Errorf("%d runs' headlines, want 2:\n%s", n, got)
	}
	if n := strings.Count(got, "✅ **exit 0**: the measurement is valid and every threshold held"); n != 2 {
		t.Errorf("%d runs' exit lines, want 2:\n%s", n, got)
	}
}

// TestStepSummaryUnwritable: a job summary that cannot be written is a warning, not a lost run:
// the run keeps its exit code and its files.
func TestStepSummaryUnwritable(t *testing.T) {
	t.Setenv(render.StepSummaryEnv, filepath.Join(t.TempDir(), "no-such-dir", "summary.md"))
	out := t.TempDir()
	code, stdout, stderr := runCLI("run", writeProfile(t, quickLoad+"thresholds: [\"errors < 1%\"]\n"), "--no-progress", "--out", out)
	if code != exitcode.OK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "lpbench: warning: the job summary was not written to $GITHUB_STEP_SUMMARY") {
		t.Errorf("stderr lacks the warning:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); err != nil {
		t.Errorf("the run's result is missing: %v", err)
	}
}
