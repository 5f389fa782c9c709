package report

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/sample"
)

// seriesRun describes a synthetic run for the block bootstrap: secs seconds of perSec journeys,
// each second's CONVERSATION times log-normal (σ cmpSigma) around a median that drifts from
// second to second: median · scale · exp(drift·Xₜ), with X an AR(1) process of coefficient phi
// and unit variance (phi 0, drift 0: no drift, the i.i.d. case).
type seriesRun struct {
	seed         uint64
	secs, perSec int
	phi, drift   float64
	scale        float64
	failEvery    int // every failEvery-th second, all its journeys fail (0: none fail)
}

// metrics builds the run's Metrics with its per-second series, as the recorder fills it.
func (sr seriesRun) metrics() *Metrics {
	r := rand.New(rand.NewPCG(sr.seed, 0xb10c))
	m := NewMetrics()
	med := cmpMedians[sample.Create]
	x := r.NormFloat64()
	sm := NewMetrics() // the second's, as the recorder's
	for sec := range sr.secs {
		x = sr.phi*x + math.Sqrt(1-sr.phi*sr.phi)*r.NormFloat64()
		sm.reset()
		level := time.Duration(float64(med) * sr.scale * math.Exp(sr.drift*x))
		cmpLogNormal(sm.Steps[sample.Create], r, sr.perSec, level, cmpSigma)
		cmpLogNormal(sm.Journey, r, sr.perSec, 3*level, cmpSigma)
		outcome := sample.OutcomeOK
		if sr.failEvery > 0 && sec%sr.failEvery == 0 {
			outcome = sample.OutcomeFailed
		}
		sm.Outcomes[outcome] = int64(sr.perSec)
		sm.Verdicts[sample.VerdictIn] = int64(sr.perSec)
		var p Point
		p.Unix = 1_700_000_000 + int64(sec)
		p.fill(sm)
		m.Series = append(m.Series, p)
		if err := m.Merge(sm); err != nil {
			panic(err)
		}
	}
	return m
}

// withoutSeries returns a copy of m whose series is gone: Compare then resamples single values,
// as it did before it had the seconds.
func withoutSeries(m *Metrics) *Metrics {
	c := *m
	c.Series = nil
	return &c
}

