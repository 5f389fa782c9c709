package report

import "testing"

// TestRamped: a constant rate is no ramp, whatever its partial first and last seconds and the
// drain seconds after the schedule (target 0) look like; a rate that doubles is.
func TestRamped(t *testing.T) {
	t.Parallel()
	series := func(rates ...float64) Series {
		s := make(Series, len(rates))
		for i, r := range rates {
			s[i].TargetRate = r
		}
		return s
	}
	for _, tc := range []struct {
		name string
		s    Series
		want bool
	}{
		// 20/s with a partial last second, then two seconds of drain: constant.
		{"constant with drain", series(12, 20, 20, 8, 0, 0), false},
		// Constant, whole seconds.
		{"constant", series(20, 20, 20, 20), false},
		// 10 → 40/s.
		{"ramp", series(5, 10, 20, 30, 40, 0), true},
		// Too short to tell.
		{"short", series(5, 40), false},
	} {
		if got := Ramped(tc.s); got != tc.want {
			t.Errorf("%s: ramped = %v, want %v", tc.name, got, tc.want)
		}
	}
}
