package report

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
)

// Check is one measurement check: a judgement of the run's own measurement — was the generator
// on time, did it deliver its load, did it have CPU to spare, did the target reach a steady
// state, do the thresholded percentiles rest on enough samples, did the arrivals follow the
// planned process. A failed check means the figures describe the generator (or too little
// data), not the target; the run exits 4 unless the check was relaxed.
type Check struct {
	Name   string `json:"name"`             // generator_lag, load_delivered, generator_cpu, stationary, percentile_support, arrivals, webhook_receiver, webhook_relay
	Target string `json:"target,omitempty"` // the target (or "shard K" of a merged run) it judged; empty: the whole run
	OK     bool   `json:"ok"`
	// Measured and Limit are human-readable: "lag p99 38ms", "≤ 10ms".
	Measured string `json:"measured"`
	Limit    string `json:"limit"`
	// Value and LimitValue are the same, machine-readable, in the check's own unit (seconds for
	// times, fractions for shares).
	Value      float64 `json:"value"`
	LimitValue float64 `json:"limit_value"`
	// Message says in one line what the outcome means and, when it failed, what to do.
	Message string `json:"message"`
	// Relaxed: the profile or the command line relaxed the check; it is still computed and
	// shown, but a failure does not invalidate the run.
	Relaxed bool `json:"relaxed,omitempty"`
}

// CheckNames are the names of the measurement checks, in the order a run computes them.
var CheckNames = []string{"generator_lag", "load_delivered", "generator_cpu", "stationary", "percentile_support", "arrivals", "webhook_receiver", "webhook_relay"}

// GeneratorChecks are the checks that judge the generator's own delivery: when one fails, the
// figures describe the generator, not the target.
var GeneratorChecks = []string{"generator_lag", "load_delivered", "generator_cpu"}

// Failed reports whether the check failed and was not relaxed.
func (c Check) Failed() bool { return !c.OK && !c.Relaxed }

// Label is the check's name with its target in brackets, if any: "stationary [sim]".
func (c Check) Label() string {
	if c.Target == "" {
		return c.Name
	}
	return c.Name + " [" + c.Target + "]"
}

// Line is the check in one line: "generator_lag: lag p99 38ms (limit ≤ 10ms) — the generator …".
func (c Check) Line() string {
	s := fmt.Sprintf("%s: %s (limit %s)", c.Label(), c.Measured, c.Limit)
	if c.Message != "" {
		s += " — " + c.Message
	}
	return s
}

// ChecksFailed reports whether a check failed that was not relaxed: the measurement is not
// valid.
func ChecksFailed(cs []Check) bool {
	for _, c := range cs {
		if c.Failed() {
			return true
		}
	}
	return false
}

// PercentileSamples returns, for a threshold on a percentile of a histogram (e.g. gap.p99.9),
// the percentile and the number of values m's histogram holds; ok is false for any other
// threshold.
func PercentileSamples(t Threshold, m *Metrics) (p float64, count int64, ok bool) {
	mt, err := parseMetric(t.Metric)
	if err != nil || mt.hist == nil || mt.stat != statPercentile || m == nil {
		return 0, 0, false
	}
	return mt.p, mt.hist(m).TotalCount(), true
}

// SupportAbove is how many values must lie above a percentile for it to be more than the one or
// two largest samples; percentile_support asks it of every thresholded percentile.
const SupportAbove = 10

// SupportedPercentile returns p, or, when n values leave fewer than SupportAbove above it, the
// percentile of the SupportAbove-th largest of them (of the largest when n ≤ SupportAbove): the
// highest percentile n values can tell.
func SupportedPercentile(p float64, n int64) float64 {
	if n <= 0 || float64(n)*(1-p/100) >= SupportAbove {
		return p
	}
	return 100 * float64(max(1, n-SupportAbove+1)) / float64(n)
}

// LagHistogram returns the second's lag histogram (nil when it recorded none).
func (p Point) LagHistogram() (*hdrhistogram.Histogram, error) {
	if p.LagHist == "" {
		return nil, nil
	}
	return hdr.Decode(p.LagHist)
}