// TestCompareBlocksDrift: two runs of one configuration whose latency drifts slowly from second
// to second (as a target's state does). Their medians differ by the drift's chance, far more
// than single requests' noise: resampling single requests calls the difference significant,
// resampling the runs' seconds in blocks does not.
func TestCompareBlocksDrift(t *testing.T) {
	t.Parallel()
	base := seriesRun{seed: 1, secs: 120, perSec: 50, phi: 0.9, drift: 0.3, scale: 1}.metrics()
	newer := seriesRun{seed: 2, secs: 120, perSec: 50, phi: 0.9, drift: 0.3, scale: 1}.metrics()
	perRequest := changeOf(t, Compare(withoutSeries(base), withoutSeries(newer), CompareOptions{Seed: 1}), "step.create.p50")
	if !significant(perRequest) || perRequest.BaseBlock != 0 {
		t.Fatalf("single requests resampled: %s (rel %+.1f%%, interval [%s, %s], blocks %d s): the test's drift no longer fools them",
			perRequest.Direction, 100*perRequest.Rel, fmtDur(time.Duration(perRequest.Low)), fmtDur(time.Duration(perRequest.High)), perRequest.BaseBlock)
	}
	cs := Compare(base, newer, CompareOptions{Seed: 1})
	for _, c := range cs {
		if significant(c) {
			t.Errorf("%s: %s (rel %+.1f%%, interval [%g, %g]) between runs of one configuration", c.Metric, c.Direction, 100*c.Rel, c.Low, c.High)
		}
		if c.Kind == KindDuration && c.Direction != DirectionNoData && (c.BaseBlock < 2 || c.NewBlock < 2) {
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
	base := seriesRun{seed: 3, secs: 60, perSec: 40, scale: 1}.metrics()
	newer := seriesRun{seed: 4, secs: 60, perSec: 40, scale: 1.25}.metrics()
	cs := Compare(base, newer, CompareOptions{Seed: 2})
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
		if c.Direction != DirectionNoData && (c.BaseBlock == 0 || c.NewBlock == 0) {
			t.Errorf("%s: not resampled in blocks (%d, %d s)", c.Metric, c.BaseBlock, c.NewBlock)
		}
	}
	c := changeOf(t, cs, "step.create.p50")
	if want := float64(Percentile(base.Steps[sample.Create], 50)); c.Base != want {
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
	covers := func(b, n *Metrics, seed uint64) bool {
		c := changeOf(t, Compare(b, n, CompareOptions{Percentiles: []float64{50}, Seed: seed}), "step.create.p50")
		return c.Low <= 0 && 0 <= c.High
	}
	for i := range uint64(trials) {
		b := seriesRun{seed: 1000 + 2*i, secs: 200, perSec: 10, phi: 0.6, drift: 0.25, scale: 1}.metrics()
		n := seriesRun{seed: 1001 + 2*i, secs: 200, perSec: 10, phi: 0.6, drift: 0.25, scale: 1}.metrics()
		if covers(b, n, i) {
			blocks++
		}
		if covers(withoutSeries(b), withoutSeries(n), i) {
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
	clustered := seriesRun{seed: 5, secs: 100, perSec: 20, scale: 1, failEvery: 10}.metrics()
	failed, ended := shares["errors"](clustered)
	deff, l := shareDesignEffect(clustered.Series, secondShares["errors"], failed, ended)
	if deff < 5 || l == 0 {
		t.Errorf("failures in whole seconds: design effect %.2f (blocks %d s), want at least 5", deff, l)
	}
	r := rand.New(rand.NewPCG(6, 6))
	var spread Series
	var x, n int64
	for sec := range 100 {
		p := Point{Unix: int64(sec), OK: 20}
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
	other := seriesRun{seed: 8, secs: 100, perSec: 20, scale: 1, failEvery: 10}.metrics()
	blocks := changeOf(t, Compare(clustered, other, CompareOptions{Seed: 1}), "errors")
	single := changeOf(t, Compare(withoutSeries(clustered), withoutSeries(other), CompareOptions{Seed: 1}), "errors")
	if blocks.High-blocks.Low < 2*(single.High-single.Low) || blocks.BaseBlock == 0 || single.BaseBlock != 0 {
		t.Errorf("errors: interval %g wide in blocks of %d s, %g from single journeys: want the blocks' at least twice as wide",
			blocks.High-blocks.Low, blocks.BaseBlock, single.High-single.Low)
	}
}

// TestNewBlockDist: the blocks hold exactly the run's values; a series that does not, or is too
// short, gives none.
func TestNewBlockDist(t *testing.T) {
	t.Parallel()
	m := seriesRun{seed: 9, secs: 30, perSec: 10, scale: 1}.metrics()
	create := func(p *Point) string { return p.StepHists[sample.Create.String()] }
	want := m.Steps[sample.Create].TotalCount()
	d := newBlockDist(m.Series, create, want)
	if d == nil {
		t.Fatal("no blocks for a 30-second series")
	}
	var got int64
	for _, c := range d.cum {
		got += c[len(c)-1]
	}
	if got != want || len(d.cum) < minBlocks {
		t.Errorf("blocks hold %d values in %d blocks, want %d in at least %d", got, len(d.cum), want, minBlocks)
	}
	// Every draw is a value of the run.
	r := rand.New(rand.NewPCG(1, 1))
	var pick []int
	for range 100 {
		var v int64
		v, pick = d.draw(r, 50, pick)
		if Percentile(m.Steps[sample.Create], 0) > time.Duration(v) || time.Duration(v) > maxOf(m.Steps[sample.Create]) {
			t.Fatalf("draw %d outside the run's values", v)
		}
	}
	if newBlockDist(m.Series, create, want+1) != nil {
		t.Error("blocks from a series that does not hold the run's values")
	}
	if newBlockDist(m.Series[:9], create, seriesCount(m.Series[:9], create)) != nil {
		t.Error("blocks from 9 seconds")
	}
	if newBlockDist(m.Series, func(*Point) string { return "" }, want) != nil {
		t.Error("blocks from a series without the metric (an older result)")
	}
}

// seriesCount is the number of values the series' seconds hold of a metric.
func seriesCount(s Series, hist secondHist) int64 {
	var n int64
	for i := range s {
		if enc := hist(&s[i]); enc != "" {
			h, _ := decodeHistogram(enc)
			n += h.TotalCount()
		}
	}
	return n
}

// TestMergeSeriesStepHists: merging series adds the seconds' step histograms and judged counts
// exactly, and leaves the merged series' sources untouched.
func TestMergeSeriesStepHists(t *testing.T) {
	t.Parallel()
	a := seriesRun{seed: 10, secs: 5, perSec: 10, scale: 1}.metrics().Series
	b := seriesRun{seed: 11, secs: 5, perSec: 7, scale: 1}.metrics().Series
	before := a[0].StepHists["create"]
	m, err := MergeSeries(a, b)
	if err != nil {
		t.Fatal(err)
	}
	create := func(p *Point) string { return p.StepHists["create"] }
	if got := seriesCount(m, create); got != 5*17 {
		t.Errorf("merged series holds %d create values, want %d", got, 5*17)
	}
	if m[0].Judged != 17 {
		t.Errorf("merged judged %d, want 17", m[0].Judged)
	}
	if a[0].StepHists["create"] != before {
		t.Error("merging changed a source series")
	}
	if m2, err := MergeSeries(nil, a); err != nil || seriesCount(m2, create) != 50 {
		t.Errorf("merge into nothing: %v, %d values", err, seriesCount(m2, create))
	}
}

// BenchmarkCompareBlocks compares two runs of an hour at 100 journeys/s, resampled in blocks.
func BenchmarkCompareBlocks(b *testing.B) {
	base := seriesRun{seed: 1, secs: 3600, perSec: 100, phi: 0.9, drift: 0.2, scale: 1}.metrics()
	newer := seriesRun{seed: 2, secs: 3600, perSec: 100, phi: 0.9, drift: 0.2, scale: 1.1}.metrics()
	for b.Loop() {
		Compare(base, newer, CompareOptions{Seed: 1})
	}
}

// TestDecodeBars: the sparse decoding of a second's histogram holds exactly the non-empty
// buckets of the full decoding, across the whole range; other geometries and damaged input are
// refused.
func TestDecodeBars(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{0, 1, 50, 5000} {
		h := NewHistogram()
		for range n {
			// Log-uniform from 1 ns to beyond the 10-minute top (clamped), so every bucket shows.
			record(h, time.Duration(math.Exp(r.Float64()*math.Log(2e12))))
		}
		enc, err := h.EncodeV2()
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeBars(string(enc))
		if err != nil {
			t.Fatalf("%d values: %v", n, err)
		}
		var want []bar
		for _, b := range h.Distribution() {
			if b.Count > 0 {
				want = append(want, bar{b.To, b.Count})
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d values: %d bars, want %d; first difference at %d", n, len(got), len(want), firstDiff(got, want))
		}
	}
	// The top of the range decodes; an index beyond the geometry does not.
	top := NewHistogram()
	record(top, 10*time.Minute)
	enc, _ := top.EncodeV2()
	if bars, err := decodeBars(string(enc)); err != nil || len(bars) != 1 || bars[0].to < int64(10*time.Minute) {
		t.Errorf("10 minutes: %v, %v", bars, err)
	}
	if _, err := decodeBars(craftedHistogram(t, countsLen)); err == nil {
		t.Errorf("a count at index %d (beyond the geometry) accepted", countsLen)
	}
	last := craftedHistogram(t, countsLen-1)
	bars, err := decodeBars(last)
	if err != nil {
		t.Fatalf("a count at the last index: %v", err)
	}
	// The crafted form is HdrHistogram's: the library reads the same bucket.
	h, err := decodeHistogram(last)
	if err != nil {
		t.Fatalf("the library refuses the crafted histogram: %v", err)
	}
	if h.TotalCount() != 1 || len(bars) != 1 || h.Max() != bars[0].to {
		t.Errorf("the last index: library max %d of %d values, sparse %v", h.Max(), h.TotalCount(), bars)
	}
	other, _ := hdrhistogram.New(1, 1000, 2).EncodeV2()
	for _, bad := range []string{"", "!!", "AAAAAAAAAAA=", string(other)} {
		if _, err := decodeBars(bad); err == nil {
			t.Errorf("decodeBars(%.20q) accepted", bad)
		}
	}
}

func firstDiff(a, b []bar) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestWriteCompareBlocks: a comparison of runs with per-second series says that seconds were
// the unit and how long the blocks were, and marks no interval as resting on single values; one
// run without a series marks every interval it took part in.
func TestWriteCompareBlocks(t *testing.T) {
	t.Parallel()
	base := seriesRun{seed: 12, secs: 60, perSec: 10, phi: 0.5, drift: 0.1, scale: 1}.metrics()
	newer := seriesRun{seed: 13, secs: 60, perSec: 10, phi: 0.5, drift: 0.1, scale: 1}.metrics()
	var b bytes.Buffer
	if err := WriteCompareText(&b, "a", "b", Compare(base, newer, CompareOptions{Seed: 1})); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "The unit is the run's second") || !regexp.MustCompile(`blocks of\s+consecutive\s+seconds\s+\(\d+(–\d+)? s,`).MatchString(out) {
		t.Errorf("the notes do not state the unit and the blocks:\n%s", out)
	}
	if strings.Contains(out, "]*") || strings.Contains(out, "independent (") {
		t.Errorf("an interval is marked as resting on single values:\n%s", out)
	}
	b.Reset()
	if err := WriteCompareText(&b, "a", "b", Compare(withoutSeries(base), newer, CompareOptions{Seed: 1})); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Count(out, "]*") != 8 || !strings.Contains(out, "*: 8 of the intervals treat a run's requests as independent") {
		t.Errorf("want the 8 intervals with data marked (create and journey at 3 percentiles, the two shares):\n%s", out)
	}
}

// craftedHistogram encodes, in HdrHistogram's compressed form of lpbench's geometry, a
// histogram whose one count sits at counts index idx (a run of idx empty buckets before it).
func craftedHistogram(t *testing.T, idx int) string {
	t.Helper()
	var payload []byte
	payload = binary.BigEndian.AppendUint32(payload, 0x1c849303) // V2 encoding cookie
	zigzag := func(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }
	var counts []byte
	if idx > 1 {
		counts = binary.AppendUvarint(counts, zigzag(-int64(idx)))
	} else if idx == 1 {
		counts = binary.AppendUvarint(counts, 0)
	}
	counts = binary.AppendUvarint(counts, zigzag(1))
	payload = binary.BigEndian.AppendUint32(payload, uint32(len(counts)))
	payload = binary.BigEndian.AppendUint32(payload, 0) // normalizing index offset
	payload = binary.BigEndian.AppendUint32(payload, uint32(histSigFigs))
	payload = binary.BigEndian.AppendUint64(payload, uint64(histMin))
	payload = binary.BigEndian.AppendUint64(payload, uint64(histMax))
	payload = binary.BigEndian.AppendUint64(payload, math.Float64bits(1))
	payload = append(payload, counts...)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(payload)
	zw.Close()
	var raw []byte
	raw = binary.BigEndian.AppendUint32(raw, 0x1c849304) // V2 compressed cookie
	raw = binary.BigEndian.AppendUint32(raw, uint32(z.Len()))
	return base64.StdEncoding.EncodeToString(append(raw, z.Bytes()...))
}

// FuzzDecodeBars: any input decodes to ascending non-empty buckets or an error, never a panic;
// what the library decodes too holds the same buckets.
func FuzzDecodeBars(f *testing.F) {
	h := NewHistogram()
	cmpLogNormal(h, rand.New(rand.NewPCG(1, 1)), 30, 90*time.Millisecond, cmpSigma)
	enc, _ := h.EncodeV2()
	f.Add(string(enc))
	f.Add(craftedHistogram(&testing.T{}, countsLen-1))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		bars, err := decodeBars(s)
		if err != nil {
			return
		}
		for i, b := range bars {
			if b.count <= 0 || (i > 0 && b.to <= bars[i-1].to) {
				t.Fatalf("bar %d: %+v after %+v", i, b, bars[max(i-1, 0)])
			}
		}
		lib, err := decodeHistogram(s)
		if err != nil {
			return
		}
		var want []bar
		for _, b := range lib.Distribution() {
			if b.Count > 0 {
				want = append(want, bar{b.To, b.Count})
			}
		}
		if !slices.Equal(bars, want) {
			t.Fatalf("sparse %v, library %v", bars, want)
		}
	})
}

// BenchmarkPointFill fills a second's point from metrics with every histogram populated (100
// journeys): what the recorder does once a second per target and for the whole run.
func BenchmarkPointFill(b *testing.B) {
	m := NewMetrics()
	r := rand.New(rand.NewPCG(1, 1))
	for s := range sample.NumSteps {
		cmpLogNormal(m.Steps[s], r, 100, 50*time.Millisecond, 0.5)
	}
	cmpLogNormal(m.Gap, r, 100, 150*time.Millisecond, 0.5)
	cmpLogNormal(m.Journey, r, 100, 300*time.Millisecond, 0.5)
	cmpLogNormal(m.Lag, r, 100, 300*time.Microsecond, 0.5)
	for b.Loop() {
		var p Point
		p.fill(m)
	}
}
