package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
)

// TestAbortOnFail: a threshold with abort_on_fail that fails after its delay stops the arrivals
// (the rest counted not started), the caller is told once, and the result ends "thresholds
// aborted", for a threshold of the whole run or one scoped to the target.
func TestAbortOnFail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		target string // the threshold's scope
	}{
		// The whole run: create's p50 cannot be under 1 µs, so it aborts after its 1 s delay.
		{"whole run", ""},
		// Scoped to the run's only target, by name: the same.
		{"scoped", "sim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := testProfile(20, 10*time.Second)
			th, err := report.ParseThreshold("step.create.p50 < 1µs")
			if err != nil {
				t.Fatal(err)
			}
			p.Thresholds = []profiles.Threshold{{Expr: th.Expr, Target: tc.target, AbortOnFail: true, AbortDelay: time.Second, Parsed: th}}
			sim, err := lpsim.NewServer(quietSim(10 * time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			var told atomic.Int32
			start := time.Now()
			res, err := Run(context.Background(), context.Background(), p, Options{Sim: sim, OnAbort: func() { told.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			checkIdentities(t, res)
			if got := res.Targets[0].Name; tc.target != "" && got != tc.target {
				t.Fatalf("the profile's target is %q: fix the test's scope", got)
			}
			// Aborted 1 s after the first failing second, not at the schedule's end: most of the
			// 10 s of arrivals never start (a tenth, however busy the machine).
			if res.End != report.EndAborted || told.Load() != 1 || res.Arrivals.NotStarted < res.Arrivals.Planned/10 {
				t.Errorf("end %q, told %d times, not started %d of %d: want aborted, once, a tenth or more not started", res.End, told.Load(), res.Arrivals.NotStarted, res.Arrivals.Planned)
			}
			// How soon it stopped depends on the machine: arrivals not started (above) prove it
			// stopped before its schedule ended.
			t.Logf("the 10 s run aborted after %v, %d of %d arrivals not started", time.Since(start).Round(time.Millisecond), res.Arrivals.NotStarted, res.Arrivals.Planned)
		})
	}
}
