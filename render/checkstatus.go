package render

import "github.com/lpbench/lpbench/report"

// checkState is a measurement check's outcome: it held or failed, relaxed or not (a relaxed
// check that failed does not invalidate the run).
type checkState int

const (
	checkHolds checkState = iota
	checkHoldsRelaxed
	checkFailed
	checkFailedRelaxed
)

func stateOf(c report.Check) checkState {
	switch {
	case c.Failed():
		return checkFailed
	case !c.OK:
		return checkFailedRelaxed
	case c.Relaxed:
		return checkHoldsRelaxed
	}
	return checkHolds
}

// checkWords is the one place a check's status is worded, for each rendering that words it:
// the page's result cell, the markdown's, history show's, the summary's line prefix (the
// summary has no line for a check that holds) and JUnit's suffix of a relaxed check.
var checkWords = struct {
	html, markdown, history, summary [4]string
	junitRelaxed                     string
}{
	html:         [4]string{checkHolds: "ok", checkHoldsRelaxed: "ok (relaxed)", checkFailed: "FAILED", checkFailedRelaxed: "FAILED (relaxed)"},
	markdown:     [4]string{checkHolds: "✅ holds", checkHoldsRelaxed: "✅ holds", checkFailed: "❌ FAIL", checkFailedRelaxed: "⚠️ failed, relaxed"},
	history:      [4]string{checkHolds: "ok", checkHoldsRelaxed: "ok", checkFailed: "FAILED", checkFailedRelaxed: "FAILED, relaxed (the run stays valid: judged and a baseline)"},
	summary:      [4]string{checkFailed: "measurement NOT VALID", checkFailedRelaxed: "measurement, relaxed (does not invalidate the run)"},
	junitRelaxed: " (relaxed)",
}
