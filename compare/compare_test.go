package compare

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/compare/comparetest"
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// changeOf returns the change of metric, failing the test when there is none.
func changeOf(t *testing.T, cs []Change, metric string) Change {
	t.Helper()
	for _, c := range cs {
		if c.Metric == metric {
			return c
		}
	}
	t.Fatalf("no change for %s", metric)
	return Change{}
}

// significant reports whether c is better or worse.
func significant(c Change) bool {
	return c.Direction == DirectionBetter || c.Direction == DirectionWorse
}

func TestCompareCreateShift(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		scale float64
		want  Direction
	}{
		// Create 20 % slower: worse at every percentile.
		{"create ×1.2", 1.2, DirectionWorse},
		// Create 20 % faster: better at every percentile.
		{"create ×0.8", 0.8, DirectionBetter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := Runs(comparetest.Metrics(1, 2000, 1), comparetest.Metrics(2, 2000, tt.scale), Options{Seed: 1})
			for _, p := range []string{"p50", "p90", "p99"} {
				c := changeOf(t, cs, "step.create."+p)
				if c.Direction != tt.want {
					t.Errorf("step.create.%s: %s (%s → %s, interval [%s, %s]), want %s", p, c.Direction,
						report.FormatDuration(time.Duration(c.Base)), report.FormatDuration(time.Duration(c.New)),
						report.FormatDuration(time.Duration(c.Low)), report.FormatDuration(time.Duration(c.High)), tt.want)
				}
				if got := c.Rel; math.Abs(got-(tt.scale-1)) > 0.07 {
					t.Errorf("step.create.%s: Rel %.3f, want about %.1f", p, got, tt.scale-1)
				}
				if !(c.Low <= c.Abs && c.Abs <= c.High) {
					t.Errorf("step.create.%s: Abs %g outside its interval [%g, %g]", p, c.Abs, c.Low, c.High)
				}
			}
			// Nothing else changed.
			for _, c := range cs {
				skip := c.Metric == "served" || strings.HasPrefix(c.Metric, "lag.") // no data; never judged
				if !strings.HasPrefix(c.Metric, "step.create.") && !skip && c.Direction != DirectionNone {
					t.Errorf("%s: %s, want %s", c.Metric, c.Direction, DirectionNone)
				}
			}
		})
	}
}

func TestCompareSameConfiguration(t *testing.T) {
	t.Parallel()
	// Five pairs of runs of one configuration (different seeds): at p50, no step may change
	// significantly in at least 4 of the 5 pairs.
	clean := 0
	for pair := range uint64(5) {
		cs := Runs(comparetest.Metrics(100+2*pair, 2000, 1), comparetest.Metrics(101+2*pair, 2000, 1), Options{Seed: pair})
		var flagged []string
		steps := 0
		for _, c := range cs {
			if strings.HasPrefix(c.Metric, "step.") && strings.HasSuffix(c.Metric, ".p50") {
				steps++
				if significant(c) {
					flagged = append(flagged, c.Metric+" "+string(c.Direction))
				}
			}
		}
		if steps != len(comparetest.Medians) {
			t.Fatalf("pair %d: %d steps compared at p50, want %d", pair, steps, len(comparetest.Medians))
		}
		// Per pair: the Bonferroni adjustment keeps even one false verdict rare, so more than one
		// in a pair means the intervals are too narrow.
		if len(flagged) > 1 {
			t.Errorf("pair %d: %d steps changed significantly at p50: %v", pair, len(flagged), flagged)
		}
		if len(flagged) == 0 {
			clean++
		}
	}
	if clean < 4 {
		t.Errorf("%d of 5 pairs without a significant change at p50, want at least 4", clean)
	}
}

