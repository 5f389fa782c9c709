package engine

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/compare"
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// These tests run whole journeys through the load generator and the recorder against the
// simulator on 127.0.0.1, and compare what lpbench reports with the simulator's ledger.

// testProfile returns the smoke profile at the given load.
func testProfile(rate float64, d time.Duration) profiles.Profile {
	p, err := profiles.Builtin("smoke")
	if err != nil {
		panic(err)
	}
	p.Load.Stages = []profiles.Stage{{Duration: d, Rate: profiles.Rate{From: rate, To: rate}}}
	p.Journey.AwaitAutoMessage = 2 * time.Second // a loaded machine delivered some after 500 ms
	p.Webhooks.Grace = 200 * time.Millisecond
	return p
}

// fixedDelay is a send delay of exactly d.
func fixedDelay(d time.Duration) profiles.Delay { return profiles.Delay{Dist: "fixed", Value: d} }

// quietSim returns a simulator config with no latency (tests add what they need).
func quietSim(window time.Duration) lpsim.Config {
	cfg := lpsim.DefaultConfig()
	cfg.Latency = nil
	cfg.Window = window
	cfg.Seed = 1
	return cfg
}

// runAgainst runs p against a simulator made from cfg, shaped by setup (which may be nil), and
// returns the result, the ledger, and every journey record.
func runAgainst(t *testing.T, p profiles.Profile, cfg lpsim.Config, setup func(*lpsim.Server)) (*report.Result, lpsim.Ledger, []sample.Record) {
	t.Helper()
	sim, err := lpsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if setup != nil {
		setup(sim)
	}
	var mu sync.Mutex
	var recs []sample.Record
	res, err := Run(context.Background(), context.Background(), p, Options{
		Sim: sim,
		Observe: func(j *sample.Record) {
			mu.Lock()
			recs = append(recs, *j)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, sim.Ledger(), recs
}

// checkIdentities asserts that every planned arrival ends in exactly one outcome.
func checkIdentities(t *testing.T, res *report.Result) {
	t.Helper()
	a, m := res.Arrivals, res.Overall
	if a.Planned != a.Started+a.Dropped+a.NotStarted {
		t.Errorf("planned %d ≠ started %d + dropped %d + not started %d", a.Planned, a.Started, a.Dropped, a.NotStarted)
	}
	if got := m.Started(); got != a.Started {
		t.Errorf("ok+failed+interrupted = %d, started = %d", got, a.Started)
	}
}

// TestRunMatchesLedger: a smoke run at a realistic latency; every step is measured, the counts add
// up, and the conversations, sends and closes equal the simulator's ledger exactly.
func TestRunMatchesLedger(t *testing.T) {
	t.Parallel()
	cfg := lpsim.DefaultConfig()
	cfg.Seed = 1
	p := testProfile(50, 2*time.Second)
	res, led, recs := runAgainst(t, p, cfg, nil)
	checkIdentities(t, res)
	m := res.Overall
	if got, want := res.Arrivals.Planned, int64(100); got != want {
		t.Errorf("planned = %d, want %d", got, want)
	}
	if got, want := m.Outcomes[sample.OutcomeOK], int64(100); got != want {
		t.Errorf("ok = %d, want %d (failures %v)", got, want, m.Failures)
	}
	for _, s := range []sample.Step{sample.Lookup, sample.AppJWT, sample.ConsumerJWS, sample.Create, sample.Send, sample.Close} {
		if m.Steps[s].TotalCount() == 0 {
			t.Errorf("step %s has no samples", s)
		}
	}
	var created, sent, closed int64
	for _, j := range recs {
		if j.Steps[sample.Create].Ran && j.Steps[sample.Create].Class == sample.ClassNone {
			created++
		}
		if j.Steps[sample.Send].Ran && j.Steps[sample.Send].Class == sample.ClassNone {
			sent++
		}
		if j.Steps[sample.Close].Ran && j.Steps[sample.Close].Class == sample.ClassNone {
			closed++
		}
	}
	for _, c := range []struct {
		what        string
		got, ledger int64
	}{
		{"conversations", created, led.ConversationsCreated},
		{"sends", sent, led.Sends},
		{"first sends", sent, led.FirstSends},
		{"closes", closed, led.ConversationsClosed},
		{"create requests", m.Requests[sample.Create], led.Requests[lpsim.EndpointCreate][200]},
		{"send requests", m.Requests[sample.Send], led.Requests[lpsim.EndpointSend][200]},
		{"AppJWT fetches", res.Targets[0].AppJWTFetches, led.AppJWTsIssued},
		{"auto messages", m.Verdicts[sample.VerdictIn], led.AutoMessagesTriggered},
	} {
		if c.got != c.ledger {
			t.Errorf("%s: lpbench %d, ledger %d", c.what, c.got, c.ledger)
		}
	}
	if created != 100 {
		t.Errorf("conversations = %d, want 100", created)
	}
}

// TestWindowMissed: journeys whose first SEND leaves after the window are counted missed, and the
// simulator emits no auto messages for them; the same run without the delay is in the window.
func TestWindowMissed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		window    time.Duration
		delay     time.Duration
		verdict   sample.Verdict
		autoMsgs  bool
		outcome   sample.Outcome
		failClass sample.Class
	}{
		// The consumer waits longer than the window before its first SEND.
		{"late send", 300 * time.Millisecond, 400 * time.Millisecond, sample.VerdictMissed, false, sample.OutcomeFailed, sample.ClassWindowMissed},
		// No wait: well inside a window no busy machine's CONVERSATION-to-SEND time reaches.
		{"prompt send", 5 * time.Second, 0, sample.VerdictIn, true, sample.OutcomeOK, sample.ClassNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := testProfile(20, 500*time.Millisecond)
			p.Window, p.Journey.SendDelay = tc.window, fixedDelay(tc.delay)
			res, led, recs := runAgainst(t, p, quietSim(tc.window), nil)
			checkIdentities(t, res)
			n := res.Arrivals.Planned
			if got := res.Overall.Verdicts[tc.verdict]; got != n {
				t.Errorf("%s verdicts = %d, want %d", tc.verdict, got, n)
			}
			if got := res.Overall.Failures[sample.Send][sample.ClassWindowMissed]; tc.verdict == sample.VerdictMissed && got != n {
				t.Errorf("window_missed failures = %d, want %d", got, n)
			}
			byID := map[string]lpsim.Conversation{}
			for _, c := range led.Conversations {
				byID[c.ID] = c
			}
			if got := res.Overall.AutoMsgReceived[tc.verdict]; tc.autoMsgs != (got == n) || (!tc.autoMsgs && got != 0) {
				t.Errorf("first auto messages received by %s journeys: %d of %d", tc.verdict, got, n)
			}
			for _, j := range recs {
				c, ok := byID[j.ConversationID]
				if !ok {
					t.Fatalf("journey %d: conversation %q not in the ledger", j.Index, j.ConversationID)
				}
				if c.AutoMessages != tc.autoMsgs {
					t.Errorf("journey %d: ledger auto messages %v, want %v (server gap %v)", j.Index, c.AutoMessages, tc.autoMsgs, c.Gap)
				}
				if j.Outcome != tc.outcome || j.Class != tc.failClass {
					t.Errorf("journey %d: outcome %v/%v, want %v/%v", j.Index, j.Outcome, j.Class, tc.outcome, tc.failClass)
				}
			}
		})
	}
}

