// Package loadgen releases arrivals at their intended times into a bounded pool of workers and
// measures how late it was. It knows nothing of what the workers do.
//
// The schedule is open-model: arrival times come from the Plan alone, never from how fast earlier
// work finished, so a slow server cannot slow the arrivals down and hide its own slowness.
package loadgen

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"time"
)

// Stage is a span of the schedule whose arrival rate (per second) changes linearly from From to To
// over Duration; From == To is a constant rate.
type Stage struct {
	Duration time.Duration
	From, To float64
}

// Plan is the arrival schedule of a run: stages one after another.
//
// Uniform arrivals: arrival k (from 0) is intended at the time t where the integral of the rate
// from 0 to t equals k, so arrivals are spread evenly along the rate curve and the count in any
// interval differs from the rate's integral over it by less than one.
//
// Poisson arrivals: the same mapping applied to the points of a unit-rate Poisson process (sums
// of exponential variates), which gives a Poisson process whose intensity follows the stages. A
// fixed Seed makes the schedule repeat exactly.
//
// Sharding: with Shards = N > 1, the plan yields only the arrivals k with k mod N = Shard, at
// the whole plan's times, so N shards together produce exactly the whole plan.
type Plan struct {
	Stages  []Stage
	Poisson bool
	Seed    int64
	Shard   int // 0 ≤ Shard < Shards
	Shards  int // 0 or 1: not sharded
}

// Constant returns a plan of rate arrivals per second for d.
func Constant(rate float64, d time.Duration) Plan {
	return Plan{Stages: []Stage{{Duration: d, From: rate, To: rate}}}
}

// Validate reports the first impossible stage.
func (p Plan) Validate() error {
	if len(p.Stages) == 0 {
		return errors.New("plan has no stages")
	}
	if p.Shards > 1 && (p.Shard < 0 || p.Shard >= p.Shards) {
		return fmt.Errorf("shard %d of %d: want 0 ≤ shard < shards", p.Shard, p.Shards)
	}
	for i, s := range p.Stages {
		switch {
		case s.Duration <= 0:
			return fmt.Errorf("stage %d: duration must be > 0, got %v", i, s.Duration)
		case s.From < 0 || s.To < 0 || math.IsNaN(s.From) || math.IsNaN(s.To) || math.IsInf(s.From, 0) || math.IsInf(s.To, 0):
			return fmt.Errorf("stage %d: rate must be a finite number ≥ 0, got %g -> %g", i, s.From, s.To)
		}
	}
	return nil
}

// Duration returns the plan's total length.
func (p Plan) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.Stages {
		d += s.Duration
	}
	return d
}

// expected returns the integral of the stage's rate over its whole duration.
func (s Stage) expected() float64 {
	return (s.From + s.To) / 2 * s.Duration.Seconds()
}

// Expected returns the integral of the rate over the whole plan: the arrivals it asks for, before
// sharding.
func (p Plan) Expected() float64 {
	var n float64
	for _, s := range p.Stages {
		n += s.expected()
	}
	return n
}

// Between returns the integral of the rate between two offsets from the plan's start: the
// arrivals it asks for then, before sharding (for a whole second, its rate).
func (p Plan) Between(from, to time.Duration) float64 {
	var n float64
	var start time.Duration
	for _, s := range p.Stages {
		end := start + s.Duration
		if lo, hi := max(from, start), min(to, end); hi > lo {
			rate := func(t time.Duration) float64 {
				return s.From + (s.To-s.From)*float64(t-start)/float64(s.Duration)
			}
			n += (rate(lo) + rate(hi)) / 2 * (hi - lo).Seconds()
		}
		start = end
	}
	return n
}

// Count returns the number of arrivals the plan yields. For an unsharded uniform plan it is the
// number of integers k ≥ 0 below the integral of the rate over the whole plan; otherwise the
// schedule is walked once.
func (p Plan) Count() int64 {
	if !p.Poisson && p.Shards <= 1 {
		return int64(math.Ceil(p.Expected() - 1e-9))
	}
	var n int64
	for range p.Arrivals() {
		n++
	}
	return n
}

// PeakRate returns the highest rate of the plan.
func (p Plan) PeakRate() float64 {
	var r float64
	for _, s := range p.Stages {
		r = max(r, s.From, s.To)
	}
	return r
}

// Arrivals yields every arrival's index and intended time (offset from the run's start), in order.
func (p Plan) Arrivals() iter.Seq2[int64, time.Duration] {
	return func(yield func(int64, time.Duration) bool) {
		// points yields the positions on the rate's integral where arrivals fall.
		var rng *rand.Rand
		if p.Poisson {
			seed := uint64(p.Seed)
			if seed == 0 {
				seed = 1
			}
			rng = rand.New(rand.NewPCG(seed, 0x6c7062656e6368))
		}
		var k int64
		x := 0.0 // the next arrival's position on the integral
		if rng != nil {
			x = rng.ExpFloat64()
		}
		var before float64 // the integral over the stages before this one
		var start time.Duration
		for _, s := range p.Stages {
			total := s.expected()
			for x < before+total-1e-9 {
				// Rounding can put the last arrival a few ns past the stage's end: keep it inside.
				at := min(start+s.timeOf(x-before), start+s.Duration-1)
				if p.Shards <= 1 || k%int64(p.Shards) == int64(p.Shard) {
					if !yield(k, at) {
						return
					}
				}
				k++
				if rng != nil {
					x += rng.ExpFloat64()
				} else {
					x = float64(k)
				}
			}
			before += total
			start += s.Duration
		}
	}
}

// timeOf returns the offset into the stage at which the rate's integral reaches x (0 ≤ x <
// expected). With r(t) = a + (b−a)·t/D the integral is a·t + (b−a)·t²/(2D); this solves it for t.
func (s Stage) timeOf(x float64) time.Duration {
	if x <= 0 {
		return 0 // also where the rate starts at 0, which the formula below would make 0/0
	}
	a, b, d := s.From, s.To, s.Duration.Seconds()
	var t float64
	if slope := (b - a) / d; math.Abs(slope) < 1e-12 {
		t = x / a
	} else {
		// slope/2·t² + a·t − x = 0; the root in [0, d]. Written as 2x / (a + √(a²+2·slope·x)) to
		// stay exact when slope is small or a is 0.
		t = 2 * x / (a + math.Sqrt(a*a+2*slope*x))
	}
	return time.Duration(t * float64(time.Second))
}

// Weighted returns a function that deals arrival k to one of len(weights) lanes in proportion to
// the (non-negative, not all zero) integer weights. It is a pure function of k, so shards agree
// on where each arrival goes: the lanes follow a fixed cycle of length sum(weights), built by
// smooth weighted round-robin so that each lane's arrivals are spread evenly over the cycle.
func Weighted(weights []int) func(k int64) int {
	total := 0
	for _, w := range weights {
		total += max(w, 0)
	}
	if total == 0 || len(weights) == 1 {
		return func(int64) int { return 0 }
	}
	cycle := make([]int, total)
	current := make([]int, len(weights))
	for i := range cycle {
		best := -1
		for l, w := range weights {
			current[l] += max(w, 0)
			if best < 0 || current[l] > current[best] {
				best = l
			}
		}
		current[best] -= total
		cycle[i] = best
	}
	return func(k int64) int { return cycle[k%int64(total)] }
}
