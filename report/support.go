package report

import "math"

// SupportNeeded returns how many values a histogram must hold for its percentile p to have
// SupportAbove of them above it (ValuesAbove): SupportAbove / (1 − p/100) rounded up — p95 200,
// p99 1,000, p99.9 10,000 — the rule percentile_support judges a run by and a plan is checked
// against before it runs. A percentile of 100 (the maximum) never has values above it:
// math.MaxInt64.
func SupportNeeded(p float64) int64 {
	if p >= 100 {
		return math.MaxInt64
	}
	return int64(math.Ceil(SupportAbove * 100 / (100 - p) * (1 - supportTolerance)))
}

// ValuesAbove returns how many of count values lie above their percentile p: count × (1 − p/100),
// rounded down.
func ValuesAbove(p float64, count int64) int64 {
	return int64(math.Floor(float64(count) * (100 - p) / 100 * (1 + supportTolerance)))
}

// supportTolerance absorbs the rounding of percentiles that binary floating point cannot write
// exactly (100 − 99.9 is 0.09999999999999432), so that 10,000 values do put 10 above a p99.9.
const supportTolerance = 1e-9

// ThresholdPercentile returns the percentile a threshold judges (99 for gap.p99 < 10s); ok is
// false for a threshold on anything but a histogram's percentile.
func ThresholdPercentile(t Threshold) (p float64, ok bool) {
	mt, err := parseMetric(t.Metric)
	if err != nil || mt.hist == nil || mt.stat != statPercentile {
		return 0, false
	}
	return mt.p, true
}
