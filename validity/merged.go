package validity

import (
	"fmt"
	"math"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
)

// mergedLoad is one schedule of a merged run: its whole plan (every shard's arrivals), the
// merged series of the targets it fed, and their arrival counts.
type mergedLoad struct {
	label    string // "all shards" or "all shards TARGET"
	plan     loadgen.Plan
	series   report.Series
	arrivals report.Arrivals
	targets  []string
}

// mergedLoads returns the schedules of profile p with the merged series of m: the shared load
// (the targets without a load of their own) and each target's own.
func mergedLoads(p profiles.Profile, m *report.Result) ([]mergedLoad, error) {
	by := m.ByTarget()
	shared := mergedLoad{label: "all shards", plan: p.Load.Plan(0, 1)}
	var out []mergedLoad
	for _, t := range p.Targets {
		tm, ok := by[t.Name]
		if !ok {
			continue
		}
		if t.Load != nil {
			out = append(out, mergedLoad{label: "all shards " + t.Name, plan: t.Load.Plan(0, 1), series: tm.Series, arrivals: tm.Arrivals, targets: []string{t.Name}})
			continue
		}
		s, err := report.MergeSeries(shared.series, tm.Series)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		shared.series = s
		shared.arrivals = addArrivals(shared.arrivals, tm.Arrivals)
		shared.targets = append(shared.targets, t.Name)
	}
	if len(shared.targets) > 0 {
		out = append([]mergedLoad{shared}, out...)
	}
	return out, nil
}

func addArrivals(a, b report.Arrivals) report.Arrivals {
	return report.Arrivals{Planned: a.Planned + b.Planned, Started: a.Started + b.Started, Dropped: a.Dropped + b.Dropped,
		Late: a.Late + b.Late, NotStarted: a.NotStarted + b.NotStarted}
}

// mergedChecks are the checks that apply to the sum of the shards: load_delivered on the merged
// arrivals (every whole wall-clock second of the plan against the plan's own arrivals in it:
// shards that did not start together, or a shard that joined late, show as seconds off the
// plan) and stationary on each target's merged series.
func mergedChecks(p profiles.Profile, m *report.Result) ([]report.Check, error) {
	loads, err := mergedLoads(p, m)
	if err != nil {
		return nil, err
	}
	var cs []report.Check
	for _, l := range loads {
		cs = append(cs, mergedDelivered(l, m, p.Checks))
	}
	by := m.ByTarget()
	for _, l := range loads {
		for _, name := range l.targets {
			cs = append(cs, stationaryCheck(by[name].Series, l.plan, m.Start, "all shards "+name))
		}
	}
	for i := range cs {
		cs[i].Relaxed = p.Checks.Relaxed(cs[i].Name)
	}
	return cs, nil
}

// mergedDelivered is load_delivered of the merged run l: dropped / planned within the limit,
// and in every wall-clock second wholly inside the plan (after the first) the started arrivals
// within rate_error (at least 2) of the plan's.
func mergedDelivered(l mergedLoad, m *report.Result, lim profiles.CheckLimits) report.Check {
	c := report.Check{Name: "load_delivered", Target: l.label, OK: true, LimitValue: float64(lim.Dropped),
		Limit: fmt.Sprintf("dropped ≤ %s, each second within %s of the plan", lim.Dropped, lim.RateError)}
	a := l.arrivals
	if a.Planned == 0 {
		c.Measured, c.Message = "no arrival planned", "nothing to judge"
		return c
	}
	share := float64(a.Dropped) / float64(a.Planned)
	c.Value = share
	c.Measured = fmt.Sprintf("dropped %s (%d of %d), %d not started", fmtShare(share), a.Dropped, a.Planned, a.NotStarted)
	if m.End != report.EndCompleted {
		c.OK = share <= float64(lim.Dropped)
		c.Message = fmt.Sprintf("the run ended %s: its seconds are not judged against the plan", m.End)
		return c
	}
	off := offPlanSeconds(l, m.Start, float64(lim.RateError))
	c.Measured += fmt.Sprintf(", %d of %d s off the plan", len(off.bad), off.judged)
	if len(off.bad) > 0 {
		c.Measured += fmt.Sprintf(" (worst: %s, %d started of %d planned)", time.Unix(off.worstSec, 0).UTC().Format(time.TimeOnly), off.worst[0], off.worst[1])
	}
	c.OK = share <= float64(lim.Dropped) && len(off.bad) == 0
	switch {
	case c.OK:
		c.Message = "the shards together delivered the planned load"
	case a.NotStarted > 0:
		c.Message = "the shards did not send the whole plan together (a shard joined late or stopped early: see its not started arrivals); use one --start-at for every shard"
	default:
		c.Message = "the shards together did not deliver the planned load (see each shard's load_delivered); a shard short of CPU or a full pool"
	}
	return c
}

// offPlan is the result of offPlanSeconds.
type offPlan struct {
	judged   int
	bad      []int64 // the seconds (Unix) off the plan
	worst    [2]int64
	worstSec int64
}

// offPlanSeconds compares, second by wall-clock second, the arrivals l's series started (by
// intended start) with those its plan intends, from start.
func offPlanSeconds(l mergedLoad, start time.Time, rateError float64) offPlan {
	intended := map[int64]int64{}
	for _, at := range l.plan.Arrivals() {
		intended[start.Add(at).Unix()]++
	}
	started := map[int64]int64{}
	for _, pt := range l.series {
		started[pt.Unix] = pt.Arrivals
	}
	var r offPlan
	worstOff := 0.0
	for sec := start.Unix() + 1; sec < start.Add(l.plan.Duration()).Unix(); sec++ {
		r.judged++
		got, want := started[sec], intended[sec]
		d := math.Abs(float64(got - want))
		if d > max(rateError*float64(want), 2) {
			r.bad = append(r.bad, sec)
			if d > worstOff {
				worstOff, r.worst, r.worstSec = d, [2]int64{got, want}, sec
			}
		}
	}
	return r
}

// JudgeMerged evaluates the thresholds of the profile a merged result carries (its effective
// profile, as the shards ran it) on the merged metrics, and adds to the shards' checks those
// that apply to their sum: load_delivered on the merged arrivals, second by wall-clock second
// against the whole plan, and stationary on each target's merged series. source names the file
// the profile came from, for errors.
func JudgeMerged(m *report.Result, source string) error {
	if m.Effective == "" {
		return nil
	}
	p, err := profiles.ParseEffective(source, []byte(m.Effective))
	if err != nil {
		return err
	}
	m.Thresholds = report.EvalThresholds(scoped(p), m.Overall, m.ByTarget())
	cs, err := mergedChecks(p, m)
	if err != nil {
		return fmt.Errorf("merged checks of %s: %w", source, err)
	}
	m.Checks = append(m.Checks, cs...)
	return nil
}

// scoped returns the profile's thresholds with their scopes, ready to evaluate (as a run
// evaluates them: engine.Thresholds).
func scoped(p profiles.Profile) []report.ScopedThreshold {
	out := make([]report.ScopedThreshold, len(p.Thresholds))
	for i, th := range p.Thresholds {
		out[i] = report.ScopedThreshold{Threshold: th.Parsed, Target: th.Target}
	}
	return out
}
