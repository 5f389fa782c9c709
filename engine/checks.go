package engine

import (
	"slices"
	"strings"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/validity"
)

// names joins target names for a check's Target.
func names(res *report.Result, idx []int) string {
	var ns []string
	for _, i := range idx {
		ns = append(ns, res.Targets[i].Name)
	}
	slices.Sort(ns)
	return strings.Join(ns, "+")
}

// runnerFits returns what the measurement checks (package validity) need of each runner of the group, once it has run.
func runnerFits(group loadgen.Group, fits []*validity.Fit, targets []*targetRun, res *report.Result) []validity.Runner {
	out := make([]validity.Runner, len(group))
	for i, r := range group {
		rf := validity.Runner{Plan: r.Plan, Counts: r.Counts(), Fit: fits[i], MaxInFlight: r.MaxInFlight}
		for ti, tr := range targets {
			if tr.runner == r {
				rf.Targets = append(rf.Targets, ti)
				rf.Asked = tr.askedInFlight
			}
		}
		if len(group) > 1 {
			rf.Name = names(res, rf.Targets)
		}
		out[i] = rf
	}
	return out
}