// TestSlowConversationAnswer: when CONVERSATION itself takes longer than the window, the server
// sees a late first SEND (no auto messages), but the client cannot tell when the server received
// CONVERSATION, so it reports those journeys uncertain, never in.
func TestSlowConversationAnswer(t *testing.T) {
	t.Parallel()
	const window = 200 * time.Millisecond
	p := testProfile(20, 500*time.Millisecond)
	p.Window = window
	res, led, _ := runAgainst(t, p, quietSim(window), func(s *lpsim.Server) {
		s.SetLatency(lpsim.EndpointCreate, lpsim.Fixed(300*time.Millisecond))
	})
	checkIdentities(t, res)
	n := res.Arrivals.Planned
	if got := res.Overall.Verdicts[sample.VerdictUncertain]; got != n {
		t.Errorf("uncertain = %d, want %d (verdicts %v)", got, n, res.Overall.Verdicts)
	}
	if got := led.AutoMessagesTriggered; got != 0 {
		t.Errorf("ledger auto messages = %d, want 0", got)
	}
}

// TestNoClientPropertiesNoAutoMessages: without the header, conversations work and no auto
// messages are triggered.
func TestNoClientPropertiesNoAutoMessages(t *testing.T) {
	t.Parallel()
	p := testProfile(20, 500*time.Millisecond)
	p.Journey.AutoMessages = false
	res, led, _ := runAgainst(t, p, quietSim(10*time.Second), nil)
	checkIdentities(t, res)
	if got, want := led.ConversationsCreated, res.Arrivals.Planned; got != want {
		t.Errorf("conversations = %d, want %d", got, want)
	}
	if got := led.AutoMessagesTriggered; got != 0 {
		t.Errorf("ledger auto messages = %d, want 0", got)
	}
	for _, c := range led.Conversations {
		if c.CreateHeader || c.SendHeader {
			t.Errorf("conversation %s carried Client-Properties", c.ID)
		}
	}
	var got int64
	for _, n := range res.Overall.AutoMsgReceived {
		got += n
	}
	if got != 0 || led.Webhooks.FirstAutoMessagesDelivered != 0 {
		t.Errorf("auto messages without the header: %d received, ledger delivered %d", got, led.Webhooks.FirstAutoMessagesDelivered)
	}
}