func TestCompareCalibration(t *testing.T) {
	t.Parallel()
	// One comparison (no adjustment): over many pairs the 95 % interval must cover the true
	// difference of the medians about 95 % of the time — neither much less (too narrow: false
	// verdicts) nor nearly always (too wide: no power).
	const trials, n = 200, 500
	tests := []struct {
		name  string
		scale float64
	}{
		// Same distribution: the true difference is 0.
		{"no shift", 1},
		// New 10 % slower: the true difference is 10 % of the median.
		{"10% shift", 1.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			med := comparetest.Medians[sample.Create]
			truth := float64(med) * (tt.scale - 1)
			covered := 0
			base, newer := report.NewMetrics(), report.NewMetrics()
			for i := range uint64(trials) {
				r := rand.New(rand.NewPCG(i, 42))
				base.Steps[sample.Create].Reset()
				newer.Steps[sample.Create].Reset()
				comparetest.LogNormal(base.Steps[sample.Create], r, n, med, comparetest.Sigma)
				comparetest.LogNormal(newer.Steps[sample.Create], r, n, time.Duration(float64(med)*tt.scale), comparetest.Sigma)
				cs := Runs(base, newer, Options{Percentiles: []float64{50}, Seed: i})
				c := changeOf(t, cs, "step.create.p50")
				// Bucket rounding (0.1 %) is far below the noise; allow it anyway.
				if slack := 0.002 * float64(med); c.Low-slack <= truth && truth <= c.High+slack {
					covered++
				}
			}
			if got := float64(covered) / trials; got < 0.89 || got > 0.99 {
				t.Errorf("coverage %.3f over %d trials, want about 0.95", got, trials)
			}
		})
	}
}

func TestBootDistDrawIsResampling(t *testing.T) {
	t.Parallel()
	// The order-statistic shortcut must give the distribution that resampling n values and
	// taking their percentile gives.
	h := hdr.New()
	r := rand.New(rand.NewPCG(7, 7))
	const n = 301
	comparetest.LogNormal(h, r, n, 50*time.Millisecond, 0.5)
	d := newBootDist(h)
	if d.n != n {
		t.Fatalf("n = %d, want %d", d.n, n)
	}
	for _, p := range []float64{50, 90, 99} {
		rank := d.rank(p)
		if got, want := d.value(rank), h.ValueAtQuantile(p); got != want {
			t.Errorf("p%g: value %d, HdrHistogram says %d", p, got, want)
		}
		const resamples = 4000
		shortcut, naive := make([]float64, resamples), make([]float64, resamples)
		sorted := make([]int64, n)
		for i := range resamples {
			shortcut[i] = float64(d.draw(r, rank))
			for j := range sorted {
				sorted[j] = d.at(r.Int64N(n))
			}
			slices.Sort(sorted)
			naive[i] = float64(sorted[rank-1])
		}
		slices.Sort(shortcut)
		slices.Sort(naive)
		for _, q := range []float64{0.05, 0.25, 0.5, 0.75, 0.95} {
			i := int(q * resamples)
			if got, want := shortcut[i], naive[i]; math.Abs(got-want) > 0.03*want {
				t.Errorf("p%g: quantile %g of the resampled percentile %s, resampling gives %s", p, q,
					report.FormatDuration(time.Duration(got)), report.FormatDuration(time.Duration(want)))
			}
		}
	}
}

