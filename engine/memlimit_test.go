package engine

import (
	"context"
	"math"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp"
)

// TestMemoryLimit: a run sets the process's soft memory limit while it dispatches — the one
// asked, by default DefaultMemoryLimit or more for a run of many journeys in flight, none when asked for none, the environment's when
// GOMEMLIMIT is set — and restores the one before when it returns. (Not parallel: the limit is
// the process's.)
func TestMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	for _, tc := range []struct {
		name  string
		limit int64
		env   string
		want  int64
	}{
		{"asked", 96 << 20, "", 96 << 20},
		{"default", 0, "", DefaultMemoryLimit},
		// 20,000 asked, as many as the descriptor limit allows a connection each (9,984 for
		// 20,000 descriptors): 351 MiB.
		{"default, 20,000 in flight", 0, "", max(DefaultMemoryLimit, int64(inFlightBound(20000, lp.MaxJourneys()))*journeyMemory)},
		{"none", -1, "", math.MaxInt64},
		{"GOMEMLIMIT", 0, "200MiB", before},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tc.env)
			var during atomic.Int64
			p := testProfile(20, 100*time.Millisecond)
			if tc.name == "default, 20,000 in flight" {
				p.Load.MaxInFlight = 20000
			}
			_, err := Run(context.Background(), context.Background(), p, Options{
				MemoryLimit: tc.limit,
				Events: func(e Event) {
					if e.Kind == EventDispatching {
						during.Store(debug.SetMemoryLimit(-1))
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := during.Load(); got != tc.want {
				t.Errorf("limit during the run %d, want %d", got, tc.want)
			}
			if got := debug.SetMemoryLimit(-1); got != before {
				t.Errorf("limit after the run %d, want the one before, %d", got, before)
			}
		})
	}
}