// TestFixedLatencyMeasured: with create and send answering in exactly L, the reported p50 is
// within 1 ms + 2 % of L, and for every conversation the client's gap bounds enclose the server's.
//
// Timed for real: skipped under the race detector (CI runs it in a step without -race).
func TestFixedLatencyMeasured(t *testing.T) {
	if raceEnabled {
		t.Skip("timing fidelity: run without -race")
	}
	t.Parallel()
	const L = 40 * time.Millisecond
	p := testProfile(50, 2*time.Second)
	res, led, recs := runAgainst(t, p, quietSim(10*time.Second), func(s *lpsim.Server) {
		s.SetLatency(lpsim.EndpointCreate, lpsim.Fixed(L))
		s.SetLatency(lpsim.EndpointSend, lpsim.Fixed(L))
	})
	checkIdentities(t, res)
	tol := time.Millisecond + L*2/100
	for _, s := range []sample.Step{sample.Create, sample.Send} {
		p50 := hdr.Percentile(res.Overall.Steps[s], 50)
		if d := p50 - L; d < -tol || d > tol {
			t.Errorf("step.%s p50 = %v, want %v ± %v", s, p50, L, tol)
		}
	}
	server := map[string]time.Duration{}
	for _, c := range led.Conversations {
		server[c.ID] = c.Gap
	}
	if len(recs) != 100 {
		t.Fatalf("%d records, want 100", len(recs))
	}
	for _, j := range recs {
		gap, gapMin, ok := j.Gap()
		sg, found := server[j.ConversationID]
		if !ok || !found {
			t.Fatalf("journey %d: no gap (ok %v, in ledger %v)", j.Index, ok, found)
		}
		if gap < sg || gapMin > sg {
			t.Errorf("journey %d: server gap %v outside the client's bounds [%v, %v]", j.Index, sg, gapMin, gap)
		}
	}
}

// TestStallNotHidden: a 2 s stall of every response in the middle of the run shows in the
// journey latency (measured from the intended start), while arrivals keep to the schedule.
//
// Timed for real: skipped under the race detector (CI runs it in a step without -race).
func TestStallNotHidden(t *testing.T) {
	if raceEnabled {
		t.Skip("timing: run without -race")
	}
	t.Parallel()
	p := testProfile(50, 4*time.Second)
	res, _, _ := runAgainst(t, p, quietSim(10*time.Second), func(s *lpsim.Server) {
		time.AfterFunc(time.Second, func() { s.Stall(2 * time.Second) })
	})
	checkIdentities(t, res)
	if got, want := res.Arrivals.Started, res.Arrivals.Planned; got != want {
		t.Errorf("started %d of %d planned", got, want)
	}
	if p99 := hdr.Percentile(res.Overall.Journey, 99); p99 < 1500*time.Millisecond {
		t.Errorf("journey p99 = %v: the 2 s stall is hidden", p99)
	}
	if p50 := hdr.Percentile(res.Overall.Lag, 50); p50 > 5*time.Millisecond {
		t.Errorf("lag p50 = %v, want < 5ms: arrivals were held back", p50)
	}
}

