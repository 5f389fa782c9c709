package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/report"
)

// noLimitProfile drives the embedded simulator with no capacity limit: the generator is the
// bound.
const noLimitProfile = `name: nolimit
description: the embedded simulator without a capacity limit
load:
  stages:
    - {duration: 1s, rate: 10}
  max_in_flight: 20000
sim:
  capacity:
    create: {concurrency: 0}
`

// TestCapacityGeneratorBound: with no capacity limit the machine is the limit: the search
// doubles until the generator cannot deliver (twice at the same rate), exits 4, names the rate
// and says what to do; capacity.json and every step's outputs are written, its markdown summary
// is appended to $GITHUB_STEP_SUMMARY, and report and compare work on a step's result.json.
//
// Timed for real (a search of about half a minute): skipped with -short and under the race
// detector.
func TestCapacityGeneratorBound(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a search of about half a minute, timed for real")
	}
	dir := t.TempDir()
	jobSummary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv(stepSummaryEnv, jobSummary) // and the search appends its markdown summary there
	code, stdout, stderr := runCLI("capacity", writeProfile(t, noLimitProfile), "--from", "400", "--step", "7s", "--max", "12800", "--out", dir)
	t.Logf("stdout:\n%s", stdout)
	if got, want := code, exitcode.NotValid; got != want {
		t.Fatalf("exit %d, want %d (generator-bound)\nstderr:\n%s", got, want, stderr)
	}
	c, err := report.ReadCapacityFile(filepath.Join(dir, "capacity.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Bound, report.BoundGenerator; got != want {
		t.Errorf("bound %q, want %q", got, want)
	}
	if c.Found || c.SustainableRate != 0 {
		t.Errorf("a generator-bound search reports a capacity: %+v", c)
	}
	last := c.Steps[len(c.Steps)-1]
	if want := "generator-bound at " + strconv.FormatFloat(c.Interval[1], 'f', -1, 64) + "/s"; c.Interval[1] != last.Rate || !strings.Contains(stdout, want) {
		t.Errorf("interval %v, last step at %g/s; stdout does not say %q", c.Interval, last.Rate, want)
	}
	if last.Pass || len(last.Failed) != 1 || last.Failed[0] != report.CriterionGenerator {
		t.Errorf("last step %+v, want failed on the generator alone", last)
	}
	if md, err := os.ReadFile(jobSummary); err != nil || !strings.HasPrefix(string(md), "\n## lpbench capacity nolimit\n\n**generator-bound at ") ||
		strings.Count(string(md), "| ❌ FAIL |") == 0 {
		t.Errorf("job summary (%v):\n%s", err, md)
	}
	if !strings.Contains(stdout, "--shard") || !strings.Contains(stdout, "kubernetes") {
		t.Errorf("stdout does not say what to do (shard, Kubernetes):\n%s", stdout)
	}
	for _, name := range []string{"capacity.html", "summary.txt"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	for _, st := range c.Steps {
		for _, name := range []string{"result.json", "summary.txt", "report.html", "run.hlog", "junit.xml", "journal.jsonl"} {
			if _, err := os.Stat(filepath.Join(dir, filepath.Dir(st.Result), name)); err != nil {
				t.Error(err)
			}
		}
	}
	// lpbench cleanup reads every step's journal: the steps closed what they opened.
	if code, out, errs := runCLI("cleanup", dir); code != exitcode.OK || !strings.HasPrefix(out, fmt.Sprintf("cleanup: %d journals", len(c.Steps))) ||
		!strings.Contains(out, " 0 possibly open") {
		t.Errorf("cleanup of the search: exit %d\n%s\n%s", code, out, errs)
	}
	first := filepath.Join(dir, c.Steps[0].Result)
	if code, out, errs := runCLI("report", first); code != exitcode.OK || !strings.Contains(out, "journeys") {
		t.Errorf("report on a step's result: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := runCLI("compare", first, filepath.Join(dir, last.Result)); code != exitcode.OK || out == "" {
		t.Errorf("compare of two steps: exit %d\n%s\n%s", code, out, errs)
	}
}

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
	code, stdout, stderr := runCLI("capacity", writeProfile(t, quickLoad), "--from", "5", "--step", "7s", "--max-steps", "1",
		"--cool-down", "0s", "--no-progress", "--relax-check", "percentile_support", "--out", dir)
	if code == exitcode.Usage {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "capacity: step") {
		t.Errorf("--no-progress, yet a line per step:\n%s", stderr)
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
