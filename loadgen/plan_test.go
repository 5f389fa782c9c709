package loadgen

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// ramp is a one-stage shorthand for tables.
func ramp(from, to float64, d time.Duration) Stage { return Stage{Duration: d, From: from, To: to} }

// plan is a shorthand for tables.
func plan(stages ...Stage) Plan { return Plan{Stages: stages} }

// integral returns the integral of p's rate from 0 to t, computed stage by stage from the
// definition (trapezoid of a linear rate), independently of the code under test.
func integral(p Plan, t time.Duration) float64 {
	var sum float64
	var start time.Duration
	for _, s := range p.Stages {
		if t <= start {
			break
		}
		u := min(t-start, s.Duration).Seconds()
		d := s.Duration.Seconds()
		sum += s.From*u + (s.To-s.From)*u*u/(2*d)
		start += s.Duration
	}
	return sum
}

// planCases are plans on which every property of Arrivals is checked.
var planCases = []struct {
	name string
	plan Plan
}{
	// The simplest schedule: one arrival every 100 ms.
	{"constant 10/s 3s", Constant(10, 3*time.Second)},
	// Fewer than one arrival per second: windows hold 0 or 1.
	{"constant 0.5/s 4s", Constant(0.5, 4*time.Second)},
	// A rate whose period is not a whole number of nanoseconds.
	{"constant 3/s 2s", Constant(3, 2*time.Second)},
	// A high rate: many arrivals per window, rounding to nanoseconds matters.
	{"constant 20000/s 2s", Constant(20000, 2*time.Second)},
	// Ramp up from nothing.
	{"ramp 0->50 3s", plan(ramp(0, 50, 3*time.Second))},
	// Ramp down that does not reach 0.
	{"ramp 40->5 3s", plan(ramp(40, 5, 3*time.Second))},
	// Ramp up over a duration that is not a whole number of seconds.
	{"ramp 5->40 2.5s", plan(ramp(5, 40, 2500*time.Millisecond))},
	// Ramp down to exactly 0: the square root's argument goes to 0 at the end.
	{"ramp 30->0 2s", plan(ramp(30, 0, 2*time.Second))},
	// A pause between two stages: no arrivals inside it.
	{"constant, pause, ramp", plan(ramp(10, 10, time.Second), ramp(0, 0, 2*time.Second), ramp(10, 30, 2*time.Second))},
	// Stages whose integrals are not whole numbers: the next stage owes the fraction.
	{"fractional stage boundaries", plan(ramp(7, 7, 1500*time.Millisecond), ramp(3, 3, 700*time.Millisecond), ramp(2, 9, 1300*time.Millisecond))},
	// A step up and a ramp down in one plan.
	{"step and ramp down", plan(ramp(5, 5, time.Second), ramp(50, 50, time.Second), ramp(50, 10, 2*time.Second))},
	// The usual capacity test: ramp from 0, hold, ramp to 0.
	{"ramp 0->50, hold, ramp 50->0", plan(ramp(0, 50, 2*time.Second), ramp(50, 50, time.Second), ramp(50, 0, 2*time.Second))},
	// A ramp from 0 after a stage that ends on a whole arrival: same bug mid-plan.
	{"constant then ramp from 0", plan(ramp(10, 10, time.Second), ramp(0, 50, 2*time.Second))},
	// Only a pause: no arrivals at all.
	{"pause only", plan(ramp(0, 0, 2*time.Second))},
}

func TestPlanCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		plan Plan
		want int64
	}{
		// 10/s for 3 s.
		{"constant", Constant(10, 3*time.Second), 30},
		// 1.5 arrivals owed: k = 0 and k = 1 are below 1.5.
		{"constant fractional", Constant(0.5, 3*time.Second), 2},
		// 0.1·30 is 3.0000000000000004 in floating point: still 3.
		{"float noise", Constant(0.1, 30*time.Second), 3},
		// Area of the triangle 0→50 over 2 s.
		{"ramp up from 0", plan(ramp(0, 50, 2*time.Second)), 50},
		// (40+5)/2·3 = 67.5.
		{"ramp down", plan(ramp(40, 5, 3*time.Second)), 68},
		// A zero-rate stage owes nothing.
		{"pause", plan(ramp(0, 0, 5*time.Second)), 0},
		// 10 + 0 + 40.
		{"multi-stage with pause", plan(ramp(10, 10, time.Second), ramp(0, 0, 2*time.Second), ramp(10, 30, 2*time.Second)), 50},
		// Fractions add up across stages: 1.5 + 1.5 = 3, not 2 + 2.
		{"fractions across stages", plan(ramp(1.5, 1.5, time.Second), ramp(1.5, 1.5, time.Second)), 3},
		// A plan with no stages has no arrivals.
		{"empty", Plan{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, want := tt.plan.Count(), tt.want; got != want {
				t.Errorf("Count() = %d, want %d", got, want)
			}
		})
	}
}

func TestPlanArrivals(t *testing.T) {
	t.Parallel()
	for _, tc := range planCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.plan
			var times []time.Duration
			for k, at := range p.Arrivals() {
				if got, want := k, int64(len(times)); got != want {
					t.Fatalf("arrival #%d has index %d", want, got)
				}
				times = append(times, at)
			}
			if got, want := int64(len(times)), p.Count(); got != want {
				t.Fatalf("Arrivals yielded %d arrivals, Count() = %d", got, want)
			}
			tol := 2*p.PeakRate()*1e-9 + 1e-9
			for k, at := range times {
				if at < 0 || at >= p.Duration() {
					t.Fatalf("arrival %d at %v, outside [0, %v)", k, at, p.Duration())
				}
				if k > 0 && at < times[k-1] {
					t.Fatalf("arrival %d at %v is before arrival %d at %v", k, at, k-1, times[k-1])
				}
				// Arrival k is where the rate's integral reaches k; the time is truncated to a
				// nanosecond, which moves the integral by at most rate·1 ns.
				if got, want := integral(p, at), float64(k); math.Abs(got-want) > tol {
					t.Fatalf("integral of the rate up to arrival %d (at %v) = %.9f, want %d", k, at, got, k)
				}
			}
			// Every 1-second window holds the rate's integral over it, to within one arrival.
			for lo := time.Duration(0); lo < p.Duration(); lo += time.Second {
				hi := min(lo+time.Second, p.Duration())
				var n int
				for _, at := range times {
					if at >= lo && at < hi {
						n++
					}
				}
				want := integral(p, hi) - integral(p, lo)
				if math.Abs(float64(n)-want) > 1+1e-9 {
					t.Errorf("window [%v, %v): %d arrivals, integral of the rate %.3f", lo, hi, n, want)
				}
			}
		})
	}
}

// TestPlanArrivalsRampFromZero pins the first arrival of a ramp from 0 to the ramp's start.
func TestPlanArrivalsRampFromZero(t *testing.T) {
	t.Parallel()
	for k, at := range plan(ramp(0, 50, 2*time.Second)).Arrivals() {
		if got, want := at, time.Duration(0); k == 0 && got != want {
			t.Errorf("arrival 0 at %v, want %v", got, want)
		}
	}
}

func TestPlanArrivalsStopsEarly(t *testing.T) {
	t.Parallel()
	var n int
	for k := range Constant(100, time.Minute).Arrivals() {
		n++
		if k == 4 {
			break
		}
	}
	if got, want := n, 5; got != want {
		t.Errorf("loop ran %d times after break at index 4, want %d", got, want)
	}
}

func TestPlanValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		plan Plan
		want string // substring of the error; empty: valid
	}{
		// A plain constant plan.
		{"constant", Constant(10, time.Second), ""},
		// A pause (rate 0) is a valid stage.
		{"pause", plan(ramp(0, 0, time.Second)), ""},
		// Ramps both ways.
		{"ramps", plan(ramp(0, 50, time.Second), ramp(50, 0, time.Second)), ""},
		// Nothing to run.
		{"no stages", Plan{}, "no stages"},
		// A stage of zero length.
		{"zero duration", plan(ramp(1, 1, 0)), "stage 0: duration"},
		// A stage of negative length, not the first.
		{"negative duration", plan(ramp(1, 1, time.Second), ramp(1, 1, -time.Second)), "stage 1: duration"},
		// Negative start rate.
		{"negative from", plan(ramp(-1, 1, time.Second)), "stage 0: rate"},
		// Negative end rate.
		{"negative to", plan(ramp(1, -1, time.Second)), "stage 0: rate"},
		// NaN start rate.
		{"NaN from", plan(ramp(math.NaN(), 1, time.Second)), "stage 0: rate"},
		// NaN end rate.
		{"NaN to", plan(ramp(1, math.NaN(), time.Second)), "stage 0: rate"},
		// Infinite start rate.
		{"+Inf from", plan(ramp(math.Inf(1), 1, time.Second)), "stage 0: rate"},
		// Infinite end rate, in the third stage.
		{"+Inf to", plan(ramp(1, 1, time.Second), ramp(1, 1, time.Second), ramp(1, math.Inf(1), time.Second)), "stage 2: rate"},
		// Negative infinity.
		{"-Inf", plan(ramp(math.Inf(-1), 1, time.Second)), "stage 0: rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.plan.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate() = nil, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPlanPeakRateAndDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		plan     Plan
		peak     float64
		duration time.Duration
	}{
		// One constant stage.
		{"constant", Constant(25, 3*time.Second), 25, 3 * time.Second},
		// The peak is a ramp's end, in the middle of the plan.
		{"ramp up then down", plan(ramp(0, 80, time.Second), ramp(60, 10, 2*time.Second)), 80, 3 * time.Second},
		// The peak is a ramp's start.
		{"ramp down", plan(ramp(40, 5, 3*time.Second)), 40, 3 * time.Second},
		// Pauses only.
		{"pause", plan(ramp(0, 0, time.Second)), 0, time.Second},
		// Nothing.
		{"empty", Plan{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, want := tt.plan.PeakRate(), tt.peak; got != want {
				t.Errorf("PeakRate() = %g, want %g", got, want)
			}
			if got, want := tt.plan.Duration(), tt.duration; got != want {
				t.Errorf("Duration() = %v, want %v", got, want)
			}
		})
	}
}

