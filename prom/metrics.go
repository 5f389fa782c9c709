// Package prom serves a run's live metrics to Prometheus while it goes: counters of arrivals,
// journeys by outcome, window verdicts, auto messages received and missing, and failures by
// step and class; histograms of every step, the gap, the journey, the lag and the wait for the
// first auto message, native with classic buckets too. Every series is labelled by target, and
// by shard for a shard of a distributed run.
//
// A Set is fed by the engine (it is an engine.Live): the journeys' records as the recorder counts
// them, read through report.Values and report.AutoMessage so that the live figures are the
// result's, and the load generator's arrival counts, read when Prometheus scrapes. Its
// registry is its own, never the global one. Serve puts it on an HTTP endpoint; Start does so
// on the Endpoint a command's profile and flags ask for (EndpointOf), and a Live lingers and
// closes it.
package prom

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// namespace prefixes every metric lpbench exports.
const namespace = "lpbench"

// The native histograms' resolution: buckets about 9 % wide (factor 2^(1/8), Prometheus' schema
// 3), at most maxBuckets of them per series before the resolution halves.
const (
	bucketFactor = 1.1
	maxBuckets   = 160
)

// Set is the live metrics of a run, or of the runs of a capacity search one after the other
// (their counters add up). Start, Observe and End are called by the engine; a scrape may come at
// any time.
type Set struct {
	reg      *prometheus.Registry
	journeys *prometheus.CounterVec // target, outcome
	verdicts *prometheus.CounterVec // target, verdict
	received *prometheus.CounterVec // target, verdict
	missing  *prometheus.CounterVec // target, verdict
	failures *prometheus.CounterVec // target, step, class
	// hists are the histograms by report's index (report.HistogramNames); the steps share one,
	// labelled by step.
	hists    [report.NumHistograms]*prometheus.HistogramVec
	arrivals *arrivals
	// targets are the series of the running run's targets, by index; set by Start before the
	// recorder's goroutine starts, read only by it.
	targets []targetSeries
}

// targetSeries are one target's series, resolved once per run.
type targetSeries struct {
	name     string
	journeys [sample.NumOutcomes]prometheus.Counter
	verdicts [sample.NumVerdicts]prometheus.Counter
	received [sample.NumVerdicts]prometheus.Counter
	missing  [sample.NumVerdicts]prometheus.Counter
	hists    [report.NumHistograms]prometheus.Observer
}

// New returns an empty Set. window is the AUTO_MESSAGES window, a bucket boundary of the gap
// histograms; shard, when not empty, labels every series (shard="K").
func New(window time.Duration, shard string) *Set {
	s := &Set{reg: prometheus.NewRegistry(), arrivals: newArrivals()}
	r := prometheus.Registerer(s.reg)
	if shard != "" {
		r = prometheus.WrapRegistererWith(prometheus.Labels{"shard": shard}, r)
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, append([]string{"target"}, labels...))
		r.MustRegister(v)
		return v
	}
	s.journeys = counter("journeys_total", "Journeys that ended, by outcome (ok: the consumer got its first auto message, where auto messages are verified).", "outcome")
	s.verdicts = counter("window_verdicts_total", "Journeys by AUTO_MESSAGES window verdict of their first SEND (none: CONVERSATION or SEND did not complete).", "verdict")
	s.received = counter("auto_messages_received_total", "Journeys that waited for their first auto message and got it, by window verdict.", "verdict")
	s.missing = counter("auto_messages_missing_total", "Journeys that waited for their first auto message and did not get it, by window verdict.", "verdict")
	s.failures = counter("failures_total", "Failed or interrupted journeys by the step that failed and the failure class.", "step", "class")
	var steps *prometheus.HistogramVec
	for h, name := range report.HistogramNames() {
		if _, ok := strings.CutPrefix(name, "step."); ok {
			if steps == nil {
				steps = histogram(r, "step", window, "step")
			}
			s.hists[h] = steps
			continue
		}
		s.hists[h] = histogram(r, name, window)
	}
	r.MustRegister(s.arrivals)
	return s
}