func TestCompareShares(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		metric      string
		base, newer *report.Metrics
		want        Direction
	}{
		// None missed, then 5 %: worse.
		{"missed 0 → 50 of 1000", "window.missed", comparetest.Shares(0, 1000, 0, 1000), comparetest.Shares(50, 1000, 0, 1000), DirectionWorse},
		// 1 % then 1.1 %: well within noise.
		{"missed 10 → 11 of 1000", "window.missed", comparetest.Shares(10, 1000, 0, 1000), comparetest.Shares(11, 1000, 0, 1000), DirectionNone},
		// 5 % then none: better.
		{"missed 50 → 0 of 1000", "window.missed", comparetest.Shares(50, 1000, 0, 1000), comparetest.Shares(0, 1000, 0, 1000), DirectionBetter},
		// Errors, the share of ended journeys that failed: 0 then 3 %.
		{"errors 0 → 30 of 1000", "errors", comparetest.Shares(0, 1000, 0, 1000), comparetest.Shares(0, 1000, 30, 1000), DirectionWorse},
		// Equal shares of different populations.
		{"errors 5 of 1000 → 10 of 2000", "errors", comparetest.Shares(0, 1000, 5, 1000), comparetest.Shares(0, 2000, 10, 2000), DirectionNone},
		// Nothing at all in both: no difference, not no data.
		{"missed 0 → 0 of 1000", "window.missed", comparetest.Shares(0, 1000, 0, 1000), comparetest.Shares(0, 1000, 0, 1000), DirectionNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := changeOf(t, Runs(tt.base, tt.newer, Options{}), tt.metric)
			if c.Direction != tt.want {
				t.Errorf("%s: %s (%g → %g, interval [%g, %g]), want %s", tt.metric, c.Direction, c.Base, c.New, c.Low, c.High, tt.want)
			}
			if c.Kind != report.KindShare {
				t.Errorf("Kind %v, want %v", c.Kind, report.KindShare)
			}
			if !(c.Low <= c.Abs && c.Abs <= c.High) || c.Low < -1 || c.High > 1 {
				t.Errorf("interval [%g, %g] of a difference of shares %g", c.Low, c.High, c.Abs)
			}
		})
	}
}

func TestCompareNoData(t *testing.T) {
	t.Parallel()
	base := comparetest.Metrics(1, 500, 1)
	newer := comparetest.Metrics(2, 500, 1)
	newer.Steps[sample.Create] = hdr.New() // create not measured in new
	base.Gap, newer.Gap = hdr.New(), hdr.New()
	newer.Lag = nil // e.g. read from a file without it
	newer.Verdicts = [sample.NumVerdicts]int64{}
	cs := Runs(base, newer, Options{})

	tests := []struct {
		metric       string
		baseN, newN  bool // whether the side has data
		wantNoData   bool
		wantNotFound bool
	}{
		// Measured in base only.
		{metric: "step.create.p50", baseN: true, wantNoData: true},
		// Empty in both: still listed, as no data.
		{metric: "gap.p99", wantNoData: true},
		// A nil histogram is empty.
		{metric: "lag.p90", baseN: true, wantNoData: true},
		// Nobody judged in new.
		{metric: "window.missed", baseN: true, wantNoData: true},
		// Measured in both.
		{metric: "step.send.p50", baseN: true, newN: true},
		// A step neither run measured is left out.
		{metric: "step.automsg.p50", wantNotFound: true},
	}
	for _, tt := range tests {
		i := slices.IndexFunc(cs, func(c Change) bool { return c.Metric == tt.metric })
		if tt.wantNotFound {
			if i >= 0 {
				t.Errorf("%s compared, want it left out", tt.metric)
			}
			continue
		}
		if i < 0 {
			t.Errorf("%s not compared", tt.metric)
			continue
		}
		c := cs[i]
		if got := c.Direction == DirectionNoData; got != tt.wantNoData {
			t.Errorf("%s: verdict %s, want no data %v", tt.metric, c.Direction, tt.wantNoData)
		}
		if (c.BaseN > 0) != tt.baseN || (c.NewN > 0) != tt.newN {
			t.Errorf("%s: BaseN %d, NewN %d; want data in base %v, in new %v", tt.metric, c.BaseN, c.NewN, tt.baseN, tt.newN)
		}
		if c.Kind == report.KindDuration && ((c.Base > 0) != tt.baseN || (c.New > 0) != tt.newN) {
			t.Errorf("%s: Base %g, New %g; want values where there is data", tt.metric, c.Base, c.New)
		}
		if tt.wantNoData && (c.Abs != 0 || c.Rel != 0 || c.Low != 0 || c.High != 0) {
			t.Errorf("%s: no data but Abs %g, Rel %g, interval [%g, %g]", tt.metric, c.Abs, c.Rel, c.Low, c.High)
		}
	}

	// Nil metrics: no step, every other metric without data.
	for _, c := range Runs(nil, nil, Options{}) {
		if strings.HasPrefix(c.Metric, "step.") || c.Direction != DirectionNoData {
			t.Errorf("nil metrics: %s %s, want no steps and no data", c.Metric, c.Direction)
		}
	}
}

