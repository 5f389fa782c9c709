package compare

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lpbench/lpbench/compare/comparetest"
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// TestCompareBlocksDrift: two runs of one configuration whose latency drifts slowly from second
// to second (as a target's state does). Their medians differ by the drift's chance, far more
// than single requests' noise: resampling single requests calls the difference significant,
// resampling the runs' seconds in blocks does not.
func TestCompareBlocksDrift(t *testing.T) {
	t.Parallel()
	base := comparetest.SeriesRun{Seed: 1, Secs: 120, PerSec: 50, Phi: 0.9, Drift: 0.3, Scale: 1}.Metrics()
	newer := comparetest.SeriesRun{Seed: 2, Secs: 120, PerSec: 50, Phi: 0.9, Drift: 0.3, Scale: 1}.Metrics()
	perRequest := changeOf(t, Runs(comparetest.WithoutSeries(base), comparetest.WithoutSeries(newer), Options{Seed: 1}), "step.create.p50")
	if !significant(perRequest) || perRequest.BaseBlock != 0 {
		t.Fatalf("single requests resampled: %s (rel %+.1f%%, interval [%s, %s], blocks %d s): the test's drift no longer fools them",
			perRequest.Direction, 100*perRequest.Rel, report.FormatDuration(time.Duration(perRequest.Low)), report.FormatDuration(time.Duration(perRequest.High)), perRequest.BaseBlock)
	}
	cs := Runs(base, newer, Options{Seed: 1})
	for _, c := range cs {
		if significant(c) {
			t.Errorf("%s: %s (rel %+.1f%%, interval [%g, %g]) between runs of one configuration", c.Metric, c.Direction, 100*c.Rel, c.Low, c.High)
		}
		if c.Kind == report.KindDuration && c.Direction != DirectionNoData && (c.BaseBlock < 2 || c.NewBlock < 2) {
			t.Errorf("%s: blocks of %d and %d s, want the drift to make them longer than 1 s", c.Metric, c.BaseBlock, c.NewBlock)
		}
	}
	block := changeOf(t, cs, "step.create.p50")
	if w, w1 := block.High-block.Low, perRequest.High-perRequest.Low; w < 3*w1 {
		t.Errorf("block interval %g wide, single requests' %g: want the blocks' at least 3 times wider", w, w1)
	}
}

// TestCompareBlocksShift: a clear shift of CONVERSATION stays worse when whole seconds are the
// unit, and nothing else changes; the point estimates are the histograms' own.
func TestCompareBlocksShift(t *testing.T) {
	t.Parallel()
	base := comparetest.SeriesRun{Seed: 3, Secs: 60, PerSec: 40, Scale: 1}.Metrics()
	newer := comparetest.SeriesRun{Seed: 4, Secs: 60, PerSec: 40, Scale: 1.25}.Metrics()
	cs := Runs(base, newer, Options{Seed: 2})
	for _, c := range cs {
		want := DirectionNone
		if c.Metric == "step.create.p50" || c.Metric == "step.create.p90" || c.Metric == "journey.p50" || c.Metric == "journey.p90" {
			want = DirectionWorse
		}
		if c.Metric == "step.create.p99" || c.Metric == "journey.p99" || c.Direction == DirectionNoData {
			continue // p99 rests on 24 values of 2,400: may or may not be called; gap and lag: not measured
		}
		if c.Direction != want {
			t.Errorf("%s: %s (rel %+.1f%%, interval [%g, %g]), want %s", c.Metric, c.Direction, 100*c.Rel, c.Low, c.High, want)
		}
		// window.not_in: a second holds no count of uncertain journeys, so single journeys.
		if c.Direction != DirectionNoData && c.Metric != "window.not_in" && (c.BaseBlock == 0 || c.NewBlock == 0) {
			t.Errorf("%s: not resampled in blocks (%d, %d s)", c.Metric, c.BaseBlock, c.NewBlock)
		}
	}
	c := changeOf(t, cs, "step.create.p50")
	if want := float64(hdr.Percentile(base.Steps[sample.Create], 50)); c.Base != want {
		t.Errorf("base p50 %g, want the histogram's %g", c.Base, want)
	}
}

