// Package report aggregates journey records into HDR histograms and counters (one recorder
// goroutine owns them all) and renders the result. It knows nothing of HTTP.
package report

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The one histogram geometry of lpbench: nanoseconds from 1 µs to 10 min at 3 significant digits.
// Every histogram is made by NewHistogram so that any two merge without loss.
const (
	histMin     = int64(time.Microsecond)
	histMax     = int64(10 * time.Minute)
	histSigFigs = 3
)

// NewHistogram returns an empty histogram of lpbench's geometry.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMin, histMax, histSigFigs)
}

// record adds d to h, clamped into the histogram's range: a negative duration (clock granularity)
// counts as 0, and one beyond 10 minutes as 10 minutes, so no sample is lost.
func record(h *hdrhistogram.Histogram, d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if v > histMax {
		v = histMax
	}
	_ = h.RecordValue(v) // cannot fail: v is in range
}

// Percentile returns the value at percentile p (0–100) as a Duration.
func Percentile(h *hdrhistogram.Histogram, p float64) time.Duration {
	return time.Duration(h.ValueAtQuantile(p))
}

// maxOf returns the histogram's largest value, 0 when it is empty (hdrhistogram reports the top
// of its lowest bucket then).
func maxOf(h *hdrhistogram.Histogram) time.Duration {
	if h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.Max())
}

// mergeHistogram adds from into into, refusing a histogram of another geometry (whose values
// would be lost or moved) and any merge that drops values.
func mergeHistogram(into, from *hdrhistogram.Histogram) error {
	if from.LowestTrackableValue() != into.LowestTrackableValue() || from.HighestTrackableValue() != into.HighestTrackableValue() ||
		from.SignificantFigures() != into.SignificantFigures() {
		return fmt.Errorf("histogram geometry differs: %d..%d at %d digits, want %d..%d at %d digits",
			from.LowestTrackableValue(), from.HighestTrackableValue(), from.SignificantFigures(),
			into.LowestTrackableValue(), into.HighestTrackableValue(), into.SignificantFigures())
	}
	if dropped := into.Merge(from); dropped != 0 {
		return fmt.Errorf("merging dropped %d values", dropped)
	}
	return nil
}
