package lpsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Latency is a service-time distribution.
type Latency struct {
	Dist   string        `yaml:"dist"`   // "" or "none" (zero), "fixed" (Value), "uniform" (Min..Max), "lognormal" (Median, P99)
	Value  time.Duration `yaml:"value"`  // fixed
	Min    time.Duration `yaml:"min"`    // uniform
	Max    time.Duration `yaml:"max"`    // uniform
	Median time.Duration `yaml:"median"` // lognormal
	P99    time.Duration `yaml:"p99"`    // lognormal
}

// Fixed returns a Latency of exactly d.
func Fixed(d time.Duration) Latency { return Latency{Dist: "fixed", Value: d} }

// Uniform returns a Latency uniformly distributed over [lo, hi].
func Uniform(lo, hi time.Duration) Latency { return Latency{Dist: "uniform", Min: lo, Max: hi} }

// LogNormal returns a log-normal Latency with the given median and 99th percentile: the usual
// shape of a service time, with a long right tail.
func LogNormal(median, p99 time.Duration) Latency {
	return Latency{Dist: "lognormal", Median: median, P99: p99}
}

// Validate reports whether l is a known distribution with sensible parameters.
func (l Latency) Validate() error {
	switch l.Dist {
	case "", "none":
		return nil
	case "fixed":
		if l.Value < 0 {
			return fmt.Errorf("fixed latency %v is negative", l.Value)
		}
	case "uniform":
		if l.Min < 0 || l.Max < 0 {
			return fmt.Errorf("uniform latency %v..%v has a negative bound", l.Min, l.Max)
		}
		if l.Min > l.Max {
			return fmt.Errorf("uniform latency min %v is above max %v", l.Min, l.Max)
		}
	case "lognormal":
		if l.Median <= 0 {
			return fmt.Errorf("lognormal latency median %v is not positive", l.Median)
		}
		if l.P99 < l.Median {
			return fmt.Errorf("lognormal latency p99 %v is below median %v", l.P99, l.Median)
		}
	default:
		return fmt.Errorf(`unknown latency distribution %q (want "none", "fixed", "uniform" or "lognormal")`, l.Dist)
	}
	return nil
}

// String describes l, e.g. "lognormal(median=15ms, p99=60ms)".
func (l Latency) String() string {
	switch l.Dist {
	case "fixed":
		return fmt.Sprintf("fixed(%v)", l.Value)
	case "uniform":
		return fmt.Sprintf("uniform(%v..%v)", l.Min, l.Max)
	case "lognormal":
		return fmt.Sprintf("lognormal(median=%v, p99=%v)", l.Median, l.P99)
	}
	return "none"
}

// z99 is the standard normal quantile at 0.99: P99 = Median · exp(σ · z99).
const z99 = 2.3263478740408408

// sampler is a validated Latency prepared for sampling. It is immutable once built, so it can be
// swapped atomically by SetLatency while requests sample the old one.
type sampler struct {
	l         Latency
	mu, sigma float64 // lognormal parameters of the underlying normal, in ln(nanoseconds)
}

func newSampler(l Latency) *sampler {
	s := &sampler{l: l}
	if l.Dist == "lognormal" {
		s.mu = math.Log(float64(l.Median))
		s.sigma = (math.Log(float64(l.P99)) - s.mu) / z99
	}
	return s
}

// sample draws one service time; rng is used only by the random distributions.
func (s *sampler) sample(rng *lockedRand) time.Duration {
	switch s.l.Dist {
	case "fixed":
		return s.l.Value
	case "uniform":
		if s.l.Max == s.l.Min {
			return s.l.Min
		}
		return s.l.Min + time.Duration(rng.int64N(int64(s.l.Max-s.l.Min)+1))
	case "lognormal":
		if s.sigma == 0 {
			return s.l.Median
		}
		v := math.Exp(s.mu + s.sigma*rng.normFloat64())
		// Guard the float→int conversion against absurd parameters; no sane tail gets near it.
		if v >= math.MaxInt64/2 {
			return time.Duration(math.MaxInt64 / 2)
		}
		return time.Duration(v)
	}
	return 0
}

// lockedRand is a seeded generator shared by all requests of a Sim. Draws are a few nanoseconds,
// so a mutex costs less than allocating a source per request.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newLockedRand(seed int64) *lockedRand { return newLockedRandStream(seed, 0) }

// newLockedRandStream returns generator number stream of seed: streams of one seed are
// independent of each other and each reproducible.
func newLockedRandStream(seed int64, stream uint64) *lockedRand {
	s1, s2 := uint64(seed), uint64(seed)^0x9e3779b97f4a7c15^stream
	if seed == 0 {
		// Time-based, as documented; the global generator adds per-process randomness so two
		// Sims created in the same nanosecond still differ.
		s1, s2 = uint64(time.Now().UnixNano()), rand.Uint64()
	}
	return &lockedRand{r: rand.New(rand.NewPCG(s1, s2))}
}

func (r *lockedRand) int64N(n int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Int64N(n)
}

func (r *lockedRand) float64() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Float64()
}

func (r *lockedRand) normFloat64() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.NormFloat64()
}