// TestCompareBlocksCalibration: between runs of one drifting configuration (a five-minute-ish
// run whose latency level wanders with a memory of a few seconds), the interval of the median's
// difference covers 0 about as often as its level says when seconds are resampled in blocks;
// resampling single requests covers it far less often: it is too narrow.
func TestCompareBlocksCalibration(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("80 comparisons of 200-second runs: run without -short and -race")
	}
	t.Parallel()
	const trials = 40
	blocks, single := 0, 0
	covers := func(b, n *report.Metrics, seed uint64) bool {
		c := changeOf(t, Runs(b, n, Options{Percentiles: []float64{50}, Seed: seed}), "step.create.p50")
		return c.Low <= 0 && 0 <= c.High
	}
	for i := range uint64(trials) {
		b := comparetest.SeriesRun{Seed: 1000 + 2*i, Secs: 200, PerSec: 10, Phi: 0.6, Drift: 0.25, Scale: 1}.Metrics()
		n := comparetest.SeriesRun{Seed: 1001 + 2*i, Secs: 200, PerSec: 10, Phi: 0.6, Drift: 0.25, Scale: 1}.Metrics()
		if covers(b, n, i) {
			blocks++
		}
		if covers(comparetest.WithoutSeries(b), comparetest.WithoutSeries(n), i) {
			single++
		}
	}
	// Three comparisons have data (create p50, journey p50, errors; window.missed has none), so
	// each interval is at 98.3 %.
	if got := float64(blocks) / trials; got < 0.88 {
		t.Errorf("blocks: the interval covered 0 in %.2f of %d same-configuration pairs, want about 0.98 (at least 0.88)", got, trials)
	}
	if got := float64(single) / trials; got > 0.7 {
		t.Errorf("single requests: the interval covered 0 in %.2f of %d pairs: the drift no longer shows how they understate the noise", got, trials)
	}
	t.Logf("covered 0: blocks %d of %d, single requests %d of %d", blocks, trials, single, trials)
}

// TestPolitisWhite: no dependence gives blocks of a second; strong dependence long ones.
func TestPolitisWhite(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	iid := make([]float64, 600)
	for i := range iid {
		iid[i] = r.NormFloat64()
	}
	if got := politisWhite(iid).length; got > 2 {
		t.Errorf("independent values: block length %d, want 1 or 2", got)
	}
	ar := make([]float64, 600)
	for i := 1; i < len(ar); i++ {
		ar[i] = 0.9*ar[i-1] + r.NormFloat64()
	}
	if got := politisWhite(ar).length; got < 8 || got > 60 {
		t.Errorf("AR(1) 0.9: block length %d, want 8 to 60 (its dependence reaches some 20 lags)", got)
	}
	for _, x := range [][]float64{nil, {1}, {2, 2, 2, 2}} {
		if got := politisWhite(x).length; got != 1 {
			t.Errorf("politisWhite(%v) = %d, want 1", x, got)
		}
	}
	// Held to at least 10 blocks and at most 200.
	if got := politisWhite(ar).blockSeconds(30); got != 3 {
		t.Errorf("blockSeconds over 30 s = %d, want 3 (10 blocks)", got)
	}
	if got := politisWhite(iid).blockSeconds(4000); got != 20 {
		t.Errorf("blockSeconds over 4000 s = %d, want 20 (200 blocks)", got)
	}
}

// TestShareDesignEffect: failures that come in whole seconds are worth fewer independent
// journeys than their count; failures spread like coin flips are not.
func TestShareDesignEffect(t *testing.T) {
	t.Parallel()
	clustered := comparetest.SeriesRun{Seed: 5, Secs: 100, PerSec: 20, Scale: 1, FailEvery: 10}.Metrics()
	failed, ended := report.ShareMetrics["errors"](clustered)
	deff, l := shareDesignEffect(clustered.Series, secondShares["errors"], failed, ended)
	if deff < 5 || l == 0 {
		t.Errorf("failures in whole seconds: design effect %.2f (blocks %d s), want at least 5", deff, l)
	}
	r := rand.New(rand.NewPCG(6, 6))
	var spread report.Series
	var x, n int64
	for sec := range 100 {
		p := report.Point{Unix: int64(sec), OK: 20}
		for range 20 {
			if r.Float64() < 0.1 {
				p.Failed++
				p.OK--
			}
		}
		x, n = x+p.Failed, n+20
		spread = append(spread, p)
	}
	if deff, _ := shareDesignEffect(spread, secondShares["errors"], x, n); deff > 1.5 {
		t.Errorf("failures spread independently: design effect %.2f, want about 1", deff)
	}
	// A series that does not hold the run's counts cannot tell.
	if deff, l := shareDesignEffect(spread, secondShares["errors"], x+1, n); deff != 1 || l != 0 {
		t.Errorf("series off the counts: design effect %.2f, blocks %d s, want 1 and 0", deff, l)
	}
	// In compare: the clustered failures' interval is wider than the independent one's.
	other := comparetest.SeriesRun{Seed: 8, Secs: 100, PerSec: 20, Scale: 1, FailEvery: 10}.Metrics()
	blocks := changeOf(t, Runs(clustered, other, Options{Seed: 1}), "errors")
	single := changeOf(t, Runs(comparetest.WithoutSeries(clustered), comparetest.WithoutSeries(other), Options{Seed: 1}), "errors")
	if blocks.High-blocks.Low < 2*(single.High-single.Low) || blocks.BaseBlock == 0 || single.BaseBlock != 0 {
		t.Errorf("errors: interval %g wide in blocks of %d s, %g from single journeys: want the blocks' at least twice as wide",
			blocks.High-blocks.Low, blocks.BaseBlock, single.High-single.Low)
	}
}

