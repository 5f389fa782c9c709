package validity

import (
	"fmt"
	"slices"
	"time"

	"github.com/lpbench/lpbench/report"
)

// A capacity step is one constant-rate stage, often shorter than the stationary check can judge
// (its warm-up and its ten seconds). StepGrowth judges such a step on fewer seconds, on the gap
// p50 and p99 (CONVERSATION's answer and SEND's first byte are in the gap; the generator's lag is
// not, while it is in the journey's time, which is taken from the intended start; the p50, little
// noisy, shows a queue every request waits in before the p99's noise lets it pass), with a
// stricter rule for a rise: the Theil–Sen slope must add more than the stationary check allows
// (stationaryRelative of the median and stationaryFloor), and at least three quarters of the
// pairwise slopes must rise (their lower quartile is above 0), a distribution-free bound that
// noise on a few seconds does not pass. A queue that grows from the step's start rises on every
// pair, and its rise over n seconds judged after a warm-up of w is n/(w+n/2) of its median,
// above one half for any n ≥ 2 w / 3: the rule catches it on a short step.
const (
	stepWarmUp     = 1 // seconds of a step not judged (connections, first journeys)
	stepMinSeconds = 5 // whole seconds with journeys ending needed after the warm-up
)

// ShortestStep is the shortest step StepGrowth can judge whatever the step's start within its
// second: its warm-up, then stepMinSeconds whole seconds.
const ShortestStep = (stepWarmUp + stepMinSeconds + 1) * time.Second

// StepNeeds says why a step needs ShortestStep, for a person.
var StepNeeds = fmt.Sprintf("a %d-s warm-up, then %d whole seconds for the trend", stepWarmUp, stepMinSeconds)

// Growth is StepGrowth's verdict on a step.
type Growth struct {
	// Judged is false when too few seconds had journeys ending after the warm-up: a step that
	// cannot be judged is not a pass.
	Judged bool
	// Grows: the gap p50 or p99 rose through the step, a queue that only grows.
	Grows bool
	// Slope is the worst trend's Theil–Sen slope (seconds per second); Line says what was
	// measured in one line.
	Slope float64
	Line  string
	// Seconds is how many whole seconds had journeys ending after the warm-up; Needed how many
	// a verdict needs.
	Seconds, Needed int
}

// StepGrowth judges whether the per-second gap p50 or p99 of series rose through the constant-rate step
// that began at start and lasted d.
func StepGrowth(series report.Series, start time.Time, d time.Duration) Growth {
	var pts []report.Point
	first, end := start.Add(stepWarmUp*time.Second), start.Add(d)
	for _, p := range series {
		sec := time.Unix(p.Unix, 0)
		if !sec.Before(first) && !sec.Add(time.Second).After(end) && p.Completions > 0 {
			pts = append(pts, p)
		}
	}
	var worst *trend
	var worstGrows bool
	for _, m := range []struct {
		name string
		get  func(report.Point) time.Duration
	}{{"gap p50", func(p report.Point) time.Duration { return p.GapP50 }}, {"gap p99", func(p report.Point) time.Duration { return p.GapP99 }}} {
		tr, lowQ, ok := shortTrend(pts, m.get)
		if !ok {
			continue
		}
		tr.metric = m.name
		grows := tr.grows() && lowQ > 0
		if worst == nil || (grows && !worstGrows) || (grows == worstGrows && tr.slope > worst.slope) {
			worst, worstGrows = &tr, grows
		}
	}
	if worst == nil {
		return Growth{Seconds: len(pts), Needed: stepMinSeconds,
			Line: fmt.Sprintf("not judged: %d whole seconds with journeys ending after a %d s warm-up, needs %d (a step that cannot be judged is not a pass)",
				len(pts), stepWarmUp, stepMinSeconds)}
	}
	g := Growth{Judged: true, Grows: worstGrows, Slope: time.Duration(worst.slope).Seconds(), Seconds: len(pts), Needed: stepMinSeconds}
	g.Line = fmt.Sprintf("%s grew %s/s over the step's %d judged seconds: %s in all, median %s", worst.metric, fmtMS(worst.slope),
		len(pts), fmtMS(worst.growth), fmtMS(worst.median))
	if g.Grows {
		g.Line += "; a queue that only grows (the target's limit)"
	}
	return g
}

// shortTrend returns the Theil–Sen trend of get over the points that have a value, and the lower
// quartile of the pairwise slopes; ok is false with fewer than stepMinSeconds values.
func shortTrend(pts []report.Point, get func(report.Point) time.Duration) (tr trend, lowQ float64, ok bool) {
	var xs, ys []float64
	for _, p := range pts {
		if v := get(p); v > 0 {
			xs, ys = append(xs, float64(p.Unix)), append(ys, float64(v))
		}
	}
	if len(xs) < stepMinSeconds {
		return trend{}, 0, false
	}
	slopes := pairSlopes(xs, ys)
	slices.Sort(slopes)
	slope := median(slopes)
	tr = trend{slope: time.Duration(slope), growth: time.Duration(slope * (xs[len(xs)-1] - xs[0])), median: time.Duration(median(ys))}
	return tr, slopes[len(slopes)/4], true
}
