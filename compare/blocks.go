package compare

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
)

// The block bootstrap Compare resamples a run with: the unit is the run's second, not the single
// request. Requests within a second share the target's state (its queues, a garbage collection,
// a slow node) and so do neighbouring seconds, so a run's values are not independent draws:
// resampling them one by one treats n correlated values as n independent ones and makes every
// interval too narrow. Whole seconds, kept together in blocks of consecutive seconds, carry that
// dependence into each resample (Carlstein's non-overlapping block bootstrap; Lahiri, Resampling
// Methods for Dependent Data, 2003).

// Bounds of the block bootstrap.
const (
	// MinBlocks is the fewest blocks a run is resampled in: a series with fewer seconds holding
	// a metric's values is too short for blocks, and its interval resamples single values.
	MinBlocks = 10
	// maxBlocks bounds the work and memory of one resampled metric (blocks × distinct values);
	// beyond some hundred blocks the resampling distribution changes little.
	maxBlocks = 200
)

// blockDist is one run's per-second histograms of a metric, cut into blocks of consecutive
// seconds, in a form that resampling reads fast: the distinct values of the whole run and, per
// block that holds any, the cumulative count of its values up to each.
type blockDist struct {
	seconds int // seconds per block
	// inflate widens a resample's deviation from the run's own percentile to undo the blocks'
	// bias (see dependence.inflation); 1: none.
	inflate float64
	val     []int64
	cum     [][]int64 // cum[b][j]: values of block b ≤ val[j]
}

// secondHist returns a point's encoded histogram of one metric ("" when it recorded none).
type secondHist func(*report.Point) string

// newBlockDist cuts the series' per-second histograms (hist) into blocks. It returns nil when the
// series cannot stand for the run's sample: its seconds do not hold exactly the want values of
// the run's histogram (an older result without them, a series cut short), or too few seconds
// hold any for MinBlocks blocks.
func newBlockDist(s report.Series, hist secondHist, want int64) *blockDist {
	secs := make([][]hdr.Bar, len(s))
	first, last, total := -1, -1, int64(0)
	var medians []float64
	var dec hdr.BarDecoder
	for i := range s {
		enc := hist(&s[i])
		if enc == "" {
			continue
		}
		bars, err := dec.Decode(enc)
		if err != nil || len(bars) == 0 {
			return nil
		}
		secs[i] = bars
		var n int64
		for _, b := range bars {
			n += b.Count
		}
		if first < 0 {
			first = i
		}
		last, total = i, total+n
		medians = append(medians, float64(barsPercentile(bars, n, 50)))
	}
	if total != want || want == 0 || len(medians) < MinBlocks {
		return nil
	}
	d := &blockDist{val: distinctValues(secs[first : last+1])}
	dep := politisWhite(medians)
	// Shorter blocks while too few hold values (seconds without any lie between them); blocks
	// of one second always do, as MinBlocks seconds hold values.
	for l := dep.blockSeconds(last - first + 1); ; l-- {
		d.seconds, d.inflate, d.cum = l, dep.inflation(l), nil
		for lo := first; lo <= last; lo += l {
			if c := d.cumulative(secs[lo:min(lo+l, last+1)]); c != nil {
				d.cum = append(d.cum, c)
			}
		}
		if len(d.cum) >= MinBlocks || l == 1 {
			return d
		}
	}
}

// barsPercentile returns percentile p of the n values of bars, as HdrHistogram ranks it.
func barsPercentile(bars []hdr.Bar, n int64, p float64) int64 {
	rank, c := rankOf(p, n), int64(0)
	for _, b := range bars {
		if c += b.Count; c >= rank {
			return b.To
		}
	}
	return bars[len(bars)-1].To
}

// distinctValues returns the values of the seconds' bars, ascending, each once.
func distinctValues(secs [][]hdr.Bar) []int64 {
	var vs []int64
	for _, bars := range secs {
		for _, b := range bars {
			vs = append(vs, b.To)
		}
	}
	slices.Sort(vs)
	return slices.Compact(vs)
}

