//go:build unix

package loadgen

import (
	"context"
	"crypto/sha256"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDispatchLag dispatches b.N arrivals at 1,000/s on the real clock and reports the lag
// of their tasks (actual start, taken first thing in the task, − intended start) at p50, p99 and
// p99.9, and the process's CPU per arrival (user + system, whatever else the process runs).
// "runtime" sleeps on the runtime's timers, "kernel" with PreciseWake. "noop" tasks do nothing;
// "work" tasks hash 64 KiB, so the dispatcher shares the Ps with busy tasks as it does in a run.
// Run it with a fixed count (arrivals), e.g.
//
//	go test -run '^$' -bench DispatchLag -benchtime 5000x -count 3 ./loadgen/
func BenchmarkDispatchLag(b *testing.B) {
	buf := make([]byte, 64<<10)
	for _, precise := range []bool{false, true} {
		for _, bc := range []struct {
			name string
			work func()
		}{
			{"noop", func() {}},
			{"work", func() { sha256.Sum256(buf) }},
		} {
			name := map[bool]string{false: "runtime", true: "kernel"}[precise] + "/" + bc.name
			b.Run(name, func(b *testing.B) { benchLag(b, 1000, precise, bc.work) })
		}
	}
}

// benchLag runs b.N arrivals at rate per second, each task calling work, and reports the lag
// percentiles and CPU per arrival.
func benchLag(b *testing.B, rate float64, precise bool, work func()) {
	lags := make([]time.Duration, b.N)
	woke := make([]time.Duration, b.N) // the dispatcher's own lateness, at OnDispatch
	r := &Runner{
		Plan:        Constant(rate, time.Duration(float64(b.N)/rate*float64(time.Second))),
		MaxInFlight: 10000,
		PreciseWake: precise,
	}
	r.Task = func(_ context.Context, a Arrival) {
		lags[a.Index] = time.Since(r.Epoch) - a.Intended
		work()
	}
	r.OnDispatch = func(a Arrival, at time.Duration) { woke[a.Index] = at - a.Intended }
	cpu0 := processCPU()
	b.ResetTimer()
	r.Epoch = time.Now().Add(10 * time.Millisecond)
	c := r.Run(context.Background(), context.Background())
	b.StopTimer()
	if c.Started != int64(b.N) {
		b.Fatalf("started %d of %d arrivals", c.Started, b.N)
	}
	cpu := processCPU() - cpu0
	slices.Sort(lags)
	slices.Sort(woke)
	q := func(p float64) float64 { return quantileMicros(lags, p) }
	b.ReportMetric(quantileMicros(woke, 0.99), "dispatch-p99-µs")
	b.ReportMetric(q(0.50), "lag-p50-µs")
	b.ReportMetric(q(0.99), "lag-p99-µs")
	b.ReportMetric(q(0.999), "lag-p99.9-µs")
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/arrival")
	b.ReportMetric(0, "ns/op")
}

// processCPU returns the CPU time (user + system) the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// quantileMicros returns the p-quantile of the sorted ds in microseconds.
func quantileMicros(ds []time.Duration, p float64) float64 {
	return float64(ds[min(int(p*float64(len(ds))), len(ds)-1)]) / float64(time.Microsecond)
}
