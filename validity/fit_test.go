package validity

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/loadgen"
)

var errNoFile = errors.New("no such file")

// TestArrivalsCheck: the fit of dispatch times to the plan passes for a correct process and fails
// for a skewed one.
func TestArrivalsCheck(t *testing.T) {
	t.Parallel()
	poisson := func(rate float64, d time.Duration, shards, shard int) loadgen.Plan {
		p := loadgen.Constant(rate, d)
		p.Poisson, p.Seed, p.Shards, p.Shard = true, 3, shards, shard
		return p
	}
	jitter := rand.New(rand.NewPCG(4, 5))
	for _, tc := range []struct {
		name string
		rf   Runner
		ok   bool
		want string // in Measured
	}{
		// Poisson arrivals dispatched at their times, with a timer's jitter of up to 0.5 ms.
		{"poisson", fitOf(poisson(20, 150*time.Second, 1, 0), func(int64, time.Duration) time.Duration {
			return time.Duration(jitter.Int64N(int64(500 * time.Microsecond)))
		}, never), true, "KS distance"},
		// One shard of four sees Gamma(4, 1) gaps, and they fit.
		{"sharded poisson", fitOf(poisson(80, 150*time.Second, 4, 1), onTime, never), true, "Gamma(4, 1)"},
		// Uniform times passed off as Poisson: every rescaled gap is 1.
		{"uniform as poisson", func() Runner {
			rf := fitOf(loadgen.Constant(20, 100*time.Second), onTime, never)
			f := newFit(poisson(20, 100*time.Second, 1, 0))
			for k, at := range loadgen.Constant(20, 100*time.Second).Arrivals() {
				f.dispatch(loadgen.Arrival{Index: k, Intended: at}, at)
			}
			rf.Plan, rf.Fit = f.plan, f
			return rf
		}(), false, "KS distance"},
		// A Poisson process 30 % faster than the plan.
		{"rate 30% off", func() Runner {
			fast := poisson(26, 150*time.Second, 1, 0)
			f := newFit(poisson(20, 150*time.Second, 1, 0))
			for k, at := range fast.Arrivals() {
				f.dispatch(loadgen.Arrival{Index: k, Intended: at}, at)
			}
			return Runner{Plan: f.plan, Fit: f}
		}(), false, "KS distance"},
		// Bursts: the dispatcher wakes every 200 ms and sends what is due back to back.
		{"bursts", fitOf(poisson(20, 150*time.Second, 1, 0), func(_ int64, at time.Duration) time.Duration {
			const tick = 200 * time.Millisecond
			return (at+tick-1)/tick*tick - at
		}, never), false, "KS distance"},
		// Uniform arrivals on time; 599 gaps, judged by the 10th-largest error.
		{"uniform", fitOf(loadgen.Constant(20, 30*time.Second), onTime, never), true, "spacing error p98.5 0s"},
		// Uniform arrivals at 50/s, every other one 15 ms late: three quarters of the 20 ms gap,
		// more than the generator may be late (10 ms).
		{"uniform jittered", fitOf(loadgen.Constant(50, 30*time.Second), func(i int64, _ time.Duration) time.Duration { return time.Duration(i%2) * 15 * time.Millisecond }, never), false, "spacing error p99 15ms"},
		// The same 5 ms late at 100/s: within the lag limit, uniform enough.
		{"uniform within lag", fitOf(loadgen.Constant(100, 30*time.Second), func(i int64, _ time.Duration) time.Duration { return time.Duration(i%2) * 5 * time.Millisecond }, never), true, "spacing error p99 5ms"},
		// A short uniform run with one arrival 20 ms late (a GC pause) is still uniform.
		{"uniform hiccup", fitOf(loadgen.Constant(20, 5*time.Second), func(i int64, _ time.Duration) time.Duration {
			if i == 50 {
				return 20 * time.Millisecond
			}
			return 0
		}, never), true, "spacing error p"},
		// At 1000/s the gaps are within the timer's resolution: not judged.
		{"too fast", fitOf(poisson(1000, 2*time.Second, 1, 0), onTime, never), true, "not judged"},
		// Too few arrivals.
		{"few", fitOf(poisson(20, 2*time.Second, 1, 0), onTime, never), true, "not judged"},
	} {
		c := arrivalsCheck(tc.rf, 10*time.Millisecond)
		if got, want := c.OK, tc.ok; got != want {
			t.Errorf("%s: OK = %v, want %v (%s; limit %s)", tc.name, got, want, c.Measured, c.Limit)
		}
		if !strings.Contains(c.Measured, tc.want) {
			t.Errorf("%s: measured %q lacks %q", tc.name, c.Measured, tc.want)
		}
	}
}
