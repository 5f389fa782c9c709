package report

import (
	"math"
	"testing"
	"time"
)

func TestNewHistogramGeometry(t *testing.T) {
	t.Parallel()
	h := NewHistogram()
	if got, want := h.LowestTrackableValue(), int64(time.Microsecond); got != want {
		t.Errorf("LowestTrackableValue() = %d, want %d", got, want)
	}
	if got, want := h.HighestTrackableValue(), int64(10*time.Minute); got != want {
		t.Errorf("HighestTrackableValue() = %d, want %d", got, want)
	}
	if got, want := h.SignificantFigures(), int64(3); got != want {
		t.Errorf("SignificantFigures() = %d, want %d", got, want)
	}
}

func TestHistogramsMergeWithoutLoss(t *testing.T) {
	t.Parallel()
	a, b := NewHistogram(), NewHistogram()
	for _, d := range []time.Duration{0, time.Microsecond, 50 * time.Millisecond, 9 * time.Second} {
		record(a, d)
	}
	for _, d := range []time.Duration{3 * time.Microsecond, time.Second, 10 * time.Minute, 20 * time.Minute} {
		record(b, d)
	}
	if got, want := a.Merge(b), int64(0); got != want {
		t.Errorf("Merge dropped %d values, want %d", got, want)
	}
	if got, want := a.TotalCount(), int64(8); got != want {
		t.Errorf("TotalCount() after merge = %d, want %d", got, want)
	}
	if got, want := time.Duration(a.Max()), 10*time.Minute; !a.ValuesAreEquivalent(int64(got), int64(want)) {
		t.Errorf("Max() after merge = %v, want ≈ %v", got, want)
	}
}

func TestRecordClamps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Duration
		want time.Duration // the value the histogram holds (to its resolution)
	}{
		// Clock granularity can make an end precede its begin: counted as 0.
		{"negative", -5 * time.Microsecond, 0},
		// The most negative duration.
		{"min int64", math.MinInt64, 0},
		// Zero is below the lowest discernible value but still counted.
		{"zero", 0, 0},
		// The lowest discernible value.
		{"1µs", time.Microsecond, time.Microsecond},
		// An ordinary value.
		{"50ms", 50 * time.Millisecond, 50 * time.Millisecond},
		// Exactly the top of the range.
		{"10min", 10 * time.Minute, 10 * time.Minute},
		// Just above the range: clamped.
		{"10min+1ns", 10*time.Minute + 1, 10 * time.Minute},
		// Far above the range: clamped, not lost.
		{"1h", time.Hour, 10 * time.Minute},
		// The largest duration.
		{"max int64", math.MaxInt64, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := NewHistogram()
			record(h, tt.in)
			if got, want := h.TotalCount(), int64(1); got != want {
				t.Fatalf("TotalCount() = %d, want %d", got, want)
			}
			if got := Percentile(h, 100); !h.ValuesAreEquivalent(int64(got), int64(tt.want)) {
				t.Errorf("recorded %v as %v, want ≈ %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPercentileAndMean(t *testing.T) {
	t.Parallel()
	h := NewHistogram()
	for i := 1; i <= 100; i++ {
		record(h, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		// Percentiles are 0–100, not 0–1: p1 is the smallest value here.
		{1, time.Millisecond},
		// The median.
		{50, 50 * time.Millisecond},
		// The tail.
		{99, 99 * time.Millisecond},
		// The maximum.
		{100, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(h, tt.p); !h.ValuesAreEquivalent(int64(got), int64(tt.want)) {
			t.Errorf("Percentile(%g) = %v, want ≈ %v", tt.p, got, tt.want)
		}
	}
	if got, want := Mean(h), 50500*time.Microsecond; math.Abs(float64(got-want)) > 0.001*float64(want) {
		t.Errorf("Mean() = %v, want %v ± 0.1%%", got, want)
	}
}
