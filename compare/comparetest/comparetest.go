// Package comparetest builds synthetic run metrics for the tests of the comparison and of its
// renderings: log-normal step times, counted shares, and per-second series that drift. It knows
// nothing of how runs are compared.
package comparetest

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// Sigma is the log-normal shape of the synthetic samples: p99 ≈ 2 × p50. With 2,000 samples
// p50 then has a sampling error of about 0.8 % and p99 of about 2.5 %, so a 20 % shift is
// beyond noise at both even after the Bonferroni adjustment (about 3.1 standard errors).
const Sigma = 0.3

// Medians are the synthetic steps' medians, those of the simulator's defaults.
var Medians = map[sample.Step]time.Duration{
	sample.Lookup:      15 * time.Millisecond,
	sample.AppJWT:      40 * time.Millisecond,
	sample.ConsumerJWS: 35 * time.Millisecond,
	sample.Create:      90 * time.Millisecond,
	sample.Send:        45 * time.Millisecond,
	sample.Close:       40 * time.Millisecond,
}

// LogNormal records n values median·exp(σ·Z) into h.
func LogNormal(h *hdrhistogram.Histogram, r *rand.Rand, n int, median time.Duration, sigma float64) {
	for range n {
		hdr.Record(h, time.Duration(float64(median)*math.Exp(sigma*r.NormFloat64())))
	}
}

// Metrics returns the metrics of n synthetic journeys drawn with seed: every step but automsg,
// gap, journey and lag log-normal, create's median scaled by createScale, every step one
// request (no cache hit); all journeys ok and in the window, auto messages not verified.
func Metrics(seed uint64, n int, createScale float64) *report.Metrics {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	m := report.NewMetrics()
	for s := range sample.NumSteps {
		med, ok := Medians[s]
		if !ok {
			continue
		}
		if s == sample.Create {
			med = time.Duration(float64(med) * createScale)
		}
		LogNormal(m.Steps[s], r, n, med, Sigma)
		m.Requests[s] = int64(n) // one request each: no step served from a cache
	}
	LogNormal(m.Gap, r, n, 150*time.Millisecond, Sigma)
	LogNormal(m.Journey, r, n, 300*time.Millisecond, Sigma)
	LogNormal(m.Lag, r, n, 200*time.Microsecond, Sigma)
	m.Outcomes[sample.OutcomeOK] = int64(n)
	m.Verdicts[sample.VerdictIn] = int64(n)
	return m
}

// Shares returns metrics with only counts: missed of judged journeys, failed of ended ones.
func Shares(missed, judged, failed, ended int64) *report.Metrics {
	m := report.NewMetrics()
	m.Verdicts[sample.VerdictMissed] = missed
	m.Verdicts[sample.VerdictIn] = judged - missed
	m.Outcomes[sample.OutcomeFailed] = failed
	m.Outcomes[sample.OutcomeOK] = ended - failed
	return m
}

// SeriesRun describes a synthetic run for the block bootstrap: secs seconds of perSec journeys,
// each second's CONVERSATION times log-normal (σ Sigma) around a median that drifts from
// second to second: median · scale · exp(drift·Xₜ), with X an AR(1) process of coefficient phi
// and unit variance (phi 0, drift 0: no drift, the i.i.d. case).
type SeriesRun struct {
	Seed         uint64
	Secs, PerSec int
	Phi, Drift   float64
	Scale        float64
	FailEvery    int // every failEvery-th second, all its journeys fail (0: none fail)
}

// Metrics builds the run's Metrics with its per-second series, as the recorder fills it.
func (sr SeriesRun) Metrics() *report.Metrics {
	r := rand.New(rand.NewPCG(sr.Seed, 0xb10c))
	m := report.NewMetrics()
	med := Medians[sample.Create]
	x := r.NormFloat64()
	sm := report.NewMetrics() // the second's, as the recorder's
	for sec := range sr.Secs {
		x = sr.Phi*x + math.Sqrt(1-sr.Phi*sr.Phi)*r.NormFloat64()
		sm.Reset()
		level := time.Duration(float64(med) * sr.Scale * math.Exp(sr.Drift*x))
		LogNormal(sm.Steps[sample.Create], r, sr.PerSec, level, Sigma)
		LogNormal(sm.Journey, r, sr.PerSec, 3*level, Sigma)
		outcome := sample.OutcomeOK
		if sr.FailEvery > 0 && sec%sr.FailEvery == 0 {
			outcome = sample.OutcomeFailed
		}
		sm.Outcomes[outcome] = int64(sr.PerSec)
		sm.Verdicts[sample.VerdictIn] = int64(sr.PerSec)
		var p report.Point
		p.Unix = 1_700_000_000 + int64(sec)
		p.Fill(sm)
		m.Series = append(m.Series, p)
		if err := m.Merge(sm); err != nil {
			panic(err)
		}
	}
	return m
}

// WithoutSeries returns a copy of m whose series is gone: Compare then resamples single values,
// as it did before it had the seconds.
func WithoutSeries(m *report.Metrics) *report.Metrics {
	c := *m
	c.Series = nil
	return &c
}
