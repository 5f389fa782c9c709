package compare

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// Direction is which way one metric of two runs went: better, worse, no significant change, or
// no data (the comparison's verdict, not a journey's sample.Verdict). Lower is better for every
// metric.
type Direction string

// The directions of a Change; each reads as the verdict column of a comparison table.
const (
	DirectionBetter Direction = "better"                // new is lower, beyond noise and by at least MinEffect
	DirectionWorse  Direction = "worse"                 // new is higher, beyond noise and by at least MinEffect
	DirectionNone   Direction = "no significant change" // the difference is within noise, or too small to matter
	DirectionNoData Direction = "no data"               // one run (or both) has nothing to measure
	// DirectionNotJudged: the metric is shown but never judged (Change.NotJudged says why): a
	// step served mostly from a cache, or the generator's own lag.
	DirectionNotJudged Direction = "not judged"
)

// Why a Change is not judged (Change.NotJudged).
const (
	// NotJudgedCached: a step whose values are mostly cache hits (fewer requests than half its
	// samples) in either run: its percentiles compare a cache's nanoseconds with the odd refresh.
	NotJudgedCached = "cached"
	// NotJudgedGenerator: lag, the generator's lateness in starting journeys, not the target's.
	NotJudgedGenerator = "generator"
)

// Change is one metric of two runs side by side.
type Change struct {
	Metric string           // e.g. "step.create.p50", "gap.p99", "journey.p99", "lag.p99", "window.missed", "errors"
	Kind   report.ValueKind // KindDuration (values in ns) or KindShare (values are fractions)
	// Base and New are the metric in each run: nanoseconds for durations, a fraction for shares;
	// 0 for a run without data.
	Base, New float64
	// BaseN and NewN are the counts behind Base and New: the samples in the histogram, or the
	// population of the share (journeys judged, journeys ended). 0 means no data.
	BaseN, NewN int64
	Abs         float64 // New − Base
	// Rel is (New − Base)/Base; with Base 0 it is +Inf when New > 0 and 0 otherwise (render "n/a").
	// Encoders that reject infinities (encoding/json) must map it.
	Rel float64
	// Low and High bound the difference New − Base (the unit of Abs) at the per-comparison level
	// that makes all the intervals of one Compare hold together with probability Confidence
	// (see Compare). Both are 0 when Direction is DirectionNoData.
	Low, High float64
	// BaseBlock and NewBlock are the block lengths, in seconds, that each run's per-second
	// series was resampled in (percentiles) or that estimated its design effect (shares); 0 when
	// that run's interval rests on single values as if they were independent: its series lacks
	// the metric's per-second data (an older result), or fewer than 10 of its seconds have
	// values.
	BaseBlock, NewBlock int
	Direction           Direction
	// Confidence and MinEffect are the options the Direction was decided with (the same in every
	// Change of one Compare), so that a rendering can state them.
	Confidence, MinEffect float64
	// HigherBetter: more is better (served); Direction and MinEffect then judge the complement
	// (the unserved share), so that 2 % means 2 % more consumers unserved.
	HigherBetter bool
	// NotJudged is why the metric is never judged (NotJudgedCached, NotJudgedGenerator), "" when
	// it is: Direction is then DirectionNotJudged (or DirectionNoData), Low and High are 0, and
	// it is not one of the comparisons the confidence is shared among.
	NotJudged string
}

// Judged reports whether the change can be flagged: it is not cached nor the generator's.
func (c Change) Judged() bool { return c.NotJudged == "" }

// Options tune Compare. The zero value asks for the defaults.
type Options struct {
	// Percentiles of every histogram metric, each 0 < p ≤ 100 (others are clamped into that
	// range, repeats dropped); default 50, 90, 99.
	Percentiles []float64
	// Confidence is the two-sided confidence with which all the intervals of one Compare hold
	// together (0 < c < 1); default 0.95.
	Confidence float64
	// Resamples is the number of bootstrap resamples of an interval at level Confidence; default
	// 1000. Compare draws Resamples × (comparisons with data), so that each tail of the narrower
	// per-comparison interval is estimated from as many resamples as an unadjusted one would be.
	Resamples int
	// Seed makes the resampling, and so the result, deterministic.
	Seed uint64
	// MinEffect is the relative change below which even a significant difference is reported as
	// "no significant change": with millions of samples, trivial differences are significant.
	// 0 means the default 0.02 (2 %); a negative value means no minimum.
	MinEffect float64
}

