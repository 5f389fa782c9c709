package capacity

import (
	"context"
	"errors"
	"math"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/validity"
)

// testProfile is the smoke profile at a constant rate for d, its auto messages awaited briefly.
func testProfile(rate float64, d time.Duration) profiles.Profile {
	p, err := profiles.Builtin("smoke")
	if err != nil {
		panic(err)
	}
	p.Load.Stages = []profiles.Stage{{Duration: d, Rate: profiles.Rate{From: rate, To: rate}}}
	p.Journey.AwaitAutoMessage = 500 * time.Millisecond
	p.Webhooks.Grace = 200 * time.Millisecond
	return p
}

// quietSim returns a simulator config with no latency (tests add what they need).
func quietSim(window time.Duration) lpsim.Config {
	cfg := lpsim.DefaultConfig()
	cfg.Latency = nil
	cfg.Window = window
	cfg.Seed = 1
	return cfg
}

// capacityProfile is the smoke journey against a quiet embedded simulator whose CONVERSATION
// serves at most create requests per second (0: unlimited), judged against window.
func capacityProfile(create float64, window time.Duration) profiles.Profile {
	p := testProfile(10, time.Second)
	p.Sim = quietSim(window)
	p.Sim.Capacity = map[lpsim.Endpoint]lpsim.ServiceLimit{lpsim.EndpointCreate: {Rate: create}}
	p.Window = window
	p.Load.MaxInFlight = 20000
	return p
}

// TestCapacityFindsTheSimulatorsLimit: against a simulator whose CONVERSATION serves C per
// second (requests beyond queue, so the gap grows by the excess), the search finds C within
// 10 %, in at most 12 steps on a clean edge (20 on a noisy one) and without doubling after its
// first failure, with an interval that holds it, and names the target.
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
			c, err := Search(context.Background(), context.Background(), p, Options{
				From: tc.from, Step: validity.ShortestStep, Events: logSteps(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("C %g/s: sustainable %g/s, interval %v, %d steps, %s", tc.capacity, c.SustainableRate, c.Interval, len(c.Steps), time.Since(start).Round(time.Second))
			if got, want := c.Bound, report.BoundTarget; got != want {
				t.Errorf("bound %q, want %q", got, want)
			}
			if !c.Found {
				t.Fatalf("no rate found: %s", render.CapacityHeadline(c))
			}
			if rel := math.Abs(c.SustainableRate-tc.capacity) / tc.capacity; rel > 0.10 {
				t.Errorf("sustainable %g/s is %.0f%% off the capacity %g/s", c.SustainableRate, 100*rel, tc.capacity)
			}
			if lo, hi := c.Interval[0], c.Interval[1]; !(lo <= c.SustainableRate && c.SustainableRate <= hi) || hi == 0 {
				t.Errorf("interval %v does not hold %g/s", c.Interval, c.SustainableRate)
			}
			// The search converges without wandering: after its first failure it never doubles
			// again. A clean edge takes at most 12 steps. A rate at the edge may pass and fail
			// in turn (with short steps and a 200-ms window, 262.5/s is one: CI saw it pass, fail,
			// pass), and a failed confirmation reopens the bisection below it, which may cost a
			// few steps more: then 20 (within the default MaxSteps, 24). A step repeated because
			// the generator was late (phase retry: a busy machine's doing, not the search's) is
			// not counted.
			edge := edgeRates(c.Steps)
			bound := 12
			if len(edge) > 0 {
				bound = 20
			}
			retries := 0
			for _, st := range c.Steps {
				if st.Phase == "retry" {
					retries++
				}
			}
			if n := len(c.Steps) - retries; n > bound {
				t.Errorf("%d steps besides %d retried, want at most %d (rates that both passed and failed: %v)", n, retries, bound, edge)
			}
			// The first failure the search recorded (not a step it repeated for its generator
			// checks: those are retried, then bracketing goes on).
			targetFailed := func(st report.CapacityStep) bool { return !st.Pass && st.JudgesTarget() }
			if k := slices.IndexFunc(c.Steps, targetFailed); k >= 0 {
				for _, st := range c.Steps[k+1:] {
					if st.Phase == "bracket" {
						t.Errorf("a bracket step at %g/s after the first failure (at %g/s): the search wandered", st.Rate, c.Steps[k].Rate)
					}
				}
			}
		})
	}
}

// edgeRates returns the rates that both passed and failed on the target, in order.
func edgeRates(steps []report.CapacityStep) []float64 {
	passed := map[float64]bool{}
	failed := map[float64]bool{}
	var edge []float64
	for _, st := range steps {
		if st.Pass {
			passed[st.Rate] = true
		} else {
			failed[st.Rate] = true
		}
		if passed[st.Rate] && failed[st.Rate] && !slices.Contains(edge, st.Rate) {
			edge = append(edge, st.Rate)
		}
	}
	return edge
}

