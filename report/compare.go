package report

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"html/template"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/sample"
)

// Verdict is the outcome of comparing one metric of two runs. Lower is better for every metric.
type Verdict string

// The verdicts of a Change.
const (
	VerdictBetter   Verdict = "better"                // new is lower, beyond noise and by at least MinEffect
	VerdictWorse    Verdict = "worse"                 // new is higher, beyond noise and by at least MinEffect
	VerdictNoChange Verdict = "no significant change" // the difference is within noise, or too small to matter
	VerdictNoData   Verdict = "no data"               // one run (or both) has nothing to measure
)

// Change is one metric of two runs side by side.
type Change struct {
	Metric string    // e.g. "step.create.p50", "gap.p99", "journey.p99", "lag.p99", "window.missed", "errors"
	Kind   ValueKind // KindDuration (values in ns) or KindShare (values are fractions)
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
	// (see Compare). Both are 0 when Verdict is VerdictNoData.
	Low, High float64
	Verdict   Verdict
	// Confidence and MinEffect are the options the verdict was reached with (the same in every
	// Change of one Compare), so that a rendering can state them.
	Confidence, MinEffect float64
}

// CompareOptions tune Compare. The zero value asks for the defaults.
type CompareOptions struct {
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

// DefaultComparePercentiles are the percentiles Compare uses when none are given.
var DefaultComparePercentiles = []float64{50, 90, 99}

// withDefaults returns the options with every unset field at its default.
func (o CompareOptions) withDefaults() CompareOptions {
	if len(o.Percentiles) == 0 {
		o.Percentiles = DefaultComparePercentiles
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
	// For durations: the runs' samples and the percentile.
	base, new *bootDist
	p         float64
	// For shares: n of total in each run.
	bn, bt, nn, nt int64
}

// Compare puts two runs' metrics side by side: every step measured in either run (step.<name>),
// gap, journey and lag, each at every percentile, then the shares window.missed (missed of the
// journeys judged against the window) and errors (failed of the journeys that ended). Lower is
// better for all of them. A nil Metrics has no data.
//
// Each Change carries an interval for the difference New − Base that accounts for sampling noise,
// and a verdict: "worse" when the interval lies above 0 and New exceeds Base by at least
// MinEffect (relative), "better" when it lies below 0 and New is lower by at least MinEffect,
// "no significant change" otherwise, and "no data" when either run has nothing to measure (an
// empty histogram, a share of nobody). A step that neither run measured is left out.
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
//   - Percentiles: a bootstrap from the histograms. A histogram is the run's sample, each value
//     known to within its bucket (0.1 %), so resampling n values with replacement from it is
//     resampling the sample. The percentile of such a resample is its r-th smallest value, with
//     r the rank HdrHistogram uses (p/100 · n rounded, between 1 and n). Drawing the n values is
//     not needed: the r-th smallest of n uniform variates has a Beta(r, n−r+1) distribution, and
//     the sample's quantile function (a binary search over the cumulative bucket counts) maps it
//     onto the r-th smallest resampled value. So one Beta variate gives one resampled
//     percentile, distributed exactly as if n values had been drawn, whatever n is: no cap on
//     the resample size, no approximation, and a million-sample histogram costs what a small
//     one does. The two runs are independent samples; each bootstrap replicate draws a
//     resampled percentile from each and takes their difference, and the interval is the
//     percentile interval of those differences (their α/2 and 1 − α/2 quantiles at the
//     per-comparison α). Measured on log-normal samples (σ 0.58, the simulator's spread; 400
//     pairs each), a 95 % interval covered the true difference in 92–97 % of the pairs at p50,
//     p90 and p99, with 200 and with 2,000 samples. An extreme percentile is only as good as the
//     sample's tail, though: with 2,000 samples p99 rests on the 20 largest.
//
//   - Shares: Newcombe's hybrid score interval for a difference of two independent binomial
//     proportions (Wilson score intervals of each share, combined), at the same adjusted level.
//     Unlike the plain normal (Wald) interval it behaves at 0 of 1,000 and for small counts.
//
// Resampling uses math/rand/v2's PCG seeded with o.Seed and the metric's name, so a metric's
// interval depends on the data, the options and the number of comparisons, not on the order of
// the others. The cost does not depend on the number of samples: about 3 × 10⁴ resamples per
// comparison with the defaults, some 0.1 s of CPU for a whole comparison, spread over GOMAXPROCS.
func Compare(base, new *Metrics, o CompareOptions) []Change {
	o = o.withDefaults()
	if base == nil {
		base = &Metrics{}
	}
	if new == nil {
		new = &Metrics{}
	}
	var percentiles []float64
	for _, p := range o.Percentiles {
		if p = min(max(p, 0), 100); !slices.Contains(percentiles, p) {
			percentiles = append(percentiles, p)
		}
	}
	var cs []*comparison
	hist := func(name string, b, n *hdrhistogram.Histogram) {
		bd, nd := newBootDist(b), newBootDist(n)
		for _, p := range percentiles {
			cs = append(cs, &comparison{
				c:    Change{Metric: name + ".p" + trimFloat(p), Kind: KindDuration, BaseN: bd.n, NewN: nd.n},
				base: bd, new: nd, p: p,
			})
		}
	}
	for s := range sample.NumSteps {
		b, n := base.Steps[s], new.Steps[s]
		if countOf(b) == 0 && countOf(n) == 0 {
			continue // not measured by these journeys
		}
		hist("step."+s.String(), b, n)
	}
	for _, name := range []string{"gap", "journey", "lag"} {
		hist(name, histograms[name](base), histograms[name](new))
	}
	for _, name := range []string{"window.missed", "errors"} {
		bn, bt := shares[name](base)
		nn, nt := shares[name](new)
		bn, nn = min(max(bn, 0), bt), min(max(nn, 0), nt) // a share is of its population
		cs = append(cs, &comparison{
			c:  Change{Metric: name, Kind: KindShare, BaseN: max(bt, 0), NewN: max(nt, 0)},
			bn: bn, bt: bt, nn: nn, nt: nt,
		})
	}

	k := 0
	for _, c := range cs {
		if c.c.BaseN > 0 && c.c.NewN > 0 {
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
func (c *comparison) run(o CompareOptions, alpha float64, resamples int, diffs []float64) (Change, []float64) {
	ch := c.c
	ch.Confidence, ch.MinEffect, ch.Verdict = o.Confidence, o.MinEffect, VerdictNoData
	both := ch.BaseN > 0 && ch.NewN > 0
	if ch.Kind == KindDuration {
		if ch.BaseN > 0 {
			ch.Base = float64(c.base.value(c.base.rank(c.p)))
		}
		if ch.NewN > 0 {
			ch.New = float64(c.new.value(c.new.rank(c.p)))
		}
		if both {
			rng := rand.New(rand.NewPCG(o.Seed, metricSeed(ch.Metric)))
			diffs = bootstrapDiffs(diffs[:0], rng, c.base, c.new, c.p, resamples)
			ch.Low, ch.High = percentileInterval(diffs, alpha)
		}
	} else {
		if ch.BaseN > 0 {
			ch.Base = float64(c.bn) / float64(c.bt)
		}
		if ch.NewN > 0 {
			ch.New = float64(c.nn) / float64(c.nt)
		}
		if both {
			ch.Low, ch.High = newcombeInterval(c.bn, c.bt, c.nn, c.nt, zFor(alpha))
		}
	}
	if both {
		ch.Abs = ch.New - ch.Base
		ch.Rel = relChange(ch.Base, ch.New)
		ch.Verdict = verdictOf(ch.Low, ch.High, ch.Rel, o.MinEffect)
	}
	return ch, diffs
}

// relChange returns (new − base)/base, with a zero base giving +Inf for a rise and 0 otherwise.
func relChange(base, new float64) float64 {
	if base == 0 {
		if new > 0 {
			return math.Inf(1)
		}
		return 0
	}
	return (new - base) / base
}

// verdictOf decides a verdict from the interval of the difference and the relative change.
func verdictOf(low, high, rel, minEffect float64) Verdict {
	switch {
	case low > 0 && rel >= minEffect:
		return VerdictWorse
	case high < 0 && -rel >= minEffect:
		return VerdictBetter
	}
	return VerdictNoChange
}

// metricSeed derives a metric's resampling stream from its name.
func metricSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

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
	d := &bootDist{n: countOf(h)}
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

// rank returns the 1-based rank of percentile p among n values, as HdrHistogram computes it.
func (d *bootDist) rank(p float64) int64 {
	r := p/100*float64(d.n) + 0.5
	switch {
	case !(r >= 1):
		return 1
	case r >= float64(d.n):
		return d.n
	}
	return int64(r)
}

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

// bootstrapDiffs appends resamples differences new − base of percentile p, sorted.
func bootstrapDiffs(diffs []float64, r *rand.Rand, base, new *bootDist, p float64, resamples int) []float64 {
	bk, nk := base.rank(p), new.rank(p)
	for range resamples {
		diffs = append(diffs, float64(new.draw(r, nk)-base.draw(r, bk)))
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

// wilsonInterval returns the Wilson score interval of the proportion x/n.
func wilsonInterval(x, n int64, z float64) (low, high float64) {
	p, fn := float64(x)/float64(n), float64(n)
	z2 := z * z
	den := 1 + z2/fn
	center := (p + z2/(2*fn)) / den
	half := z * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn)) / den
	return max(center-half, 0), min(center+half, 1)
}

// newcombeInterval returns Newcombe's hybrid score interval of nx/nt − bx/bt (his method 10).
func newcombeInterval(bx, bt, nx, nt int64, z float64) (low, high float64) {
	pb, pn := float64(bx)/float64(bt), float64(nx)/float64(nt)
	lb, ub := wilsonInterval(bx, bt, z)
	ln, un := wilsonInterval(nx, nt, z)
	d := pn - pb
	return d - math.Hypot(pn-ln, ub-pb), d + math.Hypot(un-pn, pb-lb)
}

// Regressed reports whether metric (a Change's Metric, e.g. "step.create.p99") got significantly
// worse by more than pct percent: its verdict is worse and Rel > pct/100. A metric without data
// has not regressed. The error names the known metrics when metric is not among cs.
func Regressed(cs []Change, metric string, pct float64) (bool, error) {
	for _, c := range cs {
		if c.Metric == metric {
			return c.Verdict == VerdictWorse && c.Rel > pct/100, nil
		}
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Metric
	}
	return false, fmt.Errorf("unknown metric %q: the compared metrics are %s", metric, strings.Join(names, ", "))
}

// compareRow is a Change rendered for a table.
type compareRow struct {
	Metric, Base, New, Abs, Rel, Interval string
	Verdict                               Verdict
	Class                                 string // for HTML: worse, better, same, nodata
}

// compareTable is what both renderings of a comparison show.
type compareTable struct {
	Base, New string // the runs' names
	Rows      []compareRow
	Level     string // the header of the interval column, e.g. "95% CI"
	Notes     []string
	Counts    string
}

// fmtSigned renders a difference with its sign.
func fmtSigned(kind ValueKind, v float64) string {
	var s string
	if kind == KindShare {
		s = strconv.FormatFloat(100*v, 'f', 2, 64) + "pp"
		if s == "-0.00pp" {
			s = "0.00pp"
		}
	} else {
		s = fmtDur(time.Duration(math.Round(v)))
	}
	if !strings.HasPrefix(s, "-") && strings.Trim(s, "0.p") != "" {
		s = "+" + s
	}
	return s
}

// fmtValue renders a metric's value: a duration, or a share as a percentage.
func fmtValue(kind ValueKind, v float64) string {
	if kind == KindShare {
		return strconv.FormatFloat(100*v, 'f', 2, 64) + "%"
	}
	return fmtDur(time.Duration(math.Round(v)))
}

// fmtRel renders a relative change as a signed percentage, "n/a" when it has no finite value.
func fmtRel(rel float64) string {
	if math.IsInf(rel, 0) || math.IsNaN(rel) {
		return "n/a"
	}
	s := strconv.FormatFloat(100*rel, 'f', 1, 64)
	switch {
	case s == "0.0" || s == "-0.0":
		return "0.0%"
	case !strings.HasPrefix(s, "-"):
		s = "+" + s
	}
	return s + "%"
}

// newCompareTable renders cs.
func newCompareTable(baseName, newName string, cs []Change) compareTable {
	t := compareTable{Base: baseName, New: newName, Level: "CI"}
	k := 0
	tally := map[Verdict]int{}
	var conf, minEffect float64
	for _, c := range cs {
		tally[c.Verdict]++
		if c.Verdict != VerdictNoData {
			k++
			conf, minEffect = c.Confidence, c.MinEffect
		}
	}
	for _, c := range cs {
		r := compareRow{Metric: c.Metric, Base: "-", New: "-", Abs: "-", Rel: "-", Interval: "-", Verdict: c.Verdict}
		if c.BaseN > 0 {
			r.Base = fmtValue(c.Kind, c.Base)
		}
		if c.NewN > 0 {
			r.New = fmtValue(c.Kind, c.New)
		}
		if c.Verdict != VerdictNoData {
			r.Abs, r.Rel = fmtSigned(c.Kind, c.Abs), fmtRel(c.Rel)
			r.Interval = "[" + fmtSigned(c.Kind, c.Low) + ", " + fmtSigned(c.Kind, c.High) + "]"
		}
		switch c.Verdict {
		case VerdictWorse:
			r.Class = "worse"
		case VerdictBetter:
			r.Class = "better"
		case VerdictNoChange:
			r.Class = "same"
		default:
			r.Class = "nodata"
		}
		t.Rows = append(t.Rows, r)
	}
	t.Counts = fmt.Sprintf("%d worse, %d better, %d no significant change, %d no data",
		tally[VerdictWorse], tally[VerdictBetter], tally[VerdictNoChange], tally[VerdictNoData])
	if k > 0 {
		t.Level = trimFloat(100*conf) + "% CI"
		each := 100 * (1 - (1-conf)/float64(k))
		t.Notes = []string{
			"Lower is better for every metric. Durations are percentiles of each run's histogram; window.missed " +
				"is the share of judged journeys that missed the window, errors the share of ended journeys that failed.",
			fmt.Sprintf("%s: interval of new − base. The %d intervals hold together with %s%% confidence (each is at "+
				"%s%%, Bonferroni): percentiles by bootstrap from the histograms, shares by Newcombe's score interval.",
				t.Level, k, trimFloat(100*conf), trimFloat(each)),
			fmt.Sprintf("Better or worse: the interval excludes 0 and the change is at least %s%% of base; "+
				"otherwise no significant change.", trimFloat(100*minEffect)),
		}
	}
	return t
}

// WriteCompareText renders cs as an aligned table — metric, base, new, change (absolute and
// relative), the interval of the difference, verdict — under a line naming the runs, followed by
// the tally of verdicts and notes on the method. Durations read like the summary's (912ms),
// shares as percentages, their changes in percentage points (pp); a relative change from 0 reads
// "n/a", and a row without data "-".
func WriteCompareText(w io.Writer, baseName, newName string, cs []Change) error {
	t := newCompareTable(baseName, newName, cs)
	var b strings.Builder
	fmt.Fprintf(&b, "lpbench compare: base %s, new %s\n\n", t.Base, t.New)
	width := len("metric")
	for _, r := range t.Rows {
		width = max(width, len(r.Metric))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Names are padded so that the right-aligning tabwriter leaves them aligned left; the verdict
	// follows the last tab, so it is left-aligned too.
	fmt.Fprintf(tw, "%-*s\tbase\tnew\tchange\t%%\t%s\t  verdict\n", width, "metric", t.Level)
	for _, r := range t.Rows {
		fmt.Fprintf(tw, "%-*s\t%s\t%s\t%s\t%s\t%s\t  %s\n", width, r.Metric, r.Base, r.New, r.Abs, r.Rel, r.Interval, r.Verdict)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n%s\n", t.Counts)
	for _, n := range t.Notes {
		wrapText(&b, n, 100)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrapText writes s to b in lines of at most width runes, broken at spaces.
func wrapText(b *strings.Builder, s string, width int) {
	line := 0
	for i, word := range strings.Fields(s) {
		n := utf8.RuneCountInString(word)
		if i > 0 && line+1+n > width {
			b.WriteString("\n")
			line = 0
		} else if i > 0 {
			b.WriteString(" ")
			line++
		}
		b.WriteString(word)
		line += n
	}
	b.WriteString("\n")
}

// compareHTML is a page that needs nothing from outside: inline style, no script.
var compareHTML = template.Must(template.New("compare").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>lpbench compare: {{.Base}} → {{.New}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25em 0.75em; border-bottom: 1px solid #ddd; }
th { text-align: right; background: #f4f4f4; }
td { text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th:last-child, td:last-child { text-align: left; }
tr.worse { background: #fde2e1; }
tr.worse td:last-child { color: #a40e0e; font-weight: bold; }
tr.better { background: #e3f6e3; }
tr.better td:last-child { color: #176117; }
tr.nodata { color: #888; }
p.counts { font-weight: bold; }
p.note { color: #555; max-width: 60em; }
</style>
</head>
<body>
<h1>lpbench compare</h1>
<p>base <code>{{.Base}}</code>, new <code>{{.New}}</code></p>
<table>
<thead><tr><th>metric</th><th>base</th><th>new</th><th>change</th><th>%</th><th>{{.Level}}</th><th>verdict</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr class="{{.Class}}"><td>{{.Metric}}</td><td>{{.Base}}</td><td>{{.New}}</td><td>{{.Abs}}</td><td>{{.Rel}}</td><td>{{.Interval}}</td><td>{{.Verdict}}</td></tr>
{{- end}}
</tbody>
</table>
<p class="counts">{{.Counts}}</p>
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
</body>
</html>
`))

// WriteCompareHTML renders cs as a self-contained HTML page — inline style, no script, nothing
// fetched (its Content-Security-Policy forbids it) — with the table and notes of
// WriteCompareText; rows that got worse are marked (class "worse", red), better ones green. The
// page is rendered into memory first, so a failure leaves w untouched.
func WriteCompareHTML(w io.Writer, baseName, newName string, cs []Change) error {
	var b bytes.Buffer
	if err := compareHTML.Execute(&b, newCompareTable(baseName, newName, cs)); err != nil {
		return fmt.Errorf("compare html: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}