// DefaultPercentiles are the percentiles Compare uses when none are given.
var DefaultPercentiles = []float64{50, 90, 99}

// withDefaults returns the options with every unset field at its default.
func (o Options) withDefaults() Options {
	if len(o.Percentiles) == 0 {
		o.Percentiles = DefaultPercentiles
	}
	if !(o.Confidence > 0 && o.Confidence < 1) {
		o.Confidence = 0.95
	}
	if o.Resamples <= 0 {
		o.Resamples = 1000
	}
	switch {
	case o.MinEffect == 0:
		o.MinEffect = 0.02
	case o.MinEffect < 0:
		o.MinEffect = 0
	}
	return o
}

// comparison is one metric to compare: a percentile of two histograms, or a share of two runs.
type comparison struct {
	c Change
	// For durations: the runs' samples, their per-second blocks (nil: none) and the percentile.
	base, newer    *bootDist
	bBlock, nBlock func() *blockDist
	p              float64
	// For shares: n of total in each run, and each run's design effect with its block length.
	bn, bt, nn, nt int64
	bDeff, nDeff   func() (float64, int)
}

// Compare puts two runs' metrics side by side: every step measured in either run (step.<name>),
// gap and journey, each at every percentile, then the shares served (consumers whose first auto
// message came, of those that waited for one: more is better), window.not_in (journeys whose
// first SEND was not certainly in the window), window.missed (missed of the journeys judged
// against the window) and errors (failed of the journeys that ended), and last lag, at every
// percentile. Lower is better for all but served. A nil Metrics has no data.
//
// Each Change carries an interval for the difference New − Base that accounts for sampling noise,
// and a verdict: "worse" when the interval lies above 0 and New exceeds Base by at least
// MinEffect (relative), "better" when it lies below 0 and New is lower by at least MinEffect,
// "no significant change" otherwise, and "no data" when either run has nothing to measure (an
// empty histogram, a share of nobody). Served is judged on its complement, the unserved share. A
// step that neither run measured is left out. Two kinds of metric are shown but never judged
// ("not judged", no interval, not among the comparisons that share the confidence): a step served
// mostly from a cache in either run (a cached AppJWT is some 500 ns at every percentile, and the
// odd refresh is not the target's latency), and lag, the generator's own lateness.
//
// The statistics:
//
//   - Multiplicity. A table of some thirty verdicts, each at 95 %, would show a false "worse" or
//     "better" in most comparisons of two runs of the same configuration (1 − 0.95²⁹ ≈ 77 % if
//     the metrics were independent). The intervals are therefore Bonferroni-adjusted: with k
//     comparisons that have data, each interval is at level 1 − (1 − Confidence)/k, so that all
//     k hold together with probability at least Confidence (as far as each interval is exact),
//     and the chance that the table shows any verdict other than "no significant change" when
//     nothing changed is at most 1 − Confidence. The price is power: a difference has to be
//     about 3.1 standard errors (k = 29, Confidence 0.95) rather than 2 to be called.
//
//   - The unit: the run's second. Requests are not independent draws: those of one second share
//     the target's state (its queues, a pause, a slow node), and so do those of neighbouring
//     seconds. Resampling single requests treats n correlated values as n independent ones; its
//     intervals are too narrow, and a drift of the target's level between two runs of one
//     configuration reads as a change (measured: over 40 pairs of 200-second runs whose level
//     wanders with a few seconds' memory, single-request intervals at 98.3 % covered the true
//     difference 0 in 24; the block intervals in 40). So each run's per-second series is the
//     sample (Point.StepHists, GapHist, JourneyHist, LagHist: the second's histograms): a block
//     bootstrap resamples whole seconds in non-overlapping blocks of consecutive seconds
//     (Carlstein 1986; Lahiri, Resampling Methods for Dependent Data, 2003), as many blocks with
//     replacement as the run has, and the resample's percentile is that of the pooled values
//     of the drawn blocks, found by a binary search over the run's distinct values with the
//     blocks' cumulative counts. The block length is Politis and White's (2004, corrected 2009)
//     estimate for the series of per-second medians: 1 s when neighbouring seconds are not
//     correlated (an i.i.d. bootstrap of seconds), longer as the dependence reaches further,
//     held to at least 10 blocks and at most 200. Blocks cut the dependence at their borders,
//     which makes them understate the spread by √(g/(g − G/l)) (g and G from the same estimate,
//     l the length; at most 2×); each resample's deviation from the run's percentile is widened
//     by that factor. A run whose series cannot stand for its sample (an older result without
//     the seconds' histograms, or fewer than 10 seconds with values) falls back to resampling
//     single values (below), and the Change says so (BaseBlock, NewBlock 0).
//
//   - Single values: a bootstrap from the histograms. A histogram is the run's sample, each
//     value known to within its bucket (0.1 %), so resampling n values with replacement from it
//     is resampling the sample. The percentile of such a resample is its r-th smallest value,
//     with r the rank HdrHistogram uses (p/100 · n rounded, between 1 and n). Drawing the n
//     values is not needed: the r-th smallest of n uniform variates has a Beta(r, n−r+1)
//     distribution, and the sample's quantile function maps it onto the r-th smallest
//     resampled value. Measured on independent log-normal samples (σ 0.58; 400 pairs each), a
//     95 % interval covered the true difference in 92–97 % of the pairs at p50, p90 and p99,
//     with 200 and with 2,000 samples. An extreme percentile is only as good as the sample's
//     tail, though: with 2,000 samples p99 rests on the 20 largest.
//
//   - Shares: Newcombe's hybrid score interval for a difference of two independent binomial
//     proportions (Wilson score intervals of each share, combined), at the same adjusted level.
//     Unlike the plain normal (Wald) interval it behaves at 0 of 1,000 and for small counts.
//     Journeys fail and miss the window together (an outage second), so each run's counts are
//     first divided by its design effect: the between-block variance of the share over blocks
//     of its seconds (chosen as above, from the per-second shares) over the binomial variance,
//     at least 1 — the interval of a share of n correlated journeys is that of n/deff
//     independent ones.
//
// Resampling uses math/rand/v2's PCG seeded with o.Seed and the metric's name, so a metric's
// interval depends on the data, the options and the number of comparisons, not on the order of
// the others. The cost of single values does not depend on the number of samples: about 3 × 10⁴
// resamples per comparison with the defaults, some 0.1 s of CPU for a whole comparison, spread
// over GOMAXPROCS. Blocks cost more, by the seconds, the blocks and the distinct values: 0.32 s
// for two one-hour runs at 100 journeys/s (BenchmarkCompareBlocks, see BENCHMARKS.md).
func Runs(base, newer *report.Metrics, o Options) []Change {
	o = o.withDefaults()
	if base == nil {
		base = &report.Metrics{}
	}
	if newer == nil {
		newer = &report.Metrics{}
	}
	var percentiles []float64
	for _, p := range o.Percentiles {
		if p = min(max(p, 0), 100); !slices.Contains(percentiles, p) {
			percentiles = append(percentiles, p)
		}
	}
	var cs []*comparison
	hist := func(name, why string, b, n *hdrhistogram.Histogram, second secondHist) {
		bd, nd := newBootDist(b), newBootDist(n)
		// Cut into blocks once per run and metric, by the first comparison that needs them.
		bb := sync.OnceValue(func() *blockDist { return newBlockDist(base.Series, second, bd.n) })
		nb := sync.OnceValue(func() *blockDist { return newBlockDist(newer.Series, second, nd.n) })
		for _, p := range percentiles {
			cs = append(cs, &comparison{
				c:    Change{Metric: name + ".p" + report.TrimFloat(p), Kind: report.KindDuration, BaseN: bd.n, NewN: nd.n, NotJudged: why},
				base: bd, newer: nd, bBlock: bb, nBlock: nb, p: p,
			})
		}
	}
	for s := range sample.NumSteps {
		b, n := base.Steps[s], newer.Steps[s]
		if hdr.CountOf(b) == 0 && hdr.CountOf(n) == 0 {
			continue // not measured by these journeys
		}
		name, why := s.String(), ""
		if base.MostlyCached(s) || newer.MostlyCached(s) {
			why = NotJudgedCached
		}
		hist("step."+name, why, b, n, func(p *report.Point) string { return p.StepHists[name] })
	}
	for _, name := range []string{"gap", "journey"} {
		hist(name, "", report.HistogramMetrics[name](base), report.HistogramMetrics[name](newer), secondHists[name])
	}
	for _, name := range []string{"served", "window.not_in", "window.missed", "errors"} {
		bn, bt := shareOf(name, base)
		nn, nt := shareOf(name, newer)
		bn, nn = min(max(bn, 0), bt), min(max(nn, 0), nt) // a share is of its population
		cs = append(cs, &comparison{
			c:  Change{Metric: name, Kind: report.KindShare, BaseN: max(bt, 0), NewN: max(nt, 0), HigherBetter: name == "served"},
			bn: bn, bt: bt, nn: nn, nt: nt,
			bDeff: func() (float64, int) { return shareDesignEffect(base.Series, secondShares[name], bn, bt) },
			nDeff: func() (float64, int) { return shareDesignEffect(newer.Series, secondShares[name], nn, nt) },
		})
	}
	hist("lag", NotJudgedGenerator, base.Lag, newer.Lag, secondHists["lag"])

	k := 0
	for _, c := range cs {
		if c.c.BaseN > 0 && c.c.NewN > 0 && c.c.Judged() {
			k++
		}
	}
	alpha := (1 - o.Confidence) / float64(max(k, 1)) // two-sided, per comparison
	resamples := o.Resamples * max(k, 1)
	// The comparisons are independent (each has its own random stream), so they run in
	// parallel and the result does not depend on the schedule.
	out := make([]Change, len(cs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(cs)) {
		wg.Go(func() {
			var diffs []float64 // reused across this worker's comparisons
			for i := range next {
				out[i], diffs = cs[i].run(o, alpha, resamples, diffs)
			}
		})
	}
	for i := range cs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// run compares one metric; diffs is scratch space, returned for reuse.
func (c *comparison) run(o Options, alpha float64, resamples int, diffs []float64) (Change, []float64) {
	ch := c.c
	ch.Confidence, ch.MinEffect, ch.Direction = o.Confidence, o.MinEffect, DirectionNoData
	both := ch.BaseN > 0 && ch.NewN > 0
	judged := both && ch.Judged()
	if ch.Kind == report.KindDuration {
		if ch.BaseN > 0 {
			ch.Base = float64(c.base.value(c.base.rank(c.p)))
		}
		if ch.NewN > 0 {
			ch.New = float64(c.newer.value(c.newer.rank(c.p)))
		}
		if judged {
			rng := rand.New(rand.NewPCG(o.Seed, metricSeed(ch.Metric)))
			diffs = c.resample(diffs[:0], rng, resamples)
			ch.Low, ch.High = percentileInterval(diffs, alpha)
			ch.BaseBlock, ch.NewBlock = blockSecondsOf(c.bBlock()), blockSecondsOf(c.nBlock())
		}
	} else {
		if ch.BaseN > 0 {
			ch.Base = float64(c.bn) / float64(c.bt)
		}
		if ch.NewN > 0 {
			ch.New = float64(c.nn) / float64(c.nt)
		}
		if judged {
			bd, bl := c.bDeff()
			nd, nl := c.nDeff()
			ch.Low, ch.High = newcombeInterval(float64(c.bn)/bd, float64(c.bt)/bd, float64(c.nn)/nd, float64(c.nt)/nd, zFor(alpha))
			ch.BaseBlock, ch.NewBlock = bl, nl
		}
	}
	if both {
		ch.Abs = ch.New - ch.Base
		ch.Rel = relChange(ch.Base, ch.New)
		ch.Direction = DirectionNotJudged
	}
	switch {
	case judged && ch.HigherBetter: // judged on the complement: the unserved share
		ch.Direction = directionOf(-ch.High, -ch.Low, relChange(1-ch.Base, 1-ch.New), o.MinEffect)
	case judged:
		ch.Direction = directionOf(ch.Low, ch.High, ch.Rel, o.MinEffect)
	}
	return ch, diffs
}

// resample appends resamples bootstrap differences newer − base of the comparison's percentile,
// sorted: each run resampled in blocks of its seconds when its series has them, else in single
// values.
func (c *comparison) resample(diffs []float64, rng *rand.Rand, resamples int) []float64 {
	bb, nb := c.bBlock(), c.nBlock()
	if bb == nil && nb == nil {
		return bootstrapDiffs(diffs, rng, c.base, c.newer, c.p, resamples)
	}
	bk, nk := c.base.rank(c.p), c.newer.rank(c.p)
	bEst, nEst := c.base.value(bk), c.newer.value(nk)
	var pick []int
	for range resamples {
		var b, n float64
		if bb != nil {
			b, pick = bb.drawInflated(rng, c.p, bEst, pick)
		} else {
			b = float64(c.base.draw(rng, bk))
		}
		if nb != nil {
			n, pick = nb.drawInflated(rng, c.p, nEst, pick)
		} else {
			n = float64(c.newer.draw(rng, nk))
		}
		diffs = append(diffs, n-b)
	}
	slices.Sort(diffs)
	return diffs
}

// blockSecondsOf returns the block length of d, 0 for none.
func blockSecondsOf(d *blockDist) int {
	if d == nil {
		return 0
	}
	return d.seconds
}

// secondHists read a point's histogram of gap, journey and lag.
var secondHists = map[string]secondHist{
	"gap":     func(p *report.Point) string { return p.GapHist },
	"journey": func(p *report.Point) string { return p.JourneyHist },
	"lag":     func(p *report.Point) string { return p.LagHist },
}

// secondShares read a point's count and population of a share; a share a point does not hold
// (served, window.not_in) reads nothing, and its interval treats journeys as independent.
var secondShares = map[string]secondShare{
	"window.missed": func(p *report.Point) (int64, int64) { return p.Missed, p.Judged },
	"errors":        func(p *report.Point) (int64, int64) { return p.Failed, p.OK + p.Failed },
	"served":        noSeconds,
	"window.not_in": noSeconds,
}

func noSeconds(*report.Point) (int64, int64) { return 0, 0 }

// shareOf returns a share's count and population in m: served is the consumers whose first auto
// message came of those that waited for one (1 − automsg.missing); the others are report's.
func shareOf(name string, m *report.Metrics) (n, total int64) {
	if name == "served" {
		awaited, received := m.AutoMessages()
		return received, awaited
	}
	return report.ShareMetrics[name](m)
}

// relChange returns (newer − base)/base, with a zero base giving +Inf for a rise and 0 otherwise.
func relChange(base, newer float64) float64 {
	if base == 0 {
		if newer > 0 {
			return math.Inf(1)
		}
		return 0
	}
	return (newer - base) / base
}

// directionOf decides a Direction from the interval of the difference and the relative change.
func directionOf(low, high, rel, minEffect float64) Direction {
	switch {
	case low > 0 && rel >= minEffect:
		return DirectionWorse
	case high < 0 && -rel >= minEffect:
		return DirectionBetter
	}
	return DirectionNone
}

// metricSeed derives a metric's resampling stream from its name.
func metricSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// Regressed reports whether metric (a Change's Metric, e.g. "step.create.p99") got significantly
// worse by more than pct: its Direction is DirectionWorse and, for a duration, Rel > pct/100
// (percent), for a share |Abs| > pct/100 (percentage points: served:1 is a fall of more than
// one point). A metric without data, or a cached step, has not regressed; lag is refused, being
// the generator's. The error names the known metrics when metric is not among cs.
func Regressed(cs []Change, metric string, pct float64) (bool, error) {
	for _, c := range cs {
		switch {
		case c.Metric != metric:
		case c.NotJudged == NotJudgedGenerator:
			return false, fmt.Errorf("%s is the generator's own lateness, not the target's: the run's measurement checks judge it", metric)
		case c.Kind == report.KindShare:
			return c.Direction == DirectionWorse && math.Abs(c.Abs) > pct/100, nil
		default:
			return c.Direction == DirectionWorse && c.Rel > pct/100, nil
		}
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Metric
	}
	return false, fmt.Errorf("unknown metric %q: the compared metrics are %s", metric, strings.Join(names, ", "))
}

// Named is one side of a comparison: a run, or a target of one, and its name.
type Named struct {
	Name    string
	Metrics *report.Metrics
}

// Pair is one comparison of a set: New against Base, metric by metric.
type Pair struct {
	Base, New string
	Changes   []Change
	// Confidence is the level at which the intervals of every pair of the set hold together
	// (the options' Confidence); each Change's Confidence is its pair's share of it.
	Confidence float64
}

// Against compares each of news with base (Runs), and is one verdict for them all: every pair's
// intervals are at 1 − (1 − Confidence)/len(news), so that the intervals of all the pairs hold
// together with probability Confidence (Bonferroni over the pairs, on top of Runs' over the
// metrics of each). Comparing each with the first, rather than every pair, keeps the number of
// comparisons, and the power each loses, growing as N − 1 rather than N(N − 1)/2.
func Against(base Named, news []Named, o Options) []Pair {
	o = o.withDefaults()
	each := o
	each.Confidence = 1 - (1-o.Confidence)/float64(max(len(news), 1))
	out := make([]Pair, len(news))
	for i, n := range news {
		out[i] = Pair{Base: base.Name, New: n.Name, Changes: Runs(base.Metrics, n.Metrics, each), Confidence: o.Confidence}
	}
	return out
}