// histogram registers the histogram of report's metric name, in seconds.
func histogram(r prometheus.Registerer, name string, window time.Duration, labels ...string) *prometheus.HistogramVec {
	d, ok := histograms[name]
	if !ok { // a histogram report has and this file does not know yet: default buckets
		d = histDef{name + "_seconds", "lpbench's " + name + " histogram.", fixed(prometheus.DefBuckets...)}
	}
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: d.name, Help: d.help, Buckets: d.buckets(window),
		NativeHistogramBucketFactor: bucketFactor, NativeHistogramMaxBucketNumber: maxBuckets,
		NativeHistogramMinResetDuration: time.Hour,
	}, append([]string{"target"}, labels...))
	r.MustRegister(v)
	return v
}

// histDef is how one of report's histograms is exported.
type histDef struct {
	name, help string
	buckets    func(window time.Duration) []float64
}

// fixed returns classic buckets that do not depend on the window.
func fixed(b ...float64) func(time.Duration) []float64 {
	return func(time.Duration) []float64 { return b }
}

// aroundWindow returns classic buckets from 100 ms to 60 s with the window among them, so that
// the share of gaps under it reads off one bucket.
func aroundWindow(window time.Duration) []float64 {
	b := []float64{0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 9, 10, 11, 12.5, 15, 20, 30, 60}
	if w := window.Seconds(); w > 0 && !slices.Contains(b, w) {
		b = append(b, w)
		slices.Sort(b)
	}
	return b
}

// histograms are the exported histograms by report's metric name (step: every step.<name>),
// each with classic buckets suited to its range.
var histograms = map[string]histDef{
	"lag": {"lag_seconds", "How late the load generator started each journey: actual − intended start.",
		fixed(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)},
	"journey": {"journey_seconds", "Journeys that ended, from their intended start to the end of their last step (free of coordinated omission).",
		fixed(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 60, 120)},
	"gap":     {"gap_seconds", "Upper bound of the gap the server saw between CONVERSATION and the first SEND, judged against the window.", aroundWindow},
	"gap_min": {"gap_min_seconds", "Lower bound of the gap the server saw between CONVERSATION and the first SEND.", aroundWindow},
	"automsg": {"automsg_seconds", "From CONVERSATION's begin to the first auto message received.", aroundWindow},
	"step": {"step_seconds", "Service time of each step that succeeded, by step.",
		fixed(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)},
}

// Registry returns the Set's registry, for an HTTP handler.
func (s *Set) Registry() *prometheus.Registry { return s.reg }

// Start begins a run on targets; arrivals reads a target's arrival counts (see engine.Live).
func (s *Set) Start(targets []string, arrivals func(target int) loadgen.Counts) {
	s.targets = make([]targetSeries, len(targets))
	names := report.HistogramNames()
	for i, name := range targets {
		ts := &s.targets[i]
		ts.name = name
		for o := range sample.NumOutcomes {
			ts.journeys[o] = s.journeys.WithLabelValues(name, o.String())
		}
		for v := range sample.NumVerdicts {
			ts.verdicts[v] = s.verdicts.WithLabelValues(name, v.String())
			ts.received[v] = s.received.WithLabelValues(name, v.String())
			ts.missing[v] = s.missing.WithLabelValues(name, v.String())
		}
		for h, hn := range names {
			if step, ok := strings.CutPrefix(hn, "step."); ok {
				ts.hists[h] = s.hists[h].WithLabelValues(name, step)
			} else {
				ts.hists[h] = s.hists[h].WithLabelValues(name)
			}
		}
	}
	s.arrivals.start(targets, arrivals)
}

// Observe counts one journey record (see engine.Live).
func (s *Set) Observe(j *sample.Record) {
	if int(j.Target) >= len(s.targets) {
		return
	}
	ts := &s.targets[j.Target]
	ts.journeys[j.Outcome].Inc()
	ts.verdicts[j.Verdict].Inc()
	if awaited, received := report.AutoMessage(j); received {
		ts.received[j.Verdict].Inc()
	} else if awaited {
		ts.missing[j.Verdict].Inc()
	}
	if j.Outcome != sample.OutcomeOK {
		s.failures.WithLabelValues(ts.name, j.Failed.String(), j.Class.String()).Inc()
	}
	report.Values(j, func(h int, d time.Duration) { ts.hists[h].Observe(max(d, 0).Seconds()) })
}

// End closes the run: its final arrival counts are kept, and the next run's add to them (see
// engine.Live).
func (s *Set) End() { s.arrivals.end() }