// TestAppJWTExpiryRefreshed: AppJWTs that live 3 s over a 10 s run are renewed ahead of expiry:
// no auth failures, several fetches, far fewer than the consumers.
func TestAppJWTExpiryRefreshed(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("10 s run")
	}
	cfg := quietSim(10 * time.Second)
	cfg.AppJWTLifetime = 3 * time.Second
	p := testProfile(20, 10*time.Second)
	res, led, _ := runAgainst(t, p, cfg, nil)
	checkIdentities(t, res)
	m := res.Overall
	for s := range sample.NumSteps {
		if n := m.StepFailures[s][sample.ClassAuth]; n != 0 {
			t.Errorf("step %s: %d auth failures", s, n)
		}
	}
	if got := m.Outcomes[sample.OutcomeOK]; got != res.Arrivals.Planned {
		t.Errorf("ok = %d of %d", got, res.Arrivals.Planned)
	}
	fetches := res.Targets[0].AppJWTFetches
	if fetches < 3 || fetches > res.Arrivals.Started/20 {
		t.Errorf("AppJWT fetched %d times for %d consumers: want ≥ 3 and far fewer than consumers", fetches, res.Arrivals.Started)
	}
	if got := led.AppJWTsIssued; got != fetches {
		t.Errorf("ledger issued %d AppJWTs, lpbench fetched %d", got, fetches)
	}
	if got := led.Requests[lpsim.EndpointCreate][401] + led.Requests[lpsim.EndpointSend][401]; got != 0 {
		t.Errorf("ledger answered %d 401s", got)
	}
}