// logSteps writes each step of the search to the test log.
func logSteps(t *testing.T) func(Event) {
	return func(e Event) {
		t.Helper()
		t.Log(e.Message)
		for _, why := range e.Result.Why {
			t.Log("  " + why)
		}
	}
}

// TestCapacityStepFailsOnStationarity: 10 % above a capacity of 100/s the queue grows by 0.1 s
// each second, so in a 14-s step the last consumers wait about 1.4 s — far inside the 10-s
// window, every auto message comes — yet the step fails, on stationarity alone.
//
// Timed for real: skipped with -short and under the race detector.
func TestCapacityStepFailsOnStationarity(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a 14-s step, timed for real")
	}
	p := capacityProfile(100, 10*time.Second)
	o := Options{Step: 14 * time.Second}
	if err := o.defaults(p); err != nil {
		t.Fatal(err)
	}
	st, err := runStep(context.Background(), context.Background(), p, &o, 1, 110, "bracket")
	if err != nil {
		t.Fatal(err)
	}
	for _, why := range st.Why {
		t.Log(why)
	}
	t.Logf("gap p99 %.2fs, grew %.3f s/s", st.GapP99, st.GapGrowth)
	if st.Pass {
		t.Fatal("the step passed: a growing queue went unnoticed")
	}
	if got, want := strings.Join(st.Failed, ","), report.CriterionStationary; got != want {
		t.Errorf("failed on %q, want %q alone (the window was not missed)", got, want)
	}
	if st.GapGrowth < 0.05 {
		t.Errorf("gap p99 grew %.3f s/s, want about 0.1", st.GapGrowth)
	}
}

// TestCapacityCutByCaps: a search that its step or conversation cap ends before its rule does
// is not converged: no rate is found (exit 1), the interval keeps what was known, and the
// message names the cap.
//
// Timed for real: skipped with -short and under the race detector.
func TestCapacityCutByCaps(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("two searches of a few seconds, timed for real")
	}
	for _, tc := range []struct {
		name string
		o    Options
		cap  string
	}{
		{"max steps", Options{From: 20, Step: 7 * time.Second, MaxSteps: 2}, "-max-steps 2"},
		{"max conversations", Options{From: 20, Step: 7 * time.Second, MaxConversations: 200}, "the cap of 200 conversations (--max-conversations)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Events = logSteps(t)
			c, err := Search(context.Background(), context.Background(), capacityProfile(0, time.Second), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			code, meaning := exitcode.Capacity(c)
			t.Logf("%s; exit %d: %s", render.CapacityHeadline(c), code, meaning)
			if len(c.RunID) != 8 {
				t.Errorf("run id %q: want the search's own, 8 hex digits", c.RunID)
			}
			if c.Found || c.Bound != report.BoundBudget || code != exitcode.RunFailed {
				t.Errorf("found %v, bound %q, exit %d: want not found, bound %q, exit %d", c.Found, c.Bound, code, report.BoundBudget, exitcode.RunFailed)
			}
			if c.Interval[0] < 20 || !strings.Contains(c.Message, tc.cap) || !strings.HasPrefix(render.CapacityHeadline(c), "not converged: at least") {
				t.Errorf("interval %v, message %q: want the highest pass kept and the cap %q named", c.Interval, c.Message, tc.cap)
			}
		})
	}
}

// TestCapacityFirstStepOverCap: a first step that would already pass the conversation cap is
// refused before anything runs, naming the cap (exit 2 in the CLI), instead of a search that
// judged nothing.
func TestCapacityFirstStepOverCap(t *testing.T) {
	t.Parallel()
	_, err := Search(context.Background(), context.Background(), capacityProfile(0, time.Second),
		Options{From: 100, Step: 7 * time.Second, MaxConversations: 100})
	var ie *engine.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "would open 700 conversations, more than the cap of 100 (--max-conversations)") {
		t.Fatalf("err = %v, want an input error naming the cap", err)
	}
}

