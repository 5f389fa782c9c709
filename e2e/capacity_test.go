package e2e

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
	t.Setenv("GITHUB_STEP_SUMMARY", jobSummary) // and the search appends its markdown summary there
	code, stdout, stderr := runBin(t, "capacity", writeProfile(t, noLimitProfile), "--from", "400", "--step", "7s", "--max", "12800", "--out", dir)
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
	if code, out, errs := runBin(t, "cleanup", dir); code != exitcode.OK || !strings.HasPrefix(out, fmt.Sprintf("cleanup: %d journals", len(c.Steps))) ||
		!strings.Contains(out, " 0 possibly open") {
		t.Errorf("cleanup of the search: exit %d\n%s\n%s", code, out, errs)
	}
	first := filepath.Join(dir, c.Steps[0].Result)
	if code, out, errs := runBin(t, "report", first); code != exitcode.OK || !strings.Contains(out, "journeys") {
		t.Errorf("report on a step's result: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := runBin(t, "compare", first, filepath.Join(dir, last.Result)); code != exitcode.OK || out == "" {
		t.Errorf("compare of two steps: exit %d\n%s\n%s", code, out, errs)
	}
}
