package exitcode

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/report"
)

// TestCapacityExit: the exit of a search, decided in one place: interrupted 130, generator-bound
// 4 (even with a rate found below), a step that could not run 1, a rate found 0, the SLO failing
// at the lowest rate 3, the conversation cap first 1.
func TestCapacityExit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		c       report.Capacity
		code    Code
		meaning string
	}{
		{"interrupted", report.Capacity{Interrupted: true, Found: true}, Interrupted, "interrupted"},
		{"generator-bound", report.Capacity{Bound: report.BoundGenerator, Interval: [2]float64{100, 200}}, NotValid, "generator-bound"},
		{"a step could not run", report.Capacity{Error: "target sim: csds: network", Found: true, Bound: report.BoundTarget}, RunFailed, "a step could not run: target sim: csds: network"},
		{"found", report.Capacity{Found: true, Bound: report.BoundTarget}, OK, "a sustainable rate was found"},
		{"found at the cap", report.Capacity{Found: true, Bound: report.BoundMax}, OK, "a sustainable rate was found"},
		{"SLO fails at the lowest rate", report.Capacity{Bound: report.BoundTarget}, Thresholds, "the SLO fails even at the lowest rate tried"},
		{"cut by a cap", report.Capacity{Bound: report.BoundBudget, Interval: [2]float64{40, 80}, Message: "the search ended at -max-steps 3 before it converged"}, RunFailed, "not converged: the search ended at -max-steps 3"},
		{"no rate found", report.Capacity{Message: "so far: 40/s passed"}, RunFailed, "no rate found: so far: 40/s passed"},
	} {
		code, meaning := Capacity(&tc.c)
		if code != tc.code || !strings.Contains(meaning, tc.meaning) {
			t.Errorf("%s: exit %d (%s), want %d (%s)", tc.name, code, meaning, tc.code, tc.meaning)
		}
	}
}

// TestOf: nil is 0; an Error its code, quiet or told; any other error exit 1, told.
func TestOf(t *testing.T) {
	other := errors.New("boom")
	for _, tc := range []struct {
		err  error
		code Code
		told error
	}{
		{nil, OK, nil},
		{Quiet(Thresholds), Thresholds, nil},
		{fmt.Errorf("wrapped: %w", AsUsage(other)), Usage, other},
		{other, RunFailed, other},
		{Decision{Code: RunFailed, Meaning: "no journey succeeded"}.Exit(), RunFailed, nil},
	} {
		code, told := Of(tc.err)
		if code != tc.code || (tc.told != nil && told != tc.told) {
			t.Errorf("Of(%v) = %d, %v; want %d, %v", tc.err, code, told, tc.code, tc.told)
		}
	}
	if _, told := Of(Decision{Code: RunFailed, Meaning: "m", Said: true}.Exit()); told != nil {
		t.Errorf("a failure said already is told again: %v", told)
	}
	if AsUsage(nil) != nil || (Decision{Code: OK}).Exit() != nil {
		t.Error("nil is not kept nil")
	}
}

// TestHistoryCheckExit: a history check's exit: quiet 3 on a regression, quiet 4 when the run is
// not valid, nil while the history is too young and when nothing regressed; a run without a
// baseline is a usage error that says why: other shards, or the labels to ignore.
func TestHistoryCheckExit(t *testing.T) {
	t.Parallel()
	run := &history.Run{Seq: 7}
	for _, tc := range []struct {
		name string
		v    history.RunJudgment
		code Code
		say  string
	}{
		{"judged, nothing worse", history.RunJudgment{Run: run, Judgments: []history.Judgment{{Flag: history.FlagImprovement}}}, OK, ""},
		{"a regression", history.RunJudgment{Run: run, Judgments: []history.Judgment{{Flag: history.FlagRegression}}}, Thresholds, ""},
		{"too young", history.RunJudgment{Run: run, Reason: history.TooFewRuns}, OK, ""},
		{"not valid", history.RunJudgment{Run: run, Reason: history.NotValid}, NotValid, ""},
		{"other shards", history.RunJudgment{Run: run, Reason: history.NotComparable},
			Usage, "history check: run #7 has no baseline: the runs before it are of other shards"},
		{"labels differ", history.RunJudgment{Run: run, Reason: history.NotComparable, LabelsDiffer: []string{"commit", "pr"}},
			Usage, "history check: run #7 has no baseline: the runs before it differ in label commit, pr; if it changes every run (a commit), add -ignore-label commit -ignore-label pr"},
	} {
		code, err := Of(HistoryCheckExit(&tc.v))
		said := ""
		if err != nil {
			said = err.Error()
		}
		if code != tc.code || said != tc.say {
			t.Errorf("%s: exit %d %q, want %d %q", tc.name, code, said, tc.code, tc.say)
		}
	}
}
