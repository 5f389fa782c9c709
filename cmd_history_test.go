package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
)

// historyFixture writes a history of 8 comparable runs of profile nightly (labels env=ci) and one
// of another label set: CONVERSATION p50 near 100 ms, 130 ms in the last one.
func historyFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	db, err := history.Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	add := func(i int, labels map[string]string, create float64) {
		r := &history.Run{Kind: history.KindRun, RunID: "run" + string(rune('a'+i)), Profile: "nightly", Shard: report.Shard{Count: 1},
			Start: start.Add(time.Duration(i) * 24 * time.Hour), End: start.Add(time.Duration(i)*24*time.Hour + 5*time.Minute),
			Version: "test", EndReason: string(report.EndCompleted), ChecksOK: true, Labels: labels,
			Metrics: []history.Metric{
				{Target: "sim", Name: "served", Kind: report.KindShare, Value: 1, Samples: 15000},
				{Target: "sim", Name: "step.create.p50", Kind: report.KindDuration, Value: create * 1e6, Samples: 15000},
			}}
		if err := db.Append(context.Background(), r, []byte(`{"run":"`+r.RunID+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range []float64{100, 101, 99, 100, 102, 98, 100} {
		add(i, map[string]string{"env": "ci"}, v)
	}
	add(7, map[string]string{"env": "staging"}, 300)
	add(8, map[string]string{"env": "ci"}, 130)
	return path
}

// TestHistoryCommands: list, show, trend and check on a history file, with their filters and
// exit codes.
func TestHistoryCommands(t *testing.T) {
	file := historyFixture(t)
	out := filepath.Join(t.TempDir(), "out")
	for _, c := range []struct {
		args []string
		code exitcode.Code
		want []string
	}{
		{[]string{"list", file}, 0, []string{"#1", "#9", "env=staging", "valid", "runa"}},
		{[]string{"list", file, "--label", "env=staging"}, 0, []string{"#8"}},
		{[]string{"list", file, "--profile", "other"}, 0, []string{"(no run matches the filter profile other)"}},
		{[]string{"show", file, "#2"}, 0, []string{"run #2 (run) of profile nightly", "step.create.p50", "101ms", "15000"}},
		{[]string{"show", file, "runc", "-result", out + ".json"}, 0, []string{"run #3"}},
		{[]string{"trend", file, "--label", "env=ci"}, 0, []string{"130ms!", "8 runs (#1 … #9)", "step.create.p50", "! regression"}},
		{[]string{"trend", file, "-format", "html", "-o", out + ".html"}, 0, nil},
		{[]string{"check", file}, exitcode.Thresholds, []string{"history check of run #9", "baseline: 7 runs (#1 #2 #3 #4 #5 #6 #7; up to 7), minimum effect 5.0% (5.00ms for a duration)",
			"regression: step.create.p50 of target sim: 130ms, baseline band", "above the band, +30.0% on the mean; detects +7.2% or worse", "1 regression(s)",
			"smallest change for the worse this baseline of 7 runs can flag: +7.2% (step.create.p50 of sim); shares -0.10pp (served of sim) (-v: each metric)"}},
		{[]string{"check", file, "--min-effect", "40%", "-v"}, 0, []string{"0 regression(s)", "served of target sim: 100.00%, baseline band 100.00% – 100.00%"}},
		{[]string{"check", file, "--run", "7"}, 0, []string{"history check of run #7", "baseline: 6 runs"}},
		{[]string{"check", file, "--run", "8"}, exitcode.Usage, []string{"NOT JUDGED: run #8: 7 earlier valid runs of kind run, profile nightly, but only 0 comparable with it: they differ in label env in 7",
			"add -ignore-label env"}},
		{[]string{"check", file, "--run", "3"}, 0, []string{"NOT JUDGED: run #3: 2 comparable valid run(s) before it, 3 needed (a young history"}},
		{[]string{"check", file, "--target", "other"}, exitcode.Usage, nil},
		{[]string{"check", file, "--label", "env=prod"}, exitcode.Usage, []string{"no run matches the filter labels env=prod"}},
		{[]string{"check", file, "--baseline", "2"}, exitcode.Usage, []string{"-baseline 2: at least 3"}},
		{[]string{"check", file, "--baseline", "0"}, exitcode.Usage, []string{"-baseline 0: at least 3"}},
		{[]string{"trend", file, "--baseline", "1"}, exitcode.Usage, []string{"-baseline 1: at least 3"}},
		{[]string{"check", file, "--min-effect", "x"}, exitcode.Usage, nil},
		{[]string{"frob", file}, exitcode.Usage, nil},
		{[]string{"list", file, "x", "y"}, exitcode.Usage, []string{`history list: unexpected argument "x"`}},
		{[]string{"show", file, "#2", "y"}, exitcode.Usage, []string{`history show: unexpected argument "y"`}},
		{[]string{"check", file, "x"}, exitcode.Usage, []string{`history check: unexpected argument "x"`}},
		{[]string{"check", filepath.Join(t.TempDir(), "missing.db")}, exitcode.Usage, nil},
	} {
		code, stdout, stderr := runCLI(append([]string{"history"}, c.args...)...)
		if code != c.code {
			t.Errorf("history %v: exit %d, want %d\n%s%s", c.args, code, c.code, stdout, stderr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(stdout+stderr, w) {
				t.Errorf("history %v: output lacks %q:\n%s%s", c.args, w, stdout, stderr)
			}
		}
	}
	if b, err := os.ReadFile(out + ".json"); err != nil || string(b) != `{"run":"runc"}` {
		t.Errorf("show -result wrote %q, %v", b, err)
	}
	if b, err := os.ReadFile(out + ".html"); err != nil || !bytes.Contains(b, []byte(`data-chart="sim:step.create.p50"`)) {
		t.Errorf("trend -format html: %v", err)
	}
}

// TestRunHistory: run --history appends the run with its labels (also in result.json); a file
// that is not a history stops the run before it starts (exit 2) and is left as it was.
func TestRunHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the smoke profile for 1 s")
	}
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("not a history"), 0o644)
	code, _, stderr := runCLI("run", "--rate", "10", "--duration", "1s", "--no-progress", "--out", filepath.Join(dir, "refused"), "--history", notes)
	if code != exitcode.Usage || !strings.Contains(stderr, "not an lpbench history") {
		t.Errorf("foreign history: exit %d, want %d\n%s", code, exitcode.Usage, stderr)
	}
	if b, _ := os.ReadFile(notes); string(b) != "not a history" {
		t.Error("the foreign file was changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "refused")); err == nil {
		t.Error("the refused run made its output directory")
	}

	file := filepath.Join(dir, "history.db")
	out := filepath.Join(dir, "run")
	code, _, stderr = runCLI("run", "--rate", "10", "--duration", "1s", "--no-progress", "--out", out, "--history", file, "--label", "build=7", "--label", "env=ci")
	if code != exitcode.OK || !strings.Contains(stderr, "appended to history "+file+" as run #1") {
		t.Fatalf("run --history: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rf struct{ Labels map[string]string }
	if err := json.Unmarshal(b, &rf); err != nil || rf.Labels["build"] != "7" || rf.Labels["env"] != "ci" {
		t.Errorf("result.json labels %v, %v", rf.Labels, err)
	}
	code, stdout, _ := runCLI("history", "show", file, "--label", "build=7")
	for _, want := range []string{"run #1 (run) of profile smoke", "labels build=7,env=ci", "exit 0", "served", "step.create.p50"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("history show lacks %q:\n%s", want, stdout)
		}
	}
	if code != exitcode.OK {
		t.Errorf("history show: exit %d", code)
	}
}

// TestHistoryCheckNothingJudged: history check never says "all good" when it judged nothing. A
// label that changes every run is exit 2 naming it (and judged with -ignore-label); a run that
// lacks a metric its baseline had is exit 3 (also when -target names a target silent in it); a
// run none of whose metrics could be judged is exit 4; a relaxed check that failed shows in list
// and show, and the run stays valid.
func TestHistoryCheckNothingJudged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	db, err := history.Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	add := func(i int, ms ...history.Metric) {
		r := &history.Run{Kind: history.KindRun, RunID: fmt.Sprintf("run%d", i), Profile: "nightly", Shard: report.Shard{Count: 1},
			Start: start.Add(time.Duration(i) * time.Hour), End: start.Add(time.Duration(i)*time.Hour + time.Minute), Version: "test",
			EndReason: string(report.EndCompleted), ChecksOK: true, Labels: map[string]string{"commit": fmt.Sprint(i)}, Metrics: ms,
			Checks: []report.Check{{Name: "stationary", Target: "sim", OK: i != 2, Relaxed: true, Measured: "grew", Limit: "≤ 50%"}}}
		if err := db.Append(context.Background(), r, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	served := history.Metric{Target: "sim", Name: "served", Kind: report.KindShare, Value: 1, Samples: 15000}
	create := history.Metric{Target: "sim", Name: "step.create.p50", Kind: report.KindDuration, Value: 100e6, Samples: 15000}
	for i := range 4 {
		add(i, served, create)
	}
	add(4, create)                        // served missing: it stopped verifying auto messages
	served.Samples, create.Samples = 0, 1 // every metric there, none with enough samples to judge
	add(5, served, create)
	add(6, history.Metric{Target: "other", Name: "errors", Kind: report.KindShare, Value: 0, Samples: 100}) // sim went silent
	db.Close()
	ignore := []string{"--ignore-label", "commit"}
	for _, c := range []struct {
		args []string
		code exitcode.Code
		want []string
	}{
		{[]string{"--run", "5"}, exitcode.Usage, []string{"NOT JUDGED: run #5: 4 earlier valid runs", "differ in label commit in 4", "add -ignore-label commit"}},
		{append([]string{"--run", "5"}, ignore...), exitcode.Thresholds, []string{"regression: served of target sim: missing: baseline had it in 4 runs", "1 regression(s)"}},
		{append([]string{"--run", "5", "--label", "commit=4"}, ignore...), exitcode.Thresholds, []string{"missing: baseline had it in 4 runs"}},
		{[]string{"--run", "5", "--label", "commit=4"}, exitcode.Usage, []string{"add -ignore-label commit"}},
		{append([]string{"--target", "sim"}, ignore...), exitcode.Thresholds, []string{"history check of run #7",
			"served of target sim: missing: baseline had it in 5 runs", "step.create.p50 of target sim: missing: baseline had it in 6 runs", "2 regression(s)"}},
		{append([]string{"--target", "nosuch"}, ignore...), exitcode.Usage, []string{`no run has metrics of target "nosuch"`}},
		{append([]string{"--run", "6"}, ignore...), exitcode.NotValid, []string{"not judged: sim step.create.p50: 1 samples", "NOT JUDGED: run #6: a baseline of 5 runs, but not one of its 2 metrics could be judged", "exit 4"}},
	} {
		code, stdout, stderr := runCLI(append([]string{"history", "check", path}, c.args...)...)
		if code != c.code {
			t.Errorf("history check %v: exit %d, want %d\n%s%s", c.args, code, c.code, stdout, stderr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(stdout+stderr, w) {
				t.Errorf("history check %v: output lacks %q:\n%s%s", c.args, w, stdout, stderr)
			}
		}
	}
	code, stdout, _ := runCLI("history", "list", path)
	if code != 0 || !strings.Contains(stdout, "valid (relaxed, failed: stationary [sim])") || strings.Count(stdout, "relaxed") != 1 {
		t.Errorf("list (exit %d) does not show the relaxed failure of #3 alone:\n%s", code, stdout)
	}
	code, stdout, _ = runCLI("history", "show", path, "3")
	if code != 0 || !strings.Contains(stdout, "check FAILED, relaxed (the run stays valid: judged and a baseline): stationary [sim]: grew (limit ≤ 50%)") {
		t.Errorf("show (exit %d) does not show the relaxed failure:\n%s", code, stdout)
	}
}

// TestHistoryCheckStepSummary: with $GITHUB_STEP_SUMMARY set, check appends its verdict as
// markdown — the outcome and exit code, the baseline's size, every metric judged with the
// smallest change it can flag, the flagged changes — for exit 0, 3 and 4 alike, after what
// the file held. (Not parallel: it sets the environment.)
func TestHistoryCheckStepSummary(t *testing.T) {
	file := historyFixture(t)
	db, err := history.Open(file, false)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	invalid := &history.Run{Kind: history.KindRun, RunID: "runk", Profile: "nightly", Shard: report.Shard{Count: 1},
		Start: start, End: start.Add(5 * time.Minute), Version: "test", EndReason: string(report.EndCompleted), ChecksOK: false,
		Labels: map[string]string{"env": "ci"}, Checks: []report.Check{{Name: "generator_lag", OK: false, Measured: "p99 64ms", Limit: "≤ 10ms"}}}
	if err := db.Append(context.Background(), invalid, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, c := range []struct {
		args []string
		code exitcode.Code
		want []string
	}{
		{[]string{"--run", "9", "--min-effect", "40%"}, exitcode.OK, []string{"### lpbench history check: no regression (exit 0)",
			"Baseline: **7 runs** (#1 #2 #3 #4 #5 #6 #7; up to 7), minimum effect 40.0% (5.00ms for a duration).", "| sim | step.create.p50 | 130ms | ", "| +40.0% | within |",
			"2 metrics judged, 0 regression(s)"}},
		{[]string{"--run", "9"}, exitcode.Thresholds, []string{"### lpbench history check: REGRESSION: 1 metric(s) worse (exit 3)",
			"Baseline: **7 runs**", "| sim | step.create.p50 | 130ms | ", "| **regression** |", "The smallest change for the worse this baseline can flag: +7.2% (step.create.p50 of sim); shares -0.10pp (served of sim).", "| +7.2% | **regression** |"}},
		{nil, exitcode.NotValid, []string{"### lpbench history check: NOT JUDGED: the run could not be judged (exit 4)",
			`NOT JUDGED: run \#10: its measurement checks failed`}},
	} {
		path := filepath.Join(t.TempDir(), "summary.md")
		if err := os.WriteFile(path, []byte("# earlier step\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv(render.StepSummaryEnv, path)
		code, stdout, stderr := runCLI(append([]string{"history", "check", file, "--label", "env=ci"}, c.args...)...)
		if code != c.code {
			t.Errorf("check %v: exit %d, want %d\n%s%s", c.args, code, c.code, stdout, stderr)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "# earlier step\n\n### lpbench history check: ") {
			t.Errorf("check %v: the summary does not follow the file's content:\n%s", c.args, b)
		}
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("check %v: the job summary lacks %q:\n%s", c.args, w, b)
			}
		}
	}
}
