package profiles

import (
	"time"

	"github.com/lpbench/lpbench/loadgen"
)

// Plan returns l's arrival schedule for shard k of n (n ≤ 1: every arrival). The schedule's
// maths — rates, durations, counts, integrals — is the plan's: ask it, not the stages.
func (l Load) Plan(k, n int) loadgen.Plan {
	plan := loadgen.Plan{Poisson: l.Arrivals == ArrivalsPoisson, Seed: l.Seed, Shard: k, Shards: n}
	for _, s := range l.Stages {
		plan.Stages = append(plan.Stages, loadgen.Stage{Duration: s.Duration, From: s.Rate.From, To: s.Rate.To})
	}
	return plan
}

// Loads returns every schedule of the profile: its load when a target shares it (first), then
// the load of each target that has its own.
func (p Profile) Loads() []Load {
	var out []Load
	for _, t := range p.Targets {
		if t.Load == nil {
			out = append(out, p.Load)
			break
		}
	}
	for _, t := range p.Targets {
		if t.Load != nil {
			out = append(out, *t.Load)
		}
	}
	return out
}

// PeakRate returns the highest total arrival rate the profile asks for (an upper bound when
// targets have schedules of their own, whose peaks may not coincide).
func (p Profile) PeakRate() float64 {
	var r float64
	for _, l := range p.Loads() {
		r += l.Plan(0, 1).PeakRate()
	}
	return r
}

// Duration returns the length of the longest schedule.
func (p Profile) Duration() time.Duration {
	var d time.Duration
	for _, l := range p.Loads() {
		d = max(d, l.Plan(0, 1).Duration())
	}
	return d
}

// ExpectedArrivals returns the journeys the profile's schedules ask for in all.
func (p Profile) ExpectedArrivals() float64 {
	var n float64
	for _, l := range p.Loads() {
		n += l.Plan(0, 1).Expected()
	}
	return n
}
