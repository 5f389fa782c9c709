package compare

import (
	"math"
	"math/rand/v2"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
)

// The intervals Compare puts around a difference of two runs: a bootstrap from the histograms for
// percentiles, Newcombe's score interval for shares (see Compare for the method and its checks).

// bootDist is a histogram's sample in a form that bootstrap draws read fast: the distinct values
// (each bucket's highest equivalent value, as HdrHistogram reports percentiles) and the
// cumulative counts up to and including each.
type bootDist struct {
	n   int64
	val []int64
	cum []int64
}

// newBootDist reads h (nil is empty).
func newBootDist(h *hdrhistogram.Histogram) *bootDist {
	d := &bootDist{n: hdr.CountOf(h)}
	if d.n == 0 {
		return d
	}
	var c int64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		c += b.Count
		d.val = append(d.val, b.To)
		d.cum = append(d.cum, c)
	}
	d.n = c
	return d
}

// rank returns the 1-based rank of percentile p among the sample's values (see rankOf).
func (d *bootDist) rank(p float64) int64 { return rankOf(p, d.n) }

// value returns the rank-th smallest value of the sample (1-based).
func (d *bootDist) value(rank int64) int64 { return d.at(rank - 1) }

// at returns the value at 0-based position pos of the sorted sample.
func (d *bootDist) at(pos int64) int64 {
	lo, hi := 0, len(d.cum)-1 // find the first bucket whose cumulative count exceeds pos
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if d.cum[mid] > pos {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return d.val[lo]
}

// draw returns the rank-th smallest of n values resampled with replacement from d: the sample
// quantile function at a Beta(rank, n−rank+1) variate, the distribution of the rank-th smallest
// of n uniforms.
func (d *bootDist) draw(r *rand.Rand, rank int64) int64 {
	u := betaDraw(r, float64(rank), float64(d.n-rank+1))
	pos := min(int64(u*float64(d.n)), d.n-1)
	return d.at(pos)
}

// bootstrapDiffs appends resamples differences newer − base of percentile p, sorted.
func bootstrapDiffs(diffs []float64, r *rand.Rand, base, newer *bootDist, p float64, resamples int) []float64 {
	bk, nk := base.rank(p), newer.rank(p)
	for range resamples {
		diffs = append(diffs, float64(newer.draw(r, nk)-base.draw(r, bk)))
	}
	slices.Sort(diffs)
	return diffs
}

// percentileInterval returns the α/2 and 1 − α/2 quantiles of sorted.
func percentileInterval(sorted []float64, alpha float64) (low, high float64) {
	n := len(sorted)
	i := min(int(math.Floor(alpha/2*float64(n))), n-1)
	return sorted[i], sorted[n-1-i]
}

// gammaDraw returns a Gamma(a, 1) variate for a ≥ 1 (Marsaglia and Tsang's squeeze method).
func gammaDraw(r *rand.Rand, a float64) float64 {
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if x2 := x * x; u < 1-0.0331*x2*x2 || math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// betaDraw returns a Beta(a, b) variate for a, b ≥ 1.
func betaDraw(r *rand.Rand, a, b float64) float64 {
	x := gammaDraw(r, a)
	return x / (x + gammaDraw(r, b))
}

// zFor returns the standard normal quantile of a two-sided interval at level 1 − alpha.
func zFor(alpha float64) float64 { return math.Sqrt2 * math.Erfinv(1-alpha) }

// wilsonInterval returns the Wilson score interval of the proportion x/n; x and n may be
// effective counts (the journeys' counts divided by a design effect), not whole numbers.
func wilsonInterval(x, n, z float64) (low, high float64) {
	p := x / n
	z2 := z * z
	den := 1 + z2/n
	center := (p + z2/(2*n)) / den
	half := z * math.Sqrt(p*(1-p)/n+z2/(4*n*n)) / den
	return max(center-half, 0), min(center+half, 1)
}

// newcombeInterval returns Newcombe's hybrid score interval of nx/nt − bx/bt (his method 10),
// of counts or effective counts.
func newcombeInterval(bx, bt, nx, nt, z float64) (low, high float64) {
	pb, pn := bx/bt, nx/nt
	lb, ub := wilsonInterval(bx, bt, z)
	ln, un := wilsonInterval(nx, nt, z)
	d := pn - pb
	return d - math.Hypot(pn-ln, ub-pb), d + math.Hypot(un-pn, pb-lb)
}
