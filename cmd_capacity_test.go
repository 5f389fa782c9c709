package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/report"
)

// TestCapacityUsage: bad flags and an unconfirmed live search exit 2 before anything is sent.
func TestCapacityUsage(t *testing.T) {
	t.Parallel()
	quick := writeProfile(t, quickLoad)
	live := writeProfile(t, quickLoad+`targets:
  - name: brand
    account: "42"
    csds: https://127.0.0.1:1
    client_id_env: LPBENCH_TEST_ID
    client_secret_env: LPBENCH_TEST_SECRET
    routing: default
`)
	leaveOpen := writeProfile(t, quickLoad+"journey: {close: false}\n"+`targets:
  - name: brand
    account: "42"
    csds: https://127.0.0.1:1
    client_id_env: LPBENCH_TEST_ID
    client_secret_env: LPBENCH_TEST_SECRET
    routing: default
`)
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		// A resolution is a fraction below 1.
		{"resolution", []string{quick, "--resolution", "2"}, "resolution must be between 0 and 1"},
		// The SLO is threshold syntax.
		{"slo", []string{quick, "--slo", "gap.p99 < 10"}, "needs a duration with a unit"},
		// The cap is not below the first rate.
		{"max below from", []string{quick, "--from", "100", "--max", "50"}, "below the first rate"},
		// Steps too short to judge a growing queue are refused, naming the shortest accepted.
		{"step", []string{quick, "--step", "5s"}, "the shortest step accepted is 7s"},
		// A live target needs --live ...
		{"live", []string{live}, "add --live to confirm"},
		// ... and --max.
		{"live without max", []string{live, "--live"}, "needs --max"},
		// ... and closes its conversations, unless --leave-open says they stay open.
		{"live leaving them open", []string{leaveOpen, "--live", "--max", "10"}, "journey.close is false on LivePerson itself"},
		// A first step beyond the conversation cap could not run: refused, nothing created.
		{"first step over the cap", []string{quick, "--from", "100", "--step", "7s", "--max-conversations", "100"}, "more than the cap of 100 (--max-conversations)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr := runCLI(append([]string{"capacity"}, append(tc.args, "--out", out)...)...)
			if code != exitcode.Usage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q in stderr:\n%s", code, exitcode.Usage, tc.want, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("the refused search created %s", out)
			}
		})
	}
}

// TestCapacityCommonFlags: capacity takes --no-progress (no line per step on stderr; the step
// table tells them) and --relax-check (each step's check is relaxed), as run does.
func TestCapacityCommonFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, stdout, stderr := runCLI("capacity", writeProfile(t, quickLoad), "--from", "20", "--step", "10s", "--max-steps", "1",
		"--cool-down", "0s", "--no-progress", "--relax-check", "percentile_support", "--out", dir)
	// The flags are what is tested: a step that a slow machine (-race, other load) left with too
	// few seconds to judge its queue ends the search with exit 2 after the step ran, and its
	// outputs are checked all the same.
	if code == exitcode.Usage && !strings.Contains(stderr, "could not be judged for a growing queue") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "capacity: step") {
			t.Errorf("--no-progress, yet a line per step:\n%s", stderr)
		}
	}
	steps, _ := filepath.Glob(filepath.Join(dir, "step-*", "result.json"))
	if len(steps) != 1 {
		t.Fatalf("step results %v, want one\nstdout:\n%s", steps, stdout)
	}
	res, err := report.ReadFile(steps[0])
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, stdout)
	}
	relaxed := false
	for _, c := range res.Checks {
		relaxed = relaxed || (c.Name == "percentile_support" && c.Relaxed)
	}
	if !relaxed {
		t.Errorf("the step's percentile_support check is not relaxed: %+v", res.Checks)
	}
}