// cumulative returns the cumulative counts over d.val of the seconds' values, nil when they hold
// none.
func (d *blockDist) cumulative(secs [][]hdr.Bar) []int64 {
	var c []int64
	for _, bars := range secs {
		for _, b := range bars {
			if c == nil {
				c = make([]int64, len(d.val))
			}
			j, _ := slices.BinarySearch(d.val, b.To)
			c[j] += b.Count
		}
	}
	for j := 1; j < len(c); j++ {
		c[j] += c[j-1]
	}
	return c
}

// dependence is what Politis and White's method reads from a series: the block length that
// minimises the error of a block bootstrap's variance, and the two sums it rests on, g = Σ λ(k/M)
// R(k) (the series' long-run variance: its variance with all its autocovariances R) and
// G = Σ λ(k/M) |k| R(k), over the lags where the dependence reaches.
type dependence struct {
	length     int
	g, gMoment float64
}

// maxInflation bounds dependence.inflation: beyond it the blocks are far too short for the
// series' dependence, and the factor itself would rest on little.
const maxInflation = 2

// blockSeconds holds the length to at least MinBlocks blocks and at most maxBlocks of a series
// spanning span seconds.
func (dep dependence) blockSeconds(span int) int {
	return max(min(dep.length, span/MinBlocks), (span+maxBlocks-1)/maxBlocks, 1)
}

// inflation is the factor by which a block bootstrap with blocks of l seconds understates the
// spread of a statistic of the series: blocks cut the dependence at their borders, so the
// variance they see is (g − G/l)/n where the run's is g/n (Künsch 1989; Lahiri 2003, §5.2), and
// the spread is √(g/(g − G/l)) times wider than the resamples'. Short runs, whose blocks have
// to be short to be many, need it most. It is between 1 and maxInflation.
func (dep dependence) inflation(l int) float64 {
	if dep.g <= 0 || dep.gMoment <= 0 || l < 1 {
		return 1
	}
	rest := dep.g - dep.gMoment/float64(l)
	if rest <= dep.g/(maxInflation*maxInflation) {
		return maxInflation
	}
	return math.Sqrt(dep.g / rest)
}

// politisWhite estimates the block length that minimises the error of a block bootstrap's
// variance for the series x: Politis and White (2004), with the correction of Patton, Politis
// and White (2009), for non-overlapping blocks (whose variance constant is 2·g², Lahiri 2003).
// The autocorrelations decide how far the dependence reaches (the first lag after which Kₙ of
// them in a row are insignificant, m̂); a flat-top lag window of 2·m̂ estimates g and G; the
// length is (2G²/D)^(1/3)·n^(1/3) with D = 2g². A series without dependence gets 1 second: an
// i.i.d. bootstrap of seconds.
func politisWhite(x []float64) dependence {
	none := dependence{length: 1}
	n := len(x)
	if n < 3 {
		return none
	}
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(n)
	acov := func(k int) float64 {
		var s float64
		for t := 0; t+k < n; t++ {
			s += (x[t] - mean) * (x[t+k] - mean)
		}
		return s / float64(n)
	}
	r0 := acov(0)
	if r0 == 0 {
		return none
	}
	bigM := dependenceReach(acov, r0, n)
	if bigM == 0 {
		return none
	}
	var dep dependence
	for k := -bigM; k <= bigM; k++ {
		lam := flatTop(float64(k) / float64(bigM))
		r := acov(absInt(k))
		dep.g += lam * r
		dep.gMoment += lam * float64(absInt(k)) * r
	}
	if dep.g <= 0 {
		return none
	}
	b := math.Cbrt(2*dep.gMoment*dep.gMoment/(2*dep.g*dep.g)) * math.Cbrt(float64(n))
	dep.length = max(1, int(math.Ceil(b)))
	return dep
}

// dependenceReach returns Politis and White's M = 2·m̂ for a series of n values with
// autocovariance acov (r0 at lag 0): m̂ is the first lag after which Kₙ = max(5, √log₁₀ n)
// autocorrelations in a row lie within ±2·√(log₁₀ n / n).
func dependenceReach(acov func(int) float64, r0 float64, n int) int {
	kn := max(5, int(math.Sqrt(math.Log10(float64(n)))))
	bound := 2 * math.Sqrt(math.Log10(float64(n))/float64(n))
	mMax := min(int(math.Ceil(math.Sqrt(float64(n))))+kn, n-1)
	rho := make([]float64, mMax+1)
	for k := range rho {
		rho[k] = acov(k) / r0
	}
	mHat := mMax
	for m := 0; m+kn <= mMax; m++ {
		quiet := true
		for k := 1; k <= kn; k++ {
			quiet = quiet && math.Abs(rho[m+k]) < bound
		}
		if quiet {
			mHat = m
			break
		}
	}
	return min(2*mHat, mMax)
}

