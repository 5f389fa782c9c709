// Package exitcode owns lpbench's exit codes, one typed list, and the one place that decides
// the code of a finished run (Run), of a finished capacity search (Capacity) and of a history
// check (HistoryCheck, and HistoryCheckExit, whose error for a run without a baseline names the
// label to ignore), each with what it means; and the error that carries a command's code to the
// process's exit (Error, Of).
//
// It reads the result models of packages report and history; it knows nothing of how a command
// line is parsed, of how a code is printed or of the process that exits with it.
package exitcode

import (
	"slices"
	"strings"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// Code is an exit code of lpbench.
type Code int

// The exit codes.
const (
	OK          Code = 0   // the run measured validly and every threshold held
	RunFailed   Code = 1   // the run failed, or no journey succeeded
	Usage       Code = 2   // bad command line or profile (never gets as far as a result)
	Thresholds  Code = 3   // a threshold was breached (or a history check found a regression)
	NotValid    Code = 4   // a measurement check failed: the figures describe the generator
	Interrupted Code = 130 // the run was interrupted
)

// notValidMeaning says which measurement checks failed and, when one of the generator's own
// did, that the figures describe the generator, not the target.
func notValidMeaning(cs []report.Check) string {
	var failed []string
	generator := false
	for _, c := range cs {
		if c.Failed() {
			failed = append(failed, c.Label())
			generator = generator || slices.Contains(report.GeneratorChecks, c.Name)
		}
	}
	m := "the measurement is not valid: " + strings.Join(failed, ", ") + " failed"
	if generator {
		m += "; the figures describe the generator, not the target"
	}
	return m
}

// Run returns the exit code of a finished run and what it means in one line. A failed
// measurement check (4) wins over breached thresholds (3): the figures they judged are not a
// valid measurement of the target (they describe the generator, when one of its checks failed).
func Run(r *report.Result) (code Code, meaning string) {
	ok, started := int64(0), int64(0)
	if r.Overall != nil {
		ok, started = r.Overall.Outcomes[sample.OutcomeOK], r.Overall.Started()
	}
	switch {
	case r.End == report.EndFailed:
		return RunFailed, "the run failed"
	case r.End == report.EndInterrupted:
		return Interrupted, "the run was interrupted: what it measured so far"
	case started > 0 && ok == 0:
		return RunFailed, "no journey succeeded"
	case report.ChecksFailed(r.Checks):
		return NotValid, notValidMeaning(r.Checks)
	case report.Breached(r.Thresholds):
		return Thresholds, "a threshold was breached"
	case len(r.Thresholds) == 0:
		return OK, "no threshold judged the run"
	}
	return OK, "the measurement is valid and every threshold held"
}

// Capacity returns the exit code of a search and what it means in one line: 130 interrupted,
// 4 generator-bound (the measurement is not valid: no capacity figure), 1 a step could not
// run, 1 not converged (a cap ended the search first: BoundBudget), 0 a rate found, 3 the SLO
// failed even at the lowest rate tried, 1 otherwise (no rate found).
func Capacity(c *report.Capacity) (code Code, meaning string) {
	switch {
	case c.Interrupted:
		return Interrupted, "the search was interrupted: what is known so far"
	case c.Bound == report.BoundGenerator:
		return NotValid, "generator-bound: the measurement is not valid, no capacity figure"
	case c.Error != "":
		return RunFailed, "a step could not run: " + c.Error
	case c.Bound == report.BoundBudget:
		return RunFailed, "not converged: " + c.Message
	case c.Found:
		return OK, "a sustainable rate was found"
	case c.Bound == report.BoundTarget:
		return Thresholds, "the SLO fails even at the lowest rate tried"
	}
	return RunFailed, "no rate found: " + c.Message
}

// HistoryCheck returns the exit code of a history check's verdict: 4 when the run's own
// measurement is not valid or not one of its metrics could be judged, 2 when the runs before it
// are not comparable with it (no baseline), 3 on a regression (a metric worse, or missing, which
// its baseline had), 0 otherwise, also while the history is too young to judge.
func HistoryCheck(v *history.RunJudgment) Code {
	switch v.Reason {
	case history.NotValid, history.NoMetric:
		return NotValid
	case history.TooFewRuns:
		return OK
	case history.NotComparable:
		return Usage
	}
	if len(v.Regressions()) > 0 {
		return Thresholds
	}
	return OK
}

// HistoryCheckExit is the error a history check ends with for v (nil for exit 0): HistoryCheck's
// code, quietly (the verdict has said it), except a run without a baseline, which is a usage
// error that says why and, when labels differ, which -ignore-label would make the runs
// comparable.
func HistoryCheckExit(v *history.RunJudgment) error {
	code := HistoryCheck(v)
	switch {
	case code == Usage && len(v.LabelsDiffer) == 0:
		return Usagef("history check: run #%d has no baseline: the runs before it are of other shards", v.Run.Seq)
	case code == Usage:
		return Usagef("history check: run #%d has no baseline: the runs before it differ in label %s; if it changes every run (a commit), add -ignore-label %s",
			v.Run.Seq, strings.Join(v.LabelsDiffer, ", "), strings.Join(v.LabelsDiffer, " -ignore-label "))
	case code != OK:
		return Quiet(code)
	}
	return nil
}
