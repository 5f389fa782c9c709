package lpsim

import (
	"slices"
	"testing"
	"time"
)

func TestLatencySample(t *testing.T) {
	t.Parallel()
	const n = 20000
	const ms = time.Millisecond
	type bounds struct{ lo, hi time.Duration }
	tests := []struct {
		name          string
		l             Latency
		all, p50, p99 bounds // where every draw, the median and the 99th percentile must fall
	}{
		// Zero.
		{"none", Latency{}, bounds{0, 0}, bounds{0, 0}, bounds{0, 0}},
		// Exactly the value.
		{"fixed", Fixed(7 * ms), bounds{7 * ms, 7 * ms}, bounds{7 * ms, 7 * ms}, bounds{7 * ms, 7 * ms}},
		// Inside the bounds, median near the middle.
		{"uniform", Uniform(10*ms, 20*ms), bounds{10 * ms, 20 * ms}, bounds{14 * ms, 16 * ms}, bounds{19 * ms, 20 * ms}},
		// Degenerate uniform.
		{"uniform point", Uniform(ms, ms), bounds{ms, ms}, bounds{ms, ms}, bounds{ms, ms}},
		// Median and p99 within 10% of the parameters.
		{"lognormal", LogNormal(40*ms, 150*ms), bounds{0, time.Hour}, bounds{36 * ms, 44 * ms}, bounds{135 * ms, 165 * ms}},
		// Degenerate lognormal.
		{"lognormal point", LogNormal(ms, ms), bounds{ms, ms}, bounds{ms, ms}, bounds{ms, ms}},
	}
	rng := newLockedRand(42)
	for _, tt := range tests {
		if err := tt.l.Validate(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		s := newSampler(tt.l)
		xs := make([]time.Duration, n)
		for i := range xs {
			xs[i] = s.sample(rng)
		}
		slices.Sort(xs)
		for _, q := range []struct {
			what string
			got  time.Duration
			want bounds
		}{
			{"min", xs[0], tt.all},
			{"max", xs[n-1], tt.all},
			{"p50", xs[n/2], tt.p50},
			{"p99", xs[n*99/100], tt.p99},
		} {
			if q.got < q.want.lo || q.got > q.want.hi {
				t.Errorf("%s: %s = %v, want %v..%v", tt.name, q.what, q.got, q.want.lo, q.want.hi)
			}
		}
	}
}

func TestLatencyString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		l    Latency
		want string
	}{
		{Latency{}, "none"},               // zero value
		{Latency{Dist: "none"}, "none"},   // explicit none
		{Fixed(time.Second), "fixed(1s)"}, // fixed
		{Uniform(time.Millisecond, 2*time.Millisecond), "uniform(1ms..2ms)"},                      // uniform
		{LogNormal(15*time.Millisecond, 60*time.Millisecond), "lognormal(median=15ms, p99=60ms)"}, // lognormal
	}
	for _, tt := range tests {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestSeedIsReproducible(t *testing.T) {
	t.Parallel()
	s := newSampler(LogNormal(10*time.Millisecond, 50*time.Millisecond))
	a, b := newLockedRand(7), newLockedRand(7)
	for i := range 100 {
		if x, y := s.sample(a), s.sample(b); x != y {
			t.Fatalf("draw %d: %v != %v with the same seed", i, x, y)
		}
	}
}