func TestCompareOptions(t *testing.T) {
	t.Parallel()
	// Large samples, create 1 % slower with little spread: significant, but below MinEffect.
	r := rand.New(rand.NewPCG(3, 3))
	base, newer := report.NewMetrics(), report.NewMetrics()
	comparetest.LogNormal(base.Steps[sample.Create], r, 100_000, 90*time.Millisecond, 0.1)
	comparetest.LogNormal(newer.Steps[sample.Create], r, 100_000, 91*time.Millisecond, 0.1)

	tests := []struct {
		name    string
		o       Options
		metrics []string  // every metric compared, in order
		want    Direction // of step.create.p50
	}{
		// Defaults: p50, p90, p99; a 1 % change is below the 2 % minimum effect.
		{"defaults", Options{},
			[]string{"step.create.p50", "step.create.p90", "step.create.p99", "gap.p50", "gap.p90", "gap.p99",
				"journey.p50", "journey.p90", "journey.p99", "served", "window.not_in", "window.missed", "errors", "lag.p50", "lag.p90", "lag.p99"},
			DirectionNone},
		// No minimum effect: the difference is far beyond noise at this n.
		{"no minimum effect", Options{Percentiles: []float64{50, 99.9}, MinEffect: -1},
			[]string{"step.create.p50", "step.create.p99.9", "gap.p50", "gap.p99.9", "journey.p50", "journey.p99.9",
				"served", "window.not_in", "window.missed", "errors", "lag.p50", "lag.p99.9"},
			DirectionWorse},
		// A minimum effect above the change.
		{"minimum effect 5%", Options{Percentiles: []float64{50}, MinEffect: 0.05},
			[]string{"step.create.p50", "gap.p50", "journey.p50", "served", "window.not_in", "window.missed", "errors", "lag.p50"},
			DirectionNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := Runs(base, newer, tt.o)
			var names []string
			for _, c := range cs {
				names = append(names, c.Metric)
			}
			if !slices.Equal(names, tt.metrics) {
				t.Errorf("metrics %v, want %v", names, tt.metrics)
			}
			c := changeOf(t, cs, "step.create.p50")
			if c.Direction != tt.want {
				t.Errorf("step.create.p50: %s (Rel %.4f, interval [%g, %g]), want %s", c.Direction, c.Rel, c.Low, c.High, tt.want)
			}
			if c.Low <= 0 {
				t.Errorf("step.create.p50: interval [%g, %g] includes 0; the test's difference should be significant", c.Low, c.High)
			}
			wantMin := max(tt.o.MinEffect, 0)
			if tt.o.MinEffect == 0 {
				wantMin = 0.02
			}
			if c.Confidence != 0.95 || c.MinEffect != wantMin {
				t.Errorf("Confidence %g, MinEffect %g; want 0.95, %g", c.Confidence, c.MinEffect, wantMin)
			}
		})
	}
}

func TestCompareAdjustsForComparisons(t *testing.T) {
	t.Parallel()
	base, newer := comparetest.Metrics(5, 2000, 1), comparetest.Metrics(6, 2000, 1.05)
	width := func(o Options) float64 {
		c := changeOf(t, Runs(base, newer, o), "step.create.p50")
		return c.High - c.Low
	}
	one := width(Options{Percentiles: []float64{50}, Seed: 1})
	three := width(Options{Seed: 1})
	if !(three > one) {
		t.Errorf("interval width %g with 3 percentiles, %g with 1: more comparisons must widen each interval", three, one)
	}
	if loose := width(Options{Percentiles: []float64{50}, Seed: 1, Confidence: 0.5}); !(loose < one) {
		t.Errorf("interval width %g at 50%%, %g at 95%%", loose, one)
	}
}