// flatTop is Politis and Romano's trapezoidal flat-top lag window.
func flatTop(t float64) float64 {
	switch t = math.Abs(t); {
	case t <= 0.5:
		return 1
	case t <= 1:
		return 2 * (1 - t)
	}
	return 0
}

func absInt(k int) int {
	if k < 0 {
		return -k
	}
	return k
}

// rankOf returns the 1-based rank of percentile p among n values, as HdrHistogram computes it.
func rankOf(p float64, n int64) int64 {
	r := p/100*float64(n) + 0.5
	switch {
	case !(r >= 1):
		return 1
	case r >= float64(n):
		return n
	}
	return int64(r)
}

// draw resamples the run: as many blocks as it has, drawn with replacement, pooled; it returns
// the pooled values' percentile p (as HdrHistogram ranks it) and pick, scratch space for reuse.
func (d *blockDist) draw(r *rand.Rand, p float64, pick []int) (int64, []int) {
	last := len(d.val) - 1
	pick = pick[:0]
	var n int64
	for range d.cum {
		b := r.IntN(len(d.cum))
		pick = append(pick, b)
		n += d.cum[b][last]
	}
	rank := rankOf(p, n)
	lo, hi := 0, last // the first value whose pooled cumulative count reaches the rank
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		var c int64
		for _, b := range pick {
			c += d.cum[b][mid]
		}
		if c >= rank {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return d.val[lo], pick
}

// drawInflated is draw with the resample's deviation from the run's own percentile (est)
// widened by the blocks' inflation.
func (d *blockDist) drawInflated(r *rand.Rand, p float64, est int64, pick []int) (float64, []int) {
	v, pick := d.draw(r, p, pick)
	return float64(est) + d.inflate*float64(v-est), pick
}

// secondShare returns a point's count and population of one share.
type secondShare func(*report.Point) (x, n int64)

// shareDesignEffect returns how much the journeys' dependence inflates the variance of a share,
// x of n over the run, whose per-second counts are share: the between-block variance of the
// share (the ratio estimator's, linearised) over blocks of consecutive seconds, divided by the
// binomial variance p(1−p)/n it would have if the journeys were independent; and the block
// length. The effect is at least 1 (dependence is not taken to make a share surer than
// independent journeys would). It is 1 with a block length of 0 when the series cannot tell:
// its seconds do not hold exactly x of n, or fewer than MinBlocks of them have journeys; and 1
// when the share is 0 or 1, where the binomial variance is 0 and the score interval's own
// width rests on n.
func shareDesignEffect(s report.Series, share secondShare, x, n int64) (deff float64, seconds int) {
	xs, ns := make([]int64, len(s)), make([]int64, len(s))
	var rates []float64
	var sx, sn int64
	first, last := -1, -1
	for i := range s {
		xs[i], ns[i] = share(&s[i])
		sx, sn = sx+xs[i], sn+ns[i]
		if ns[i] > 0 {
			if first < 0 {
				first = i
			}
			last = i
			rates = append(rates, float64(xs[i])/float64(ns[i]))
		}
	}
	if sx != x || sn != n || n == 0 || len(rates) < MinBlocks {
		return 1, 0
	}
	dep := politisWhite(rates)
	l := dep.blockSeconds(last - first + 1)
	if x == 0 || x == n {
		return 1, l
	}
	p := float64(x) / float64(n)
	var ss float64
	blocks := 0
	for lo := first; lo <= last; lo += l {
		var bx, bn int64
		for i := lo; i < min(lo+l, last+1); i++ {
			bx, bn = bx+xs[i], bn+ns[i]
		}
		if bn > 0 {
			dev := float64(bx) - p*float64(bn)
			ss += dev * dev
			blocks++
		}
	}
	if blocks < 2 {
		return 1, l
	}
	v := float64(blocks) / float64(blocks-1) * ss / (float64(n) * float64(n))
	f := dep.inflation(l)
	return max(1, f*f*v/(p*(1-p)/float64(n))), l
}
