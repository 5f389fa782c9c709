package report

import (
	"math"
	"testing"
)

// TestSupportNeeded: the samples a percentile needs are the fewest that put SupportAbove of them
// above it (ValuesAbove), the count percentile_support judges; also for percentiles binary
// floating point cannot write exactly (99.9, 99.99, 90).
func TestSupportNeeded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    float64
		want int64
	}{{50, 20}, {90, 100}, {95, 200}, {99, 1000}, {99.9, 10000}, {99.99, 100000}, {97, 334}, {99.5, 2000}, {100, math.MaxInt64}} {
		got := SupportNeeded(tc.p)
		if got != tc.want {
			t.Errorf("SupportNeeded(%g) = %d, want %d", tc.p, got, tc.want)
		}
		if tc.p < 100 && (ValuesAbove(tc.p, got) < SupportAbove || ValuesAbove(tc.p, got-1) >= SupportAbove) {
			t.Errorf("SupportNeeded(%g) = %d is not the fewest samples with %d above", tc.p, got, SupportAbove)
		}
	}
}

// TestThresholdPercentile: only a histogram's percentile is one.
func TestThresholdPercentile(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]float64{"gap.p99 < 1s": 99, "step.create.p95 < 1s": 95, "journey.p99.9 < 1s": 99.9,
		"gap.max < 1s": 0, "gap.mean < 1s": 0, "errors < 1%": 0, "count.ok > 1": 0} {
		th, err := ParseThreshold(expr)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := ThresholdPercentile(th)
		if ok != (want > 0) || p != want {
			t.Errorf("%s: %g, %v; want %g", expr, p, ok, want)
		}
	}
}