// TestSearchRule drives the search's state with a fixed capacity and no runs: the rates it asks
// for, in order.
func TestSearchRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		capacity  float64 // a step passes at or below it
		from, max float64
		want      []float64
		edge      float64 // a rate that fails the first time and passes after (a flaky edge)
	}{
		// Doubling to the first failure, bisection to 5 %, confirmation at 100 and one above.
		{"bracket and bisect", 100, 50, 0, []float64{50, 100, 200, 150, 125, 112.5, 106.25, 103.125, 100, 103.125}, 0},
		// The first rate fails: halving down to a pass, then bisecting below the lowest failure.
		{"from above", 100, 400, 0, []float64{400, 200, 100, 150, 125, 112.5, 106.25, 103.125, 100, 103.125}, 0},
		// Every rate passes up to the cap.
		{"capped", 1000, 100, 300, []float64{100, 200, 300}, 0},
		// Nothing passes: three halvings, then the search gives up.
		{"nothing passes", 1, 80, 0, []float64{80, 40, 20, 10}, 0},
		// The "above" step passes at the edge where the bisection saw a failure: it is the new
		// found rate, confirmed by that step, and the next failing rate above it (270) bounds the
		// search again — no new doubling (CI once saw 15 steps so).
		{"edge passes above", 256, 60, 0, []float64{60, 120, 240, 480, 360, 300, 270, 255, 262.5, 255, 262.5, 270}, 262.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{From: tc.from, Max: tc.max}
			if err := o.defaults(capacityProfile(0, time.Second)); err != nil {
				t.Fatal(err)
			}
			var s search
			var got []float64
			for range 20 {
				r, phase, done := s.next(&o)
				if done {
					break
				}
				pass := r <= tc.capacity
				if r == tc.edge {
					pass = slices.Contains(got, r) // failed the first time, passes after
				}
				got = append(got, r)
				s.record(r, phase, pass)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rates %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCapacityInterrupted: stopping the search during a step ends it there; the outcome says it
// was interrupted and keeps what was known, and the step is not judged.
func TestCapacityInterrupted(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a few seconds, timed for real")
	}
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps int
	o := Options{From: 20, Step: 7 * time.Second, Prepare: func(k int, _ float64, _ *engine.Options) (func(*report.Result) (string, error), error) {
		steps = k
		if k == 2 {
			time.AfterFunc(500*time.Millisecond, cancel)
		}
		return nil, nil
	}}
	c, err := Search(stop, context.Background(), capacityProfile(0, 2*time.Second), o)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Interrupted || c.Found || steps != 2 || len(c.Steps) != 2 {
		t.Fatalf("interrupted %v, found %v, %d steps started, %d recorded: %s", c.Interrupted, c.Found, steps, len(c.Steps), render.CapacityHeadline(c))
	}
	if got := c.Steps[1].Failed; len(got) != 1 || got[0] != report.CriterionInterrupted {
		t.Errorf("the interrupted step failed on %v, want interrupted", got)
	}
	if got, want := c.Interval[0], 20.0; got != want {
		t.Errorf("highest pass %g, want %g (the first step's)", got, want)
	}
}

// TestCapacityWorstCase: the plan printed before a live search: doubling from From to Max, then
// Max until MaxSteps, within the conversation cap.
func TestCapacityWorstCase(t *testing.T) {
	t.Parallel()
	p := capacityProfile(0, time.Second)
	steps, conv, d := WorstCase(p, Options{From: 10, Max: 40, Step: 10 * time.Second, CoolDown: 5 * time.Second, MaxSteps: 5})
	// 10, 20, 40, 40, 40 journeys/s for 10 s each.
	if steps != 5 || conv != 1500 || d != 75*time.Second {
		t.Errorf("worst case %d steps, %g conversations, %s; want 5, 1500, 1m15s", steps, conv, d)
	}
	steps, conv, _ = WorstCase(p, Options{From: 10, Max: 40, Step: 10 * time.Second, MaxSteps: 5, MaxConversations: 500})
	if steps != 2 || conv != 300 {
		t.Errorf("capped at 500: %d steps, %g conversations; want 2, 300", steps, conv)
	}
}

// TestCapacityFailedStepClosesItsFiles: a step whose run cannot start (its standalone simulator
// is not there) ends the search with an error, and what Prepare opened for it is closed: done
// is called once, with no result.
func TestCapacityFailedStepClosesItsFiles(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more
	var calls []*report.Result
	o := Options{From: 20, Step: 7 * time.Second, Run: engine.Options{SimURL: gone},
		Prepare: func(int, float64, *engine.Options) (func(*report.Result) (string, error), error) {
			return func(res *report.Result) (string, error) { calls = append(calls, res); return "", nil }, nil
		}}
	if _, err := Search(context.Background(), context.Background(), capacityProfile(0, time.Second), o); err == nil {
		t.Fatal("the search ran against a simulator that is not there")
	}
	if len(calls) != 1 || calls[0] != nil {
		t.Errorf("done called %d times (%v), want once with nil", len(calls), calls)
	}
}
