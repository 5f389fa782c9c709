package engine

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
)

// capacityProfile is the smoke journey against a quiet embedded simulator whose CONVERSATION
// serves at most create requests per second (0: unlimited), judged against window.
func capacityProfile(create float64, window time.Duration) profiles.Profile {
	p := testProfile(10, time.Second)
	p.Sim = quietSim(window)
	p.Sim.Capacity = map[lpsim.Endpoint]lpsim.Capacity{lpsim.EndpointCreate: {Rate: create}}
	p.Window = window
	p.Load.MaxInFlight = 20000
	return p
}

// TestCapacityFindsTheSimulatorsLimit: against a simulator whose CONVERSATION serves C per
// second (requests beyond queue, so the gap grows by the excess), the search finds C within
// 10 %, in at most 12 steps, with an interval that holds it, and names the target.
//
// Timed for real: skipped with -short and under the race detector, which makes the generator
// late.
func TestCapacityFindsTheSimulatorsLimit(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a search of about a minute, timed for real")
	}
	for _, tc := range []struct {
		name     string
		capacity float64
		from     float64
	}{
		// A capacity bracketed from half of it.
		{"100/s", 100, 50},
		// A capacity between two doublings of the first rate.
		{"250/s", 250, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := capacityProfile(tc.capacity, 200*time.Millisecond)
			start := time.Now()
			c, err := Capacity(context.Background(), context.Background(), p, CapacityOptions{
				From: tc.from, Step: 4 * time.Second, Progress: testWriter{t},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("C %g/s: sustainable %g/s, interval %v, %d steps, %s", tc.capacity, c.SustainableRate, c.Interval, len(c.Steps), time.Since(start).Round(time.Second))
			if got, want := c.Bound, report.BoundTarget; got != want {
				t.Errorf("bound %q, want %q", got, want)
			}
			if !c.Found {
				t.Fatalf("no rate found: %s", report.CapacityHeadline(c))
			}
			if rel := math.Abs(c.SustainableRate-tc.capacity) / tc.capacity; rel > 0.10 {
				t.Errorf("sustainable %g/s is %.0f%% off the capacity %g/s", c.SustainableRate, 100*rel, tc.capacity)
			}
			if lo, hi := c.Interval[0], c.Interval[1]; !(lo <= c.SustainableRate && c.SustainableRate <= hi) || hi == 0 {
				t.Errorf("interval %v does not hold %g/s", c.Interval, c.SustainableRate)
			}
			if n := len(c.Steps); n > 12 {
				t.Errorf("%d steps, want at most 12", n)
			}
		})
	}
}

// testWriter writes each line to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}