// TestInterruptCountsAddUp: stopping the arrivals mid-run still accounts for every arrival.
func TestInterruptCountsAddUp(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.NewServer(quietSim(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetLatency(lpsim.EndpointSend, lpsim.Fixed(2*time.Second))
	stop, cancelStop := context.WithCancel(context.Background())
	work, cancelWork := context.WithCancel(context.Background())
	defer cancelWork()
	time.AfterFunc(500*time.Millisecond, cancelStop)
	time.AfterFunc(700*time.Millisecond, cancelWork)
	res, err := Run(stop, work, testProfile(50, 5*time.Second), Options{Sim: sim})
	if err != nil {
		t.Fatal(err)
	}
	checkIdentities(t, res)
	a, m := res.Arrivals, res.Overall
	if a.NotStarted == 0 || m.Outcomes[sample.OutcomeInterrupted] == 0 {
		t.Errorf("not started %d, interrupted %d: want both > 0", a.NotStarted, m.Outcomes[sample.OutcomeInterrupted])
	}
	if got, want := res.End, report.EndInterrupted; got != want {
		t.Errorf("end = %v, want %v", got, want)
	}
	if res.Elapsed > 3*time.Second {
		t.Errorf("run took %v after being interrupted at 0.5 s", res.Elapsed)
	}
	// Conversations opened by interrupted journeys were closed.
	if led := sim.Ledger(); led.ConversationsClosed != led.ConversationsCreated {
		t.Errorf("closed %d of %d conversations", led.ConversationsClosed, led.ConversationsCreated)
	}
}

// TestWindowEdge: send delays spread across the window's edge. Every journey's verdict agrees with
// the simulator's ledger, and the gap the simulator saw lies within the journey's bounds of it;
// one whose planned delay alone reaches the window is missed (its send cannot reach the simulator
// sooner); and the by-delay counts are the journeys', bucket by bucket, all missed from the
// window on. Where below the window a journey fell depends on how promptly a loaded machine sent
// it, so the simulator's clock and the journey's bounds judge those, not the planned delay.
func TestWindowEdge(t *testing.T) {
	t.Parallel()
	const window = time.Second
	p := testProfile(60, time.Second)
	p.Window = window
	p.Journey.SendDelay = profiles.Delay{Dist: "uniform", Min: 500 * time.Millisecond, Max: 1500 * time.Millisecond}
	res, led, recs := runAgainst(t, p, quietSim(window), nil)
	checkIdentities(t, res)
	convs := map[string]lpsim.Conversation{}
	for _, c := range led.Conversations {
		convs[c.ID] = c
	}
	m := res.Overall
	var want [report.DelayBuckets][sample.NumVerdicts]int64
	late := 0
	for _, j := range recs {
		c, ok := convs[j.ConversationID]
		switch {
		case !ok:
			t.Errorf("journey %d: conversation not in the ledger", j.Index)
		case j.Verdict == sample.VerdictIn && !c.AutoMessages:
			t.Errorf("journey %d (delay %v): in the window, but the ledger has no auto messages", j.Index, j.SendDelay)
		case j.Verdict == sample.VerdictMissed && c.AutoMessages:
			t.Errorf("journey %d (delay %v): missed, but the ledger has auto messages", j.Index, j.SendDelay)
		}
		if gap, gapMin, ok := j.Gap(); ok && (c.Gap < gapMin || c.Gap > gap) {
			t.Errorf("journey %d: the simulator saw a gap of %v, outside the journey's bounds [%v, %v]", j.Index, c.Gap, gapMin, gap)
		}
		if j.SendDelay >= window && j.Verdict != sample.VerdictMissed {
			t.Errorf("journey %d: delay %v, verdict %v", j.Index, j.SendDelay, j.Verdict)
		}
		if ok && j.SendDelay < window && c.Gap > window {
			late++
		}
		b := min(max(int(j.SendDelay*10/window), 0), report.DelayBuckets-1)
		want[b][j.Verdict]++
	}
	if late > 0 {
		t.Logf("%d journeys planned within the window reached the simulator after it (a loaded machine)", late)
	}
	if m.ByDelay != want {
		t.Errorf("by delay %v, the journeys' verdicts by delay %v", m.ByDelay, want)
	}
	for i := 10; i < report.DelayBuckets; i++ {
		if v := m.ByDelay[i]; v[sample.VerdictIn] != 0 || v[sample.VerdictUncertain] != 0 {
			t.Errorf("bucket %d, at or past the window: verdicts %v, want all missed", i, v)
		}
	}
	// A planned delay of the window or more is missed whatever the machine's speed; how many
	// made it in depends on it (none, when every send was held up half a second).
	if m.Verdicts[sample.VerdictMissed] == 0 {
		t.Errorf("verdicts %v: want missed journeys", m.Verdicts)
	}
	t.Logf("verdicts %v", m.Verdicts)
}

// TestTargetsShareByWeight: two simulator accounts with weights 3 and 1 get 3/4 and 1/4 of the
// arrivals, each with its own counts that add up.
func TestTargetsShareByWeight(t *testing.T) {
	t.Parallel()
	p := testProfile(40, time.Second)
	p.Targets = []profiles.Target{{Name: "va", Account: "12345678", Weight: 3}, {Name: "lo", Account: "23456789", Weight: 1}}
	res, led, _ := runAgainst(t, p, quietSim(10*time.Second), nil)
	checkIdentities(t, res)
	if got, want := res.PerTarget[0].Arrivals.Planned, int64(30); got != want {
		t.Errorf("va planned %d, want %d", got, want)
	}
	if got, want := res.PerTarget[1].Arrivals.Planned, int64(10); got != want {
		t.Errorf("lo planned %d, want %d", got, want)
	}
	perAccount := map[string]int64{}
	for _, c := range led.Conversations {
		perAccount[c.Account]++
	}
	if perAccount["12345678"] != res.PerTarget[0].Outcomes[sample.OutcomeOK] || perAccount["23456789"] != res.PerTarget[1].Outcomes[sample.OutcomeOK] {
		t.Errorf("ledger conversations by account %v, lpbench ok %d / %d", perAccount,
			res.PerTarget[0].Outcomes[sample.OutcomeOK], res.PerTarget[1].Outcomes[sample.OutcomeOK])
	}
}

// compareRun returns a run of 200 journeys/s for 4 s against a simulator whose CONVERSATION
// answers in a log-normal time of the given median (p99 = 1.6 × median), every other endpoint in
// 100 ms (p99 160 ms): enough that what the machine's load adds to a step (its scheduling delays,
// the client's own fraction of a millisecond) is not what is compared. (At 10 ms, one CI run's
// close p50 was 10.70 ms in some runs and 11.07 ms in others, 3.4 %, past the 2 % minimum
// effect; at 40 ms on a busy machine, one lookup p50 42.66 and 44.30 ms.) Two run at once
// (atOnce), so each runs at half the 400/s that one alone once did: at 400/s each, beside two
// busy loops, the client's own waiting for a core took the CONVERSATION 20 % slower below 10 %.
func compareRun(seed int64, median time.Duration) func() (*report.Metrics, error) {
	return func() (*report.Metrics, error) {
		cfg := quietSim(10 * time.Second)
		cfg.Seed = seed
		cfg.Capacity = nil // latency, not queueing: 200/s × 240 ms is 48 CONVERSATIONs at a time
		p := testProfile(200, 4*time.Second)
		p.Journey.Lookup = profiles.LookupPerConsumer
		return simMetrics(p, cfg, func(s *lpsim.Server) {
			for _, e := range []lpsim.Endpoint{lpsim.EndpointCSDS, lpsim.EndpointConsumerJWS, lpsim.EndpointSend, lpsim.EndpointClose} {
				s.SetLatency(e, lpsim.LogNormal(100*time.Millisecond, 160*time.Millisecond))
			}
			s.SetLatency(lpsim.EndpointCreate, lpsim.LogNormal(median, median*16/10))
		})
	}
}

// simMetrics runs p against a simulator made from cfg, shaped by setup, and returns the run's
// overall metrics. Unlike runAgainst it needs no *testing.T, so that two can run in goroutines.
func simMetrics(p profiles.Profile, cfg lpsim.Config, setup func(*lpsim.Server)) (*report.Metrics, error) {
	sim, err := lpsim.NewServer(cfg)
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	setup(sim)
	res, err := Run(context.Background(), context.Background(), p, Options{Sim: sim})
	if err != nil {
		return nil, err
	}
	return res.Overall, nil
}

// atOnce runs a and b at the same time, each in a goroutine of its own, so that what the
// machine's load does to one run it does to the other: run one after the other, a busy CI
// machine once slowed every step of one run by 20–25 ms, and compare rightly called that run
// worse.
func atOnce(t *testing.T, a, b func() (*report.Metrics, error)) (ra, rb *report.Metrics) {
	t.Helper()
	var errA, errB error
	var wg sync.WaitGroup
	wg.Go(func() { ra, errA = a() })
	wg.Go(func() { rb, errB = b() })
	wg.Wait()
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	return ra, rb
}

// comparePair runs compareRun with seeds and CONVERSATION medians a and b, at once (atOnce).
func comparePair(t *testing.T, seedA, seedB int64, a, b time.Duration) (ra, rb *report.Metrics) {
	return atOnce(t, compareRun(seedA, a), compareRun(seedB, b))
}

// TestCompareSimRuns: compare finds a 20 % slower CONVERSATION (a median of 240 ms against 200)
// worse at p50 and p99, and finds no significant change at p50 for any step between runs of one
// configuration in at least 4 of 5 pairs. The steps are that slow so that a busy machine's
// scheduling delays (milliseconds at p99) are small beside them, and each pair runs at once
// (comparePair).
//
// The runs are timed for real, so the test runs alone (no other test in parallel) and not under
// the race detector, whose slowdown of the client would be what is compared; CI runs it in a step
// of its own without -race.
func TestCompareSimRuns(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("6 timed pairs of 4-s runs: run without -race and -short")
	}
	t.Run("20% slower", func(t *testing.T) {
		base, slow := comparePair(t, 1, 2, 200*time.Millisecond, 240*time.Millisecond)
		cs := compare.Runs(base, slow, compare.Options{Seed: 1})
		for _, metric := range []string{"step.create.p50", "step.create.p99"} {
			if worse, err := compare.Regressed(cs, metric, 10); err != nil || !worse {
				t.Errorf("%s: worse by more than 10%% = %v (%v)", metric, worse, err)
			}
		}
	})
	t.Run("same configuration", func(t *testing.T) {
		clean := 0
		for pair := range int64(5) {
			a, b := comparePair(t, 10+2*pair, 11+2*pair, 200*time.Millisecond, 200*time.Millisecond)
			cs := compare.Runs(a, b, compare.Options{Seed: uint64(pair)})
			changed := 0
			for _, c := range cs {
				if strings.HasPrefix(c.Metric, "step.") && strings.HasSuffix(c.Metric, ".p50") &&
					(c.Direction == compare.DirectionBetter || c.Direction == compare.DirectionWorse) {
					changed++
					t.Logf("pair %d: %s %s (%v → %v)", pair, c.Metric, c.Direction, time.Duration(c.Base), time.Duration(c.New))
				}
			}
			if changed == 0 {
				clean++
			}
		}
		if clean < 4 {
			t.Errorf("%d of 5 same-configuration pairs without a significant change at p50, want ≥ 4", clean)
		}
	})
}

// TestCompareSimRunsBySecond: runs long enough for compare's block bootstrap (12 s, each second
// a unit): two runs of one configuration, run at once, show no significant change beyond 5 % in
// any step or the journey, and a CONVERSATION 30 % slower, run at once with one of the base
// configuration, is worse at p50 and p90, every interval resampled in seconds.
// Timed for real, like TestCompareSimRuns.
func TestCompareSimRunsBySecond(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("2 timed pairs of 12-s runs: run without -race and -short")
	}
	run := func(seed int64, median time.Duration) func() (*report.Metrics, error) {
		return func() (*report.Metrics, error) {
			cfg := quietSim(10 * time.Second)
			cfg.Seed = seed
			p := testProfile(100, 12*time.Second)
			return simMetrics(p, cfg, func(s *lpsim.Server) {
				// Every step's median is 50 ms, so that the apparatus's own share of a step (the
				// client, the in-process simulator's timers: a fraction of a millisecond) is
				// small beside it.
				for _, e := range []lpsim.Endpoint{lpsim.EndpointCSDS, lpsim.EndpointConsumerJWS, lpsim.EndpointSend, lpsim.EndpointClose} {
					s.SetLatency(e, lpsim.LogNormal(50*time.Millisecond, 80*time.Millisecond))
				}
				s.SetLatency(lpsim.EndpointCreate, lpsim.LogNormal(median, median*16/10))
			})
		}
	}
	a, b := atOnce(t, run(21, 50*time.Millisecond), run(22, 50*time.Millisecond))
	base, slow := atOnce(t, run(24, 50*time.Millisecond), run(23, 65*time.Millisecond))
	for _, c := range compare.Runs(a, b, compare.Options{Seed: 3}) {
		// served and window.not_in have no per-second counts (single journeys); cached steps and lag
		// are never judged.
		perSecond := c.Judged() && c.Metric != "served" && c.Metric != "window.not_in"
		if c.Direction != compare.DirectionNoData && perSecond && (c.BaseBlock == 0 || c.NewBlock == 0) {
			t.Errorf("A/A %s: not resampled in seconds (blocks %d, %d s)", c.Metric, c.BaseBlock, c.NewBlock)
		}
		if !(strings.HasPrefix(c.Metric, "step.") || strings.HasPrefix(c.Metric, "journey.")) ||
			(c.Direction != compare.DirectionWorse && c.Direction != compare.DirectionBetter) {
			continue
		}
		// Two runs of one configuration differ by more than their sampling: the apparatus
		// (this process's client and simulator on a shared machine) shifts by a few percent
		// from one run to the next, which no resampling within a run can see — the history's
		// run-to-run band is the tool for that. Seen in CI: consumerjws p50 10.85 → 10.59 ms
		// (−2.4 %), and here 51.7 → 49.9 ms (−3.5 %), each flagged. A flag beyond 5 % is no
		// such shift. (The intervals' calibration is compare's TestCompareBlocksCalibration.)
		if rel := math.Abs(c.New-c.Base) / c.Base; rel > 0.05 {
			t.Errorf("A/A %s: %s by %.1f%% (%v → %v, interval [%v, %v])", c.Metric, c.Direction, 100*rel,
				time.Duration(c.Base), time.Duration(c.New), time.Duration(c.Low), time.Duration(c.High))
		} else {
			t.Logf("A/A %s: %s by %.1f%%, within the run-to-run shift of the apparatus", c.Metric, c.Direction, 100*rel)
		}
	}
	cs := compare.Runs(base, slow, compare.Options{Seed: 3})
	for _, metric := range []string{"step.create.p50", "step.create.p90"} {
		if worse, err := compare.Regressed(cs, metric, 10); err != nil || !worse {
			t.Errorf("CONVERSATION 30%% slower: %s worse by more than 10%% = %v (%v)", metric, worse, err)
		}
	}
}

