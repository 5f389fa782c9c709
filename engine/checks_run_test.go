package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
)

// These tests run whole journeys against the simulator on 127.0.0.1 and make one measurement
// check fail for its reason.

// checkNamed returns the result's check name (of target, "" for the whole run).
func checkNamed(t *testing.T, res *report.Result, name, target string) report.Check {
	t.Helper()
	for _, c := range res.Checks {
		if c.Name == name && c.Target == target {
			return c
		}
	}
	t.Fatalf("no check %s [%s] in %+v", name, target, res.Checks)
	return report.Check{}
}

// TestEveryCheckComputed: a short run against a quiet simulator computes every check, once each
// (one target, one schedule, no relay: all but webhook_relay), and those that judge neither the
// machine's speed nor the timing of its arrivals hold: percentile_support (no percentile
// threshold) and webhook_receiver (60 journeys' deliveries, none dropped).
//
// Whether generator_lag, generator_cpu, load_delivered, arrivals and stationary hold depends on
// the CPU the generator got, which a busy test machine does not give: they are the run's own
// judgement of its measurement, asserted where the machine is the generator's alone — CI's smoke
// run, which must exit 0 (a failed check exits 4) — and each is made to fail for its reason by
// the tests below.
func TestEveryCheckComputed(t *testing.T) {
	t.Parallel()
	p := testProfile(20, 3*time.Second)
	res, _, _ := runAgainst(t, p, quietSim(10*time.Second), nil)
	seen := map[string]int{}
	for _, c := range res.Checks {
		seen[c.Name]++
		t.Log(c.Line())
	}
	for _, name := range report.CheckNames {
		want := 1
		if name == "webhook_relay" {
			want = 0
		}
		if seen[name] != want {
			t.Errorf("check %s computed %d times, want %d", name, seen[name], want)
		}
	}
	if len(res.Checks) != len(report.CheckNames)-1 {
		t.Errorf("%d checks, want %d", len(res.Checks), len(report.CheckNames)-1)
	}
	for _, c := range []report.Check{checkNamed(t, res, "percentile_support", ""), checkNamed(t, res, "webhook_receiver", "sim")} {
		if !c.OK {
			t.Errorf("%s", c.Line())
		}
	}
}

// TestCheckStalledDispatcher: the dispatcher waits for a slot (when_full: queue) behind two slow
// journeys, so the arrivals go out seconds late: generator_lag fails and names the generator —
// or, where a busy machine left most of them unstarted when the run ended (fewer than 20: the
// lag is judged on started arrivals), load_delivered does: either way the run is no measurement
// of the target.
func TestCheckStalledDispatcher(t *testing.T) {
	t.Parallel()
	p := testProfile(20, 2*time.Second)
	p.Load.MaxInFlight, p.Load.WhenFull = 2, profiles.WhenFullQueue
	res, _, _ := runAgainst(t, p, quietSim(10*time.Second), func(s *lpsim.Server) {
		s.SetLatency(lpsim.EndpointSend, lpsim.Fixed(200*time.Millisecond))
	})
	lag, delivered := checkNamed(t, res, "generator_lag", ""), checkNamed(t, res, "load_delivered", "")
	t.Log(lag.Line())
	t.Log(delivered.Line())
	c := lag
	if lag.OK && res.Arrivals.Started >= 20 { // a quiet machine starts 25 – 30 of the 40, late
		t.Errorf("generator_lag holds over %d started arrivals: %s", res.Arrivals.Started, lag.Line())
	} else if lag.OK {
		c = delivered
	}
	if c.OK {
		t.Fatalf("generator_lag and load_delivered hold: %s; %s", lag.Line(), delivered.Line())
	}
	if !strings.Contains(c.Message, "the generator") {
		t.Errorf("message %q does not name the generator", c.Message)
	}
	if !report.ChecksFailed(res.Checks) {
		t.Error("ChecksFailed = false: the run would exit 0")
	}
}

// TestCheckFullPool: five slots and slow SENDs drop most arrivals: load_delivered fails and
// names max_in_flight.
func TestCheckFullPool(t *testing.T) {
	t.Parallel()
	p := testProfile(20, 2*time.Second)
	p.Load.MaxInFlight = 5
	res, _, _ := runAgainst(t, p, quietSim(10*time.Second), func(s *lpsim.Server) {
		s.SetLatency(lpsim.EndpointSend, lpsim.Fixed(500*time.Millisecond))
	})
	if res.Arrivals.Dropped == 0 {
		t.Fatalf("nothing dropped: %+v", res.Arrivals)
	}
	c := checkNamed(t, res, "load_delivered", "")
	if c.OK {
		t.Fatalf("load_delivered holds: %s", c.Line())
	}
	if !strings.Contains(c.Message, "max_in_flight 5 reached") {
		t.Errorf("message %q does not name max_in_flight", c.Message)
	}
}

// TestCheckThinPercentile: a p99.9 threshold judged on 200 journeys rests on less than one
// value above it: percentile_support fails and says how many samples there were.
func TestCheckThinPercentile(t *testing.T) {
	t.Parallel()
	p := testProfile(100, 2*time.Second)
	th, err := report.ParseThreshold("journey.p99.9 < 1h")
	if err != nil {
		t.Fatal(err)
	}
	p.Thresholds = []profiles.Threshold{{Expr: th.Expr, Parsed: th}}
	res, _, _ := runAgainst(t, p, quietSim(10*time.Second), nil)
	c := checkNamed(t, res, "percentile_support", "")
	if c.OK {
		t.Fatalf("percentile_support holds: %s", c.Line())
	}
	if want := "journey.p99.9 from 200 samples"; !strings.HasPrefix(c.Measured, want) {
		t.Errorf("measured %q, want it to start %q", c.Measured, want)
	}
}

// TestCheckGrowingQueue: CONVERSATION serves one request at a time in 50 ms (20/s) and the load
// asks 25/s for 15 s: the queue only grows, stationary fails for the target at that stage, and
// the generator is not blamed (its lag holds).
//
// Timed for real: skipped under the race detector and -short (CI runs it without -race).
func TestCheckGrowingQueue(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a 15 s timed run: run without -race and -short")
	}
	cfg := quietSim(time.Minute)
	cfg.Capacity = map[lpsim.Endpoint]lpsim.ServiceLimit{lpsim.EndpointCreate: {Concurrency: 1}}
	p := testProfile(25, 15*time.Second)
	p.Window = time.Minute
	res, _, _ := runAgainst(t, p, cfg, func(s *lpsim.Server) {
		s.SetLatency(lpsim.EndpointCreate, lpsim.Fixed(50*time.Millisecond))
	})
	c := checkNamed(t, res, "stationary", res.Targets[0].Name)
	t.Log(c.Line())
	if c.OK {
		t.Fatalf("stationary holds: %s", c.Line())
	}
	if want := "at 25/s (stage 1) the"; !strings.Contains(c.Message, want) || !strings.Contains(c.Message, "not sustainable for the target") {
		t.Errorf("message %q does not name the stage and the target", c.Message)
	}
	if lag := checkNamed(t, res, "generator_lag", ""); !lag.OK {
		t.Errorf("the generator is blamed: %s", lag.Line())
	}
}
