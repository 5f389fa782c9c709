// Package reporttest builds deterministic results, checks and capacity searches for the tests of
// the result model and of its renderings. It is test support: nothing outside tests imports it.
package reporttest

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// Fill records n values spread evenly from lo to hi.
func Fill(h *hdrhistogram.Histogram, n int, lo, hi time.Duration) {
	for i := range n {
		d := lo
		if n > 1 {
			d += (hi - lo) * time.Duration(i) / time.Duration(n-1)
		}
		hdr.Record(h, d)
	}
}

// SummaryMetrics returns the hand-built metrics of one target: 90 journeys (80 ok, 8 failed,
// 2 interrupted), 78 judged (70 in, 6 uncertain, 2 missed), no auto messages measured, and close
// failures that did not decide any journey.
func SummaryMetrics() *report.Metrics {
	m := report.NewMetrics()
	m.Outcomes = [sample.NumOutcomes]int64{sample.OutcomeOK: 80, sample.OutcomeFailed: 8, sample.OutcomeInterrupted: 2}
	m.Verdicts = [sample.NumVerdicts]int64{sample.VerdictNone: 12, sample.VerdictIn: 70, sample.VerdictUncertain: 6, sample.VerdictMissed: 2}
	m.Failures[sample.Create][sample.ClassHTTP5xx] = 5
	m.Failures[sample.ConsumerJWS][sample.ClassAuth] = 1
	m.Failures[sample.Send][sample.ClassWindowMissed] = 2
	m.Failures[sample.Send][sample.ClassCanceled] = 2
	m.StepFailures[sample.Create][sample.ClassHTTP5xx] = 5
	m.StepFailures[sample.ConsumerJWS][sample.ClassAuth] = 1
	m.StepFailures[sample.Send][sample.ClassCanceled] = 2
	m.StepFailures[sample.Close][sample.ClassNetwork] = 3
	m.Requests = [sample.NumSteps]int64{sample.Lookup: 90, sample.ConsumerJWS: 90, sample.Create: 95, sample.Send: 84, sample.Close: 84}
	Fill(m.Steps[sample.Lookup], 90, 5*time.Millisecond, 40*time.Millisecond)
	Fill(m.Steps[sample.AppJWT], 90, 0, 0)
	Fill(m.Steps[sample.ConsumerJWS], 89, 20*time.Millisecond, 120*time.Millisecond)
	Fill(m.Steps[sample.Create], 84, 80*time.Millisecond, 3*time.Second)
	Fill(m.Steps[sample.Send], 82, 50*time.Millisecond, 900*time.Millisecond)
	Fill(m.Steps[sample.Close], 81, 30*time.Millisecond, 200*time.Millisecond)
	Fill(m.Gap, 78, 150*time.Millisecond, 10900*time.Millisecond)
	Fill(m.GapMin, 78, 0, 10400*time.Millisecond)
	Fill(m.Journey, 88, 300*time.Millisecond, 12*time.Second)
	Fill(m.Lag, 90, 50*time.Microsecond, 4*time.Millisecond)
	return m
}

// SummaryResult returns a deterministic one-target Result.
func SummaryResult() *report.Result {
	m := SummaryMetrics()
	return &report.Result{
		Profile:     "smoke",
		Start:       time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
		Elapsed:     61234567 * time.Microsecond,
		End:         report.EndCompleted,
		Window:      10 * time.Second,
		Rate:        1.5,
		Duration:    time.Minute,
		MaxInFlight: 64,
		Arrivals:    report.Arrivals{Planned: 100, Started: 90, Dropped: 6, NotStarted: 4},
		Targets:     []report.TargetInfo{{Name: "va", Account: "12345678", Kind: "sim", AppJWTFetches: 3, DomainLookups: 1}},
		PerTarget:   []*report.Metrics{m},
		Overall:     m,
	}
}

// SampleChecks returns one check of each kind: generator_lag and load_delivered fail,
// stationary fails but is relaxed, the others hold.
func SampleChecks() []report.Check {
	return []report.Check{
		{Name: "generator_lag", OK: false, Measured: "lag p99 38ms, 5 s in a row above 10ms", Limit: "p99 ≤ 10ms, above it under 3 s in a row",
			Value: 0.038, LimitValue: 0.01, Message: "the generator, not the target, was late starting arrivals"},
		{Name: "load_delivered", OK: false, Measured: "dropped 94% (56400 of 60000), 8 of 8 s off the plan", Limit: "dropped ≤ 1%, each second within 5% of the plan",
			Value: 0.94, LimitValue: 0.01, Message: "the pool was full (max_in_flight 500 reached)"},
		{Name: "generator_cpu", OK: true, Measured: "CPU 40% of 2 cores (8.0 s in 10.0 s)", Limit: "≤ 90%", Value: 0.4, LimitValue: 0.9, Message: "the generator had CPU to spare"},
		{Name: "stationary", Target: "va", OK: false, Relaxed: true, Measured: "journey p99 grew 480ms/s over stage 1 (60/s)", Limit: "growth over a stage ≤ 50% of its median or ≤ 20ms",
			Value: 4.8, LimitValue: 0.02, Message: "a queue that only grows"},
		{Name: "percentile_support", OK: true, Measured: "gap.p99 from 1200 samples (12 above it; needs 1000)", Limit: "≥ 10 values above each thresholded percentile", Value: 12, LimitValue: 10},
		{Name: "arrivals", OK: true, Measured: "uniform arrivals: spacing error p99 0.8ms over 599 gaps", Limit: "spacing error p99 ≤ 2ms", Value: 0.0008, LimitValue: 0.002},
	}
}

// CapacityFixture is a finished search: bracketed 50 → 200, bisected to 103.125–106.25,
// confirmed.
func CapacityFixture() *report.Capacity {
	step := func(r float64, phase string, pass bool, gap, growth float64, why ...string) report.CapacityStep {
		st := report.CapacityStep{Rate: r, Duration: 4, Phase: phase, Pass: pass, Ended: int64(4 * r), Verified: true, Served: 1,
			GapP99: gap, CreateP99: gap * 0.8, GapGrowth: growth, Why: why}
		if !pass {
			st.Served = 0.9
			st.Failed = []string{report.CriterionSLO}
		}
		st.Result = "step-01/result.json"
		return st
	}
	return &report.Capacity{Schema: report.CapacitySchema, Profile: "cap100", Start: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Elapsed: 54,
		SustainableRate: 103.125, Interval: [2]float64{103.125, 106.25}, Bound: report.BoundTarget, Found: true, Resolution: 0.05,
		SLO: []string{"automsg.missing < 0.1%", "errors < 0.1%"}, Window: 0.2,
		Steps: []report.CapacityStep{
			step(50, "bracket", true, 0.004, 0),
			step(100, "bracket", true, 0.006, 0.0004),
			step(200, "bracket", false, 2.1, 0.52, "slo: automsg.missing < 0.1% measured 48.2%"),
			step(150, "bisect", false, 1.3, 0.33, "slo: automsg.missing < 0.1% measured 31%"),
			step(103.125, "bisect", true, 0.03, 0.006),
			step(106.25, "bisect", false, 0.21, 0.05, "slo: automsg.missing < 0.1% measured 0.4%"),
			step(103.125, "confirm", true, 0.03, 0.005),
			step(106.25, "above", false, 0.22, 0.052, "slo: automsg.missing < 0.1% measured 0.5%"),
		}}
}