// webhookSim is a quiet simulator whose webhooks lose the given share of delivery attempts.
func webhookSim(loss float64, retries int) lpsim.Config {
	cfg := quietSim(10 * time.Second)
	cfg.Webhooks = lpsim.DefaultWebhookConfig()
	cfg.Webhooks.Latency = lpsim.Fixed(5 * time.Millisecond)
	cfg.Webhooks.Loss = loss
	cfg.Webhooks.MaxRetries = retries
	cfg.Webhooks.RetryInterval = 200 * time.Millisecond
	// A receiver on 127.0.0.1 answers far sooner however busy the machine: an attempt that
	// timed out would be retried or dropped like a lost one, and the tests count those.
	cfg.Webhooks.Timeout = 10 * time.Second
	return cfg
}

// TestAutoMessagesLost: with 5 % of the webhook deliveries lost and no retries, the journeys that
// report no_auto_message are exactly the conversations whose first auto message the simulator
// dropped; with retries the auto messages are recovered, and the retry delay shows in automsg.
func TestAutoMessagesLost(t *testing.T) {
	t.Parallel()
	t.Run("no retries", func(t *testing.T) {
		t.Parallel()
		p := testProfile(50, 4*time.Second)
		// Long enough for a delivery on a busy machine: only the dropped ones are missed.
		p.Journey.AwaitAutoMessage = 5 * time.Second
		res, led, recs := runAgainst(t, p, webhookSim(0.05, 0), nil)
		checkIdentities(t, res)
		missing := res.Overall.Failures[sample.AutoMsg][sample.ClassNoAutoMessage]
		if missing == 0 || missing != led.Webhooks.FirstAutoMessagesDropped {
			t.Errorf("no_auto_message journeys %d, ledger dropped first auto messages %d", missing, led.Webhooks.FirstAutoMessagesDropped)
		}
		delivered := map[string]bool{}
		for _, c := range led.Conversations {
			delivered[c.ID] = c.FirstAutoMessageDelivered
		}
		for _, j := range recs {
			got := j.Steps[sample.AutoMsg].Ran && j.Steps[sample.AutoMsg].Class == sample.ClassNone
			if got != delivered[j.ConversationID] {
				t.Errorf("journey %d: auto message received %v, ledger delivered %v", j.Index, got, delivered[j.ConversationID])
			}
		}
		th, _ := report.ParseThreshold("automsg.missing < 1%")
		if v, ok, pass := th.Assess(res.Overall); !ok || pass || v != float64(missing)/float64(res.Overall.AutoMsgAwaited[sample.VerdictIn]) {
			t.Errorf("automsg.missing = %v (ok %v, pass %v)", v, ok, pass)
		}
	})
	t.Run("retries", func(t *testing.T) {
		t.Parallel()
		p := testProfile(50, 4*time.Second)
		p.Journey.AwaitAutoMessage = 8 * time.Second // three retries 200 ms apart, on a busy machine
		res, led, _ := runAgainst(t, p, webhookSim(0.05, 3), nil)
		checkIdentities(t, res)
		if n := res.Overall.Failures[sample.AutoMsg][sample.ClassNoAutoMessage]; n != 0 || led.Webhooks.Retried == 0 {
			t.Errorf("no_auto_message %d with retries (ledger retried %d)", n, led.Webhooks.Retried)
		}
		if maxAuto := time.Duration(res.Overall.AutoMsg.Max()); maxAuto < 200*time.Millisecond {
			t.Errorf("automsg max %v: the 200 ms retry delay does not show", maxAuto)
		}
	})
}