func BenchmarkPlanArrivals(b *testing.B) {
	p := plan(ramp(10, 1000, 30*time.Second), ramp(1000, 1000, 30*time.Second), ramp(1000, 10, 30*time.Second))
	n := p.Count()
	b.ReportAllocs()
	for b.Loop() {
		var last time.Duration
		for _, at := range p.Arrivals() {
			last = at
		}
		if last <= 0 {
			b.Fatal("no arrivals")
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "arrivals/s")
}

// TestPoissonPlan: Poisson arrivals have the rate's mean count, exponential gaps (coefficient of
// variation near 1, where uniform arrivals have 0), follow a ramp, and repeat with their seed.
func TestPoissonPlan(t *testing.T) {
	t.Parallel()
	p := Plan{Stages: []Stage{{Duration: 100 * time.Second, From: 100, To: 100}}, Poisson: true, Seed: 7}
	var times []time.Duration
	for _, at := range p.Arrivals() {
		times = append(times, at)
	}
	// 10,000 expected; the standard deviation of a Poisson count is 100.
	if n := len(times); n < 9700 || n > 10300 {
		t.Errorf("%d arrivals, want 10000 ± 300", n)
	}
	if got, want := p.Count(), int64(len(times)); got != want {
		t.Errorf("Count() = %d, Arrivals yielded %d", got, want)
	}
	var sum, sumSq float64
	for i := 1; i < len(times); i++ {
		g := (times[i] - times[i-1]).Seconds()
		sum += g
		sumSq += g * g
	}
	n := float64(len(times) - 1)
	mean := sum / n
	cv := math.Sqrt(sumSq/n-mean*mean) / mean
	if math.Abs(mean-0.01) > 0.0005 || cv < 0.95 || cv > 1.05 {
		t.Errorf("gaps: mean %.5fs (want 0.01), cv %.3f (want 1)", mean, cv)
	}
	// Same seed, same schedule; another seed, another.
	again := slices.Collect(func(yield func(time.Duration) bool) {
		for _, at := range p.Arrivals() {
			if !yield(at) {
				return
			}
		}
	})
	if !slices.Equal(times, again) {
		t.Error("the same seed gave another schedule")
	}
	p.Seed = 8
	var moved bool
	i := 0
	for _, at := range p.Arrivals() {
		if i >= len(times) || at != times[i] {
			moved = true
			break
		}
		i++
	}
	if !moved {
		t.Error("another seed gave the same schedule")
	}
	// A ramp 0 -> 200 over 10 s: the second half holds about three quarters of the arrivals.
	r := Plan{Stages: []Stage{{Duration: 10 * time.Second, From: 0, To: 200}}, Poisson: true, Seed: 3}
	var first, second int
	for _, at := range r.Arrivals() {
		if at < 5*time.Second {
			first++
		} else {
			second++
		}
	}
	if share := float64(second) / float64(first+second); share < 0.72 || share > 0.78 {
		t.Errorf("second half holds %.3f of a ramp's arrivals, want 0.75", share)
	}
}

// TestShardsPartitionThePlan: N shards together yield exactly the whole plan's arrivals, at the
// whole plan's times.
func TestShardsPartitionThePlan(t *testing.T) {
	t.Parallel()
	for _, poisson := range []bool{false, true} {
		whole := Plan{Stages: []Stage{{Duration: 3 * time.Second, From: 10, To: 90}}, Poisson: poisson, Seed: 5}
		want := map[int64]time.Duration{}
		for k, at := range whole.Arrivals() {
			want[k] = at
		}
		got := map[int64]time.Duration{}
		var sum int64
		for s := range 4 {
			shard := whole
			shard.Shard, shard.Shards = s, 4
			sum += shard.Count()
			for k, at := range shard.Arrivals() {
				if k%4 != int64(s) {
					t.Errorf("shard %d yielded arrival %d", s, k)
				}
				if _, dup := got[k]; dup {
					t.Errorf("arrival %d in two shards", k)
				}
				got[k] = at
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("poisson=%v: the shards' union differs from the whole plan (%d vs %d arrivals)", poisson, len(got), len(want))
		}
		if sum != int64(len(want)) {
			t.Errorf("poisson=%v: shard counts sum to %d, want %d", poisson, sum, len(want))
		}
	}
}

func TestWeighted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		weights []int
	}{
		// Three to one.
		{"3:1", []int{3, 1}},
		// A zero weight gets nothing.
		{"zero", []int{2, 0, 1}},
		// One lane.
		{"single", []int{5}},
		// Even split.
		{"even", []int{1, 1, 1}},
	} {
		pick := Weighted(tc.weights)
		total := 0
		for _, w := range tc.weights {
			total += w
		}
		counts := make([]int, len(tc.weights))
		const n = 1200
		for k := range int64(n) {
			counts[pick(k)]++
		}
		for i, w := range tc.weights {
			if want := n * w / total; counts[i] != want {
				t.Errorf("%s: lane %d got %d of %d, want %d", tc.name, i, counts[i], n, want)
			}
		}
	}
	// Smoothness: with 1:1 the lanes alternate.
	pick := Weighted([]int{1, 1})
	for k := range int64(10) {
		if pick(k) == pick(k+1) {
			t.Fatalf("1:1 weights gave lane %d twice in a row at %d", pick(k), k)
		}
	}
}