// TestNewBlockDist: the blocks hold exactly the run's values; a series that does not, or is too
// short, gives none.
func TestNewBlockDist(t *testing.T) {
	t.Parallel()
	m := comparetest.SeriesRun{Seed: 9, Secs: 30, PerSec: 10, Scale: 1}.Metrics()
	create := func(p *report.Point) string { return p.StepHists[sample.Create.String()] }
	want := m.Steps[sample.Create].TotalCount()
	d := newBlockDist(m.Series, create, want)
	if d == nil {
		t.Fatal("no blocks for a 30-second series")
	}
	var got int64
	for _, c := range d.cum {
		got += c[len(c)-1]
	}
	if got != want || len(d.cum) < MinBlocks {
		t.Errorf("blocks hold %d values in %d blocks, want %d in at least %d", got, len(d.cum), want, MinBlocks)
	}
	// Every draw is a value of the run.
	r := rand.New(rand.NewPCG(1, 1))
	var pick []int
	for range 100 {
		var v int64
		v, pick = d.draw(r, 50, pick)
		if hdr.Percentile(m.Steps[sample.Create], 0) > time.Duration(v) || time.Duration(v) > hdr.MaxOf(m.Steps[sample.Create]) {
			t.Fatalf("draw %d outside the run's values", v)
		}
	}
	if newBlockDist(m.Series, create, want+1) != nil {
		t.Error("blocks from a series that does not hold the run's values")
	}
	if newBlockDist(m.Series[:9], create, seriesCount(m.Series[:9], create)) != nil {
		t.Error("blocks from 9 seconds")
	}
	if newBlockDist(m.Series, func(*report.Point) string { return "" }, want) != nil {
		t.Error("blocks from a series without the metric (an older result)")
	}
}

// seriesCount is the number of values the series' seconds hold of a metric.
func seriesCount(s report.Series, hist secondHist) int64 {
	var n int64
	for i := range s {
		if enc := hist(&s[i]); enc != "" {
			h, _ := hdr.Decode(enc)
			n += h.TotalCount()
		}
	}
	return n
}

// TestMergeSeriesStepHists: merging series adds the seconds' step histograms and judged counts
// exactly, and leaves the merged series' sources untouched.
func TestMergeSeriesStepHists(t *testing.T) {
	t.Parallel()
	a := comparetest.SeriesRun{Seed: 10, Secs: 5, PerSec: 10, Scale: 1}.Metrics().Series
	b := comparetest.SeriesRun{Seed: 11, Secs: 5, PerSec: 7, Scale: 1}.Metrics().Series
	before := a[0].StepHists["create"]
	m, err := report.MergeSeries(a, b)
	if err != nil {
		t.Fatal(err)
	}
	create := func(p *report.Point) string { return p.StepHists["create"] }
	if got := seriesCount(m, create); got != 5*17 {
		t.Errorf("merged series holds %d create values, want %d", got, 5*17)
	}
	if m[0].Judged != 17 {
		t.Errorf("merged judged %d, want 17", m[0].Judged)
	}
	if a[0].StepHists["create"] != before {
		t.Error("merging changed a source series")
	}
	if m2, err := report.MergeSeries(nil, a); err != nil || seriesCount(m2, create) != 50 {
		t.Errorf("merge into nothing: %v, %d values", err, seriesCount(m2, create))
	}
}

// BenchmarkCompareBlocks compares two runs of an hour at 100 journeys/s, resampled in blocks.
func BenchmarkCompareBlocks(b *testing.B) {
	base := comparetest.SeriesRun{Seed: 1, Secs: 3600, PerSec: 100, Phi: 0.9, Drift: 0.2, Scale: 1}.Metrics()
	newer := comparetest.SeriesRun{Seed: 2, Secs: 3600, PerSec: 100, Phi: 0.9, Drift: 0.2, Scale: 1.1}.Metrics()
	for b.Loop() {
		Runs(base, newer, Options{Seed: 1})
	}
}