// TestLateWebhooksCounted: deliveries that come after their journeys stopped waiting, but within
// the receiver's grace after the run, are counted late, not lost.
func TestLateWebhooksCounted(t *testing.T) {
	t.Parallel()
	cfg := webhookSim(0, 0)
	cfg.Webhooks.Latency = lpsim.Fixed(300 * time.Millisecond)
	p := testProfile(20, 500*time.Millisecond)
	p.Journey.AwaitAutoMessage = 50 * time.Millisecond
	p.Webhooks.Grace = 5 * time.Second // the receiver's wait after the run: 300 ms deliveries on a busy machine
	p.Journey.Close = false            // the last deliveries then come after the last journey ends
	res, _, _ := runAgainst(t, p, cfg, nil)
	w := res.Targets[0].Webhooks
	if w == nil || w.Late != res.Arrivals.Started || w.AutoMessages != 0 {
		t.Errorf("webhook stats %+v: want every first auto message late (%d)", w, res.Arrivals.Started)
	}
}

// TestCapacityKnee: a ramp against a simulator whose CONVERSATION serves 10 requests at once in
// 50 ms each (capacity C = 200/s) reports its knee — where the gap p99 rises and stays up —
// within 20 % of C.
//
// Timed for real: skipped under the race detector (CI runs it in a step without -race).
func TestCapacityKnee(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a 12 s timed ramp: run without -race and -short")
	}
	const capacity = 200.0
	cfg := quietSim(10 * time.Second)
	cfg.Capacity = map[lpsim.Endpoint]lpsim.ServiceLimit{lpsim.EndpointCreate: {Concurrency: 10}}
	p := testProfile(0, 0)
	p.Load.Stages = []profiles.Stage{{Duration: 12 * time.Second, Rate: profiles.Rate{From: 50, To: 350}}}
	p.Load.MaxInFlight = 20000
	res, _, _ := runAgainst(t, p, cfg, func(s *lpsim.Server) {
		s.SetLatency(lpsim.EndpointCreate, lpsim.Fixed(50*time.Millisecond))
	})
	k := report.FindKnee(res.Overall.Series)
	for _, pt := range res.Overall.Series {
		t.Logf("target %6.1f/s  arrivals %4d  gap p99 %v", pt.TargetRate, pt.Arrivals, pt.GapP99)
	}
	if !k.Found {
		t.Fatalf("no knee found")
	}
	if k.TargetRate < 0.8*capacity || k.TargetRate > 1.2*capacity {
		t.Errorf("knee at %.0f journeys/s (second %d), want %.0f ± 20 %%", k.TargetRate, k.Second, capacity)
	}
	var out strings.Builder
	render.Summary(res)(&out)
	if !strings.Contains(out.String(), "knee: from ") {
		t.Errorf("the summary does not report the knee:\n%s", out.String())
	}
}
