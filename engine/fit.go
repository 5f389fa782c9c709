package engine

import (
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/loadgen"
)

// dispatchFit measures, in constant memory, how the dispatcher's actual times fit its plan. It
// is fed on the dispatcher's goroutine (loadgen.Runner.OnDispatch and OnDrop), and read once the
// runner is done.
//
// Poisson arrivals: mapped through the plan's integral Λ (the expected arrivals from 0 to t), a
// Poisson process of any intensity becomes one of unit rate, whose gaps are Exp(1); a shard that
// sees every N-th arrival sees gaps that are sums of N of them, Gamma(N, 1). The rescaled gaps
// of the actual times go into a histogram (in millionths), and ksDistance compares it with that
// distribution. Uniform arrivals: the histogram holds the spacing error |actual gap − intended
// gap| in nanoseconds. Per second of the run (by actual time) it also counts the arrivals
// dispatched and dropped, so that the load delivered can be compared with the plan's.
type dispatchFit struct {
	plan   loadgen.Plan
	shards int // arrivals of the plan per arrival this runner sees: Gamma's shape

	gaps         *hdrhistogram.Histogram
	n            int64 // arrivals seen
	prevAt       time.Duration
	prevIntended time.Duration
	prevLambda   float64

	dispatched, dropped []int64 // by whole second of the actual time, from the epoch
	lastAt              time.Duration
}

// gapScale is the histogram unit of rescaled (Poisson) gaps: a millionth of a mean gap.
const gapScale = 1e6

func newDispatchFit(plan loadgen.Plan) *dispatchFit {
	f := &dispatchFit{plan: plan, shards: max(plan.Shards, 1)}
	if plan.Poisson {
		f.gaps = hdrhistogram.New(1, int64(gapScale*1000), 3)
	} else {
		f.gaps = hdrhistogram.New(1, int64(time.Hour), 3)
	}
	return f
}

// dispatch records arrival a handled at actual offset at.
func (f *dispatchFit) dispatch(a loadgen.Arrival, at time.Duration) {
	sec := int(max(at, 0) / time.Second)
	for len(f.dispatched) <= sec {
		f.dispatched = append(f.dispatched, 0)
		f.dropped = append(f.dropped, 0)
	}
	f.dispatched[sec]++
	f.lastAt = at
	var lambda float64
	if f.plan.Poisson {
		lambda = f.plan.Between(0, at)
	}
	if f.n > 0 {
		if f.plan.Poisson {
			v := math.Round((lambda - f.prevLambda) * gapScale)
			_ = f.gaps.RecordValue(min(max(int64(v), 0), f.gaps.HighestTrackableValue()))
		} else {
			err := (at - f.prevAt) - (a.Intended - f.prevIntended)
			_ = f.gaps.RecordValue(min(max(int64(err.Abs()), 0), f.gaps.HighestTrackableValue()))
		}
	}
	f.n++
	f.prevAt, f.prevIntended, f.prevLambda = at, a.Intended, lambda
}

// drop counts a dropped arrival in the second it was dispatched (the last dispatch seen: the
// runner drops an arrival right after handing it to OnDispatch).
func (f *dispatchFit) drop() {
	if sec := int(max(f.lastAt, 0) / time.Second); sec < len(f.dropped) {
		f.dropped[sec]++
	}
}

// ksDistance returns the Kolmogorov–Smirnov distance between the rescaled gaps and Gamma(k, 1)
// (Exp(1) for k = 1), and the number of gaps. The empirical distribution is known at each
// histogram bucket's edges; the distance is taken at both edges of every bucket, so that the
// histogram's resolution (0.1 %) costs at most that much of a mean gap.
func ksDistance(h *hdrhistogram.Histogram, k int) (d float64, n int64) {
	n = h.TotalCount()
	if n == 0 {
		return 0, 0
	}
	var below int64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		lo := gammaCDF(float64(b.From)/gapScale, k)
		d = max(d, math.Abs(float64(below)/float64(n)-lo))
		below += b.Count
		hi := gammaCDF(float64(b.To+1)/gapScale, k)
		d = max(d, math.Abs(float64(below)/float64(n)-hi))
	}
	return d, n
}

// gammaCDF returns P(X ≤ x) for X ~ Gamma(k, 1), k a positive integer (Erlang):
// 1 − e^−x · Σ_{i<k} x^i / i!.
func gammaCDF(x float64, k int) float64 {
	if x <= 0 {
		return 0
	}
	term, sum := 1.0, 1.0
	for i := 1; i < k; i++ {
		term *= x / float64(i)
		sum += term
	}
	return 1 - math.Exp(-x)*sum
}

// ksCritical returns the Kolmogorov–Smirnov critical distance at the 1 % level for n values
// (the asymptotic 1.628/√n, good from a few dozen values).
func ksCritical(n int64) float64 {
	if n <= 0 {
		return 1
	}
	return 1.628 / math.Sqrt(float64(n))
}
