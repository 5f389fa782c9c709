package report

import (
	"slices"
	"time"
)

// Knee is where a ramp's service stopped keeping up with the arrivals.
type Knee struct {
	Found      bool
	Second     int           // seconds since the series' first point
	TargetRate float64       // the arrival rate asked for in that second
	Baseline   time.Duration // gap p99 early in the run
	GapP99     time.Duration // gap p99 in that second
}

// KneeFactor and kneeSustain define the knee: the first second from which the gap p99 stays
// above KneeFactor × its early level for kneeSustain seconds in a row. One noisy second is not a
// knee; a queue building up is.
const (
	KneeFactor  = 2.0
	kneeSustain = 3
)

// FindKnee looks for the knee of the gap in a time series. The early level is the median gap p99
// of the first fifth of the seconds that measured a gap (at least three of them); a series with
// fewer than 5 × kneeSustain such seconds has neither knee nor early level (Knee{}).
func FindKnee(s Series) Knee {
	var early []time.Duration
	with := 0
	for _, p := range s {
		if p.GapP99 > 0 {
			with++
		}
	}
	if with < 5*kneeSustain {
		return Knee{}
	}
	for _, p := range s {
		if p.GapP99 > 0 && len(early) < max(with/5, 3) {
			early = append(early, p.GapP99)
		}
	}
	slices.Sort(early)
	base := early[len(early)/2]
	limit := time.Duration(float64(base) * KneeFactor)
	run := 0
	for i, p := range s {
		if p.GapP99 > limit {
			run++
		} else if p.GapP99 > 0 {
			run = 0
		}
		if run == kneeSustain {
			k := i - kneeSustain + 1
			for s[k].GapP99 <= limit { // the run's first second (skipping empty ones)
				k++
			}
			return Knee{Found: true, Second: k, TargetRate: s[k].TargetRate, Baseline: base, GapP99: s[k].GapP99}
		}
	}
	return Knee{Baseline: base}
}

// FirstMisses returns the first second (since the series' start) with missed windows, and its
// target rate; ok is false when no journey missed.
func FirstMisses(s Series) (second int, rate float64, ok bool) {
	for i, p := range s {
		if p.Missed > 0 {
			return i, p.TargetRate, true
		}
	}
	return 0, 0, false
}

// ramped reports whether the series' target rate varied enough (×2) for a knee to mean anything.
func Ramped(s Series) bool {
	// The seconds the schedule asked for something: the first and last of them are partial, and
	// the seconds after it (journeys draining, target 0) are not part of it.
	var planned []float64
	for _, p := range s {
		if p.TargetRate > 0 {
			planned = append(planned, p.TargetRate)
		}
	}
	if len(planned) < 3 {
		return false
	}
	lo, hi := -1.0, 0.0
	for _, r := range planned[1 : len(planned)-1] {
		if lo < 0 || r < lo {
			lo = r
		}
		hi = max(hi, r)
	}
	return lo > 0 && hi >= 2*lo
}
