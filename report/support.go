package report

import "math"

// SupportNeeded returns how many values a histogram must hold for its percentile p to have
// SupportAbove of them above it — ceil(SupportAbove / (1 − p/100)): p95 200, p99 1,000, p99.9
// 10,000 — the rule percentile_support judges a run by and a plan is checked against before it
// runs. A percentile of 100 (the maximum) never has values above it: math.MaxInt64.
func SupportNeeded(p float64) int64 {
	if p >= 100 {
		return math.MaxInt64
	}
	return int64(math.Ceil(SupportAbove / (1 - p/100)))
}

// ThresholdPercentile returns the percentile a threshold judges (99 for gap.p99 < 10s); ok is
// false for a threshold on anything but a histogram's percentile.
func ThresholdPercentile(t Threshold) (p float64, ok bool) {
	mt, err := parseMetric(t.Metric)
	if err != nil || mt.hist == nil || mt.stat != statPercentile {
		return 0, false
	}
	return mt.p, true
}
