package lifecycle

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// TestHistoryFailureKeepsVerdict: a run whose history append fails (here a closed history)
// keeps the exit it decided itself — 3 for a breached threshold, 4 for a failed check, 130
// interrupted — with the failure as a warning on stderr; a clean run exits 1. The job summary,
// written once the exit is known, tells the exit the command ends with.
func TestHistoryFailureKeepsVerdict(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		result  func(*report.Result)
		code    exitcode.Code
		md      string // in the job summary
		warning bool   // the history's failure is a warning on stderr
	}{
		{"clean run", func(*report.Result) {}, exitcode.RunFailed, "**exit 1**: the run is not in the history: ", false},
		{"threshold", func(r *report.Result) {
			r.Thresholds = []report.ThresholdResult{{Threshold: report.Threshold{Expr: "errors < 1%"}, Pass: false}}
		}, exitcode.Thresholds, "**exit 3**: a threshold was breached; warning: the run is not in the history: ", true},
		{"not valid", func(r *report.Result) {
			r.Checks = []report.Check{{Name: "load_delivered", OK: false, Measured: "dropped 40%"}}
		}, exitcode.NotValid, "**exit 4**: the measurement is not valid", true},
		{"interrupted", func(r *report.Result) { r.End = report.EndInterrupted }, exitcode.Interrupted, "**exit 130**", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			db, err := history.Open(filepath.Join(dir, "history.db"), true)
			if err != nil {
				t.Fatal(err)
			}
			db.Close() // the append fails
			res := shardResult("r1", "h1", 0, 1, t0)
			res.Overall.Outcomes[sample.OutcomeOK] = 5
			res.PerTarget[0].Outcomes[sample.OutcomeOK] = 5
			tc.result(res)
			summary := filepath.Join(dir, "summary.md")
			getenv := func(k string) string {
				if k == render.StepSummaryEnv {
					return summary
				}
				return ""
			}
			var stdout, stderr bytes.Buffer
			out, err := finishRun(res, dir, &stdout)
			if err != nil {
				t.Fatal(err)
			}
			v := out.Recorded(db, &stderr)
			AppendJobSummary(getenv, &stderr, out.Markdown(v.Code, v.Meaning))
			verr := v.Exit()
			md, err := os.ReadFile(summary)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := exitcode.Of(verr); got != tc.code || v.Code != tc.code {
				t.Errorf("exit %d (verdict %d), want %d", got, v.Code, tc.code)
			}
			if !strings.Contains(string(md), tc.md) || strings.Count(string(md), "**exit ") != 1 {
				t.Errorf("the job summary lacks %q, or tells more than one exit:\n%s", tc.md, md)
			}
			if warned := strings.Contains(stderr.String(), "lpbench: warning: the run is not in the history: "); warned != tc.warning {
				t.Errorf("warning on stderr %v, want %v:\n%s", warned, tc.warning, stderr.String())
			}
			if tc.code == exitcode.RunFailed && !strings.Contains(verr.Error(), "the run is not in the history") {
				t.Errorf("exit 1 with error %v, want the history's failure", verr)
			}
		})
	}
}

// TestVerdictWithHistory: an append that succeeded leaves the verdict as it is, with no warning.
func TestVerdictWithHistory(t *testing.T) {
	t.Parallel()
	for _, code := range []exitcode.Code{exitcode.OK, exitcode.RunFailed, exitcode.Thresholds, exitcode.NotValid, exitcode.Interrupted} {
		v := exitcode.Decision{Code: code, Meaning: "meaning"}
		if got, warning := v.WithHistory(nil); got != v || warning != "" {
			t.Errorf("exit %d: %+v after a successful append, want %+v; warning %q", code, got, v, warning)
		}
	}
}

// shardResult returns a minimal result of shard k/n of run id, profile hash h, started at start.
func shardResult(id, h string, k, n int, start time.Time) *report.Result {
	m := report.NewMetrics()
	m.Window = 10 * time.Second
	pt := report.NewMetrics()
	pt.Window = 10 * time.Second
	return &report.Result{
		Profile: "smoke", RunID: id, ProfileHash: h, Shard: report.Shard{Index: k, Count: n}, Start: start,
		Elapsed: time.Second, End: report.EndCompleted, Window: 10 * time.Second,
		Targets: []report.TargetInfo{{Name: "sim", Kind: "sim"}}, PerTarget: []*report.Metrics{pt}, Overall: m,
	}
}
