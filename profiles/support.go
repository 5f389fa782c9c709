package profiles

import (
	"fmt"
	"math"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/report"
)

// PlannedJourneys returns the journeys the profile plans for each target (by name) in shard k
// of n (n ≤ 1: the whole run): its own schedule's arrivals, or its share of the profile's load
// as the weights deal it. It is the most samples any of the target's histograms can hold.
func (p Profile) PlannedJourneys(k, n int) map[string]int64 {
	out := map[string]int64{}
	var shared []int
	var weights []int
	for i, t := range p.Targets {
		if t.Load != nil {
			out[t.Name] = t.Load.Plan(k, n).Count()
			continue
		}
		shared = append(shared, i)
		weights = append(weights, t.Weight)
	}
	if len(shared) == 0 {
		return out
	}
	lane := loadgen.Weighted(weights)
	if len(shared) == 1 {
		lane = func(int64) int { return 0 }
	}
	for l, c := range p.Load.Plan(k, n).LaneCounts(lane, len(shared)) {
		out[p.Targets[shared[l]].Name] = c
	}
	return out
}

// SupportWarning is a thresholded percentile whose target the plan gives fewer journeys than
// percentile_support asks (Short), or barely as many: a few journeys lost on the way and the
// check fails.
type SupportWarning struct {
	Index   int    // the threshold's index in thresholds
	Target  string // the threshold's target; empty for the whole run
	Metric  string // e.g. step.create.p95
	Planned int64  // journeys planned for the target (the whole run's for no target)
	Needs   int64  // samples percentile_support needs (report.SupportNeeded)
	Short   bool   // Planned < Needs: the check fails whatever the target does
}

// supportMargin: a plan within this factor of what a percentile needs is warned about too.
const supportMargin = 1.1

// String says what the plan lacks and what to do, in one line.
func (w SupportWarning) String() string {
	who := "the run"
	if w.Target != "" {
		who = "target " + w.Target
	}
	if w.Needs == math.MaxInt64 {
		return fmt.Sprintf("thresholds[%d]: %s: %s: no value ever lies above the 100th percentile, so percentile_support fails; threshold the max instead",
			w.Index, who, w.Metric)
	}
	what := "percentile_support will fail: plan more journeys (a longer stage or a higher rate) or threshold a lower percentile"
	if !w.Short {
		what = "a few journeys lost and percentile_support fails: plan some more"
	}
	return fmt.Sprintf("thresholds[%d]: %s: %s needs %d samples (%d above the percentile), the plan gives it %d journeys; %s",
		w.Index, who, w.Metric, w.Needs, report.SupportAbove, w.Planned, what)
}

// SupportWarnings predicts percentile_support from the plan of shard k of n (n ≤ 1: the whole
// run): for every threshold on a percentile, the journeys planned for its target (each sample
// of a histogram is one journey's at most) against the samples the check needs. It returns one
// warning per threshold short of them or within 10 % of them.
func (p Profile) SupportWarnings(k, n int) []SupportWarning {
	planned := p.PlannedJourneys(k, n)
	var total int64
	for _, c := range planned {
		total += c
	}
	var out []SupportWarning
	for i, th := range p.Thresholds {
		pct, ok := report.ThresholdPercentile(th.Parsed)
		if !ok {
			continue
		}
		w := SupportWarning{Index: i, Target: th.Target, Metric: th.Parsed.Metric, Planned: total, Needs: report.SupportNeeded(pct)}
		if th.Target != "" {
			w.Planned = planned[th.Target]
		}
		w.Short = w.Planned < w.Needs
		if w.Short || float64(w.Planned) < supportMargin*float64(w.Needs) {
			out = append(out, w)
		}
	}
	return out
}
