package validity

import (
	"fmt"
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/report"
)

// Fit measures, in constant memory, how the dispatcher's actual times fit its plan. It
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
type Fit struct {
	plan   loadgen.Plan
	shards int // arrivals of the plan per arrival this runner sees: Gamma's shape

	gaps         *hdrhistogram.Histogram
	n            int64 // arrivals seen
	prevAt       time.Duration
	prevIntended time.Duration
	prevLambda   float64

	// dispatched and dropped count arrivals by the whole second (from the epoch) in which the
	// dispatcher handled them, intended by the second of their intended time.
	dispatched, dropped, intended []int64
	lastAt                        time.Duration
}

// gapScale is the histogram unit of rescaled (Poisson) gaps: a millionth of a mean gap.
const gapScale = 1e6

func newFit(plan loadgen.Plan) *Fit {
	f := &Fit{plan: plan, shards: max(plan.Shards, 1)}
	if plan.Poisson {
		f.gaps = hdrhistogram.New(1, int64(gapScale*1000), 3)
	} else {
		f.gaps = hdrhistogram.New(1, int64(time.Hour), 3)
	}
	return f
}

// dispatch records arrival a handled at actual offset at.
func (f *Fit) dispatch(a loadgen.Arrival, at time.Duration) {
	sec := int(max(at, 0) / time.Second)
	for len(f.dispatched) <= sec {
		f.dispatched = append(f.dispatched, 0)
		f.dropped = append(f.dropped, 0)
	}
	f.dispatched[sec]++
	isec := int(max(a.Intended, 0) / time.Second)
	for len(f.intended) <= isec {
		f.intended = append(f.intended, 0)
	}
	f.intended[isec]++
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
func (f *Fit) drop() {
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

// gammaMaxDensity returns the greatest density of Gamma(k, 1), at its mode k − 1.
func gammaMaxDensity(k int) float64 {
	if k <= 1 {
		return 1
	}
	x := float64(k - 1)
	lg, _ := math.Lgamma(float64(k))
	return math.Exp(x*math.Log(x) - x - lg)
}

// ksCritical returns the Kolmogorov–Smirnov critical distance at the 1 % level for n values
// (the asymptotic 1.628/√n, good from a few dozen values).
func ksCritical(n int64) float64 {
	if n <= 0 {
		return 1
	}
	return 1.628 / math.Sqrt(float64(n))
}

// minFitArrivals is the fewest gaps the arrivals check judges.
const minFitArrivals = 50

// arrivalsCheck: the dispatcher's actual times fit the plan. Poisson: the Kolmogorov–Smirnov
// distance of the rescaled gaps from Gamma(shards, 1) is within the 1 % critical value plus an
// allowance for the timer: every gap may be off by 2·dispatchResolution, which at the plan's peak
// rate λ moves the distribution by up to 2·λ·dispatchResolution times its greatest density (1 for
// Exp(1)); an allowance of 0.5 or more (from 250/s unsharded) leaves nothing to judge.
// Uniform: the p99 of the spacing error is within the lag limit (checks.lag_p99) or a tenth of
// the mean gap at the peak rate, whichever is larger: arrivals spaced within what the generator
// may be late anyway, or within 10 % of their gap, are uniform for any server, while a burst
// released after a stall is off by the gaps it swallowed. Short runs (under 1,000 gaps) are
// judged by their 10th-largest error, not their largest few.
func arrivalsCheck(rf Runner, lagLimit time.Duration) report.Check {
	f := rf.Fit
	c := report.Check{Name: "arrivals", Target: rf.Name, OK: true}
	n := f.gaps.TotalCount()
	if !f.plan.Poisson {
		meanGap := time.Duration(float64(time.Second) * float64(f.shards) / max(f.plan.PeakRate(), 1e-9))
		limit := max(lagLimit, meanGap/10)
		c.Limit, c.LimitValue = "spacing error p99 ≤ "+fmtMS(limit), limit.Seconds()
		if n < minFitArrivals {
			c.Measured, c.Message = fmt.Sprintf("not judged: %d gaps", n), "too few arrivals to judge"
			return c
		}
		pct := report.SupportedPercentile(99, n)
		p99 := time.Duration(f.gaps.ValueAtQuantile(pct))
		c.Value, c.OK = p99.Seconds(), p99 <= limit
		c.Measured = fmt.Sprintf("uniform arrivals: spacing error p%s %s over %d gaps", report.TrimDecimals(pct, 2), fmtMS(p99), n)
		c.Message = fitMessage(c.OK, "uniform")
		return c
	}
	d, n := ksDistance(f.gaps, f.shards)
	crit := ksCritical(n)
	allow := 2 * f.plan.PeakRate() * dispatchResolution.Seconds() * gammaMaxDensity(f.shards)
	c.LimitValue = crit + allow
	c.Limit = fmt.Sprintf("KS distance ≤ %.3f (1%% critical %.3f + timer allowance %.3f)", crit+allow, crit, allow)
	switch {
	case n < minFitArrivals:
		c.Measured, c.Message = fmt.Sprintf("not judged: %d gaps", n), "too few arrivals to judge"
	case allow >= 0.5:
		c.Measured = fmt.Sprintf("not judged: at %s/s the gaps are within the dispatcher's resolution (%s)", report.TrimDecimals(f.plan.PeakRate(), 2), dispatchResolution)
		c.Message = "the rate is judged by load_delivered and generator_lag"
	default:
		c.Value, c.OK = d, d <= crit+allow
		c.Measured = fmt.Sprintf("Poisson arrivals: KS distance %.3f over %d gaps", d, n)
		if f.shards > 1 {
			c.Measured += fmt.Sprintf(" (every %d-th arrival: Gamma(%d, 1))", f.shards, f.shards)
		}
		c.Message = fitMessage(c.OK, "Poisson")
	}
	return c
}

func fitMessage(ok bool, process string) string {
	if ok {
		return "the dispatcher's times follow the planned " + process + " process"
	}
	return "the dispatcher's times do not follow the planned " + process + " process (bursts, stalls or a wrong rate): the target did not get the planned load; see generator_lag and generator_cpu"
}

// FitDispatch gives every runner of the group a Fit, fed by its OnDispatch and OnDrop
// (the drop handler feed set keeps running after it).
func FitDispatch(group loadgen.Group) []*Fit {
	fits := make([]*Fit, len(group))
	for i, r := range group {
		f := newFit(r.Plan)
		fits[i] = f
		r.OnDispatch = f.dispatch
		drop := r.OnDrop
		r.OnDrop = func(a loadgen.Arrival) {
			f.drop()
			if drop != nil {
				drop(a)
			}
		}
	}
	return fits
}