func TestCompareDeterministic(t *testing.T) {
	t.Parallel()
	base, newer := comparetest.Metrics(1, 1000, 1), comparetest.Metrics(2, 1000, 1.2)
	o := Options{Seed: 9, Resamples: 200}
	a := Runs(base, newer, o)
	if b := Runs(base, newer, o); !reflect.DeepEqual(a, b) {
		t.Error("two compares with one seed differ")
	}
	other := Runs(base, newer, Options{Seed: 10, Resamples: 200})
	differ := false
	for i := range a {
		differ = differ || a[i].Low != other[i].Low || a[i].High != other[i].High
	}
	if !differ {
		t.Error("compares with different seeds have the same intervals: the seed is not used")
	}
	// Swapping the runs mirrors the change.
	for i, c := range Runs(newer, base, o) {
		want := a[i].Direction
		switch want {
		case DirectionWorse:
			want = DirectionBetter
		case DirectionBetter:
			want = DirectionWorse
		}
		if c.Direction != want || c.Abs != -a[i].Abs {
			t.Errorf("%s swapped: %s, Abs %g; want %s, %g", c.Metric, c.Direction, c.Abs, want, -a[i].Abs)
		}
	}
}

func TestRelChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, newer float64
		want        float64
		text        string
	}{
		{100, 120, 0.2, "+20.0%"},           // a rise
		{100, 80, -0.2, "-20.0%"},           // a fall
		{100, 100, 0, "0.0%"},               // no change
		{0, 0.05, math.Inf(1), "n/a"},       // from nothing: no finite ratio
		{0, 0, 0, "0.0%"},                   // nothing in both
		{100, 100.00001, 0.0000001, "0.0%"}, // rounds to zero, unsigned
		{100, 99.99999, -0.0000001, "0.0%"}, // same from below
		{200, 500, 1.5, "+150.0%"},          // more than double
		{1e9, 1.0006e9, 0.0006, "+0.1%"},    // one decimal
	}
	for _, tt := range tests {
		got := relChange(tt.base, tt.newer)
		if math.Abs(got-tt.want) > 1e-12 && !(math.IsInf(got, 1) && math.IsInf(tt.want, 1)) {
			t.Errorf("relChange(%g, %g) = %g, want %g", tt.base, tt.newer, got, tt.want)
		}
		if s := report.FormatRel(got); s != tt.text {
			t.Errorf("report.FormatRel(%g) = %q, want %q", got, s, tt.text)
		}
	}
}

func TestRegressed(t *testing.T) {
	t.Parallel()
	base, newer := comparetest.Metrics(1, 2000, 1), comparetest.Metrics(2, 2000, 1.2)
	newer.Steps[sample.Send] = hdr.New()
	cs := Runs(base, newer, Options{Seed: 1})
	tests := []struct {
		name    string
		metric  string
		pct     float64
		want    bool
		wantErr string // a substring of the error; "" for none
	}{
		// Worse by about 20 %, more than 10 %.
		{"worse beyond pct", "step.create.p50", 10, true, ""},
		// Worse, but not by more than 30 %.
		{"worse within pct", "step.create.p99", 30, false, ""},
		// Worse at any positive size.
		{"worse, pct 0", "step.create.p90", 0, true, ""},
		// No significant change is no regression, whatever pct.
		{"no significant change", "step.lookup.p50", -100, false, ""},
		// Without data, nothing regressed.
		{"no data", "step.send.p99", 0, false, ""},
		// A metric that was not compared: the error lists those that were.
		{"unknown metric", "step.create.p95", 10, false, "step.create.p95"},
		{"unknown metric lists known", "gap", 10, false, "gap.p50, gap.p90, gap.p99"},
	}
	for _, tt := range tests {
		got, err := Regressed(cs, tt.metric, tt.pct)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "window.missed") {
				t.Errorf("%s: error %v, want one naming %q and the compared metrics", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: Regressed(%s, %g) = %v, %v; want %v", tt.name, tt.metric, tt.pct, got, err, tt.want)
		}
	}
}

// BenchmarkCompare compares two runs of a million journeys each: six steps, gap, journey and lag
// at three percentiles, and the two shares.
func BenchmarkCompare(b *testing.B) {
	base, newer := comparetest.Metrics(1, 1_000_000, 1), comparetest.Metrics(2, 1_000_000, 1.2)
	for b.Loop() {
		Runs(base, newer, Options{Seed: 1})
	}
}
