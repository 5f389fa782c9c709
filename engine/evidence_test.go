package engine

import (
	"context"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// TestOutcomeFromEvidence: every combination of the client's timing verdict and the webhook's
// evidence ends as specified — received means ok, whatever the timing said; no auto message
// means failed, no_auto_message when the timing said in, window_missed otherwise — and the
// evidence agrees with the simulator's ledger journey by journey.
func TestOutcomeFromEvidence(t *testing.T) {
	t.Parallel()
	// The window is 1.5 s and what crosses it takes 2 s: a prompt journey has 1.5 s to spare and
	// a late one is 500 ms past it, far more than a busy machine moves either.
	const window, beyond = 1500 * time.Millisecond, 2 * time.Second
	for _, tc := range []struct {
		name     string
		delay    time.Duration              // send delay
		simWin   time.Duration              // the simulator's window (the client judges window)
		setup    func(*lpsim.Server)        // latency shaping
		webhooks func(*lpsim.WebhookConfig) // delivery shaping
		verdict  sample.Verdict
		received bool
		outcome  sample.Outcome
		class    sample.Class
	}{
		// A prompt SEND, delivered: served.
		{"in, received", 0, window, nil, nil, sample.VerdictIn, true, sample.OutcomeOK, sample.ClassNone},
		// A prompt SEND whose auto message the webhook loses: the consumer went unserved.
		{"in, not received", 0, window, nil, func(w *lpsim.WebhookConfig) { w.Loss = 1 },
			sample.VerdictIn, false, sample.OutcomeFailed, sample.ClassNoAutoMessage},
		// SEND answered slowly: the client's upper bound passes the window, the server saw the
		// SEND at once and sent the auto message: the evidence decides ok.
		{"uncertain, received", 0, window, func(s *lpsim.Server) { s.SetLatency(lpsim.EndpointSend, lpsim.Fixed(beyond)) }, nil,
			sample.VerdictUncertain, true, sample.OutcomeOK, sample.ClassNone},
		// CONVERSATION answered slowly: the server received the SEND late and stays silent.
		{"uncertain, not received", 0, window, func(s *lpsim.Server) { s.SetLatency(lpsim.EndpointCreate, lpsim.Fixed(beyond)) }, nil,
			sample.VerdictUncertain, false, sample.OutcomeFailed, sample.ClassWindowMissed},
		// A SEND certainly after the window, and no auto message.
		{"missed, not received", beyond, window, nil, nil,
			sample.VerdictMissed, false, sample.OutcomeFailed, sample.ClassWindowMissed},
		// The server's window is longer than the client's: an auto message after a missed window,
		// the anomaly LivePerson says never happens. The consumer was served: ok.
		{"missed, received", beyond, 10 * time.Second, nil, nil,
			sample.VerdictMissed, true, sample.OutcomeOK, sample.ClassNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := testProfile(20, 500*time.Millisecond)
			p.Window, p.Journey.SendDelay = window, fixedDelay(tc.delay)
			cfg := webhookSim(0, 0)
			cfg.Window = tc.simWin
			if tc.webhooks != nil {
				tc.webhooks(&cfg.Webhooks)
			}
			res, led, recs := runAgainst(t, p, cfg, tc.setup)
			checkIdentities(t, res)
			n := res.Arrivals.Planned
			delivered := map[string]bool{}
			for _, c := range led.Conversations {
				delivered[c.ID] = c.FirstAutoMessageDelivered
			}
			for _, j := range recs {
				got := j.Steps[sample.AutoMsg].Class == sample.ClassNone && j.Steps[sample.AutoMsg].Ran
				if j.Verdict != tc.verdict || got != tc.received || j.Outcome != tc.outcome || j.Class != tc.class {
					t.Errorf("journey %d: %v, received %v → %v/%v; want %v, %v → %v/%v",
						j.Index, j.Verdict, got, j.Outcome, j.Class, tc.verdict, tc.received, tc.outcome, tc.class)
				}
				if got != delivered[j.ConversationID] {
					t.Errorf("journey %d: received %v, ledger delivered %v", j.Index, got, delivered[j.ConversationID])
				}
			}
			m := res.Overall
			if got, want := m.AutoMsgReceived[tc.verdict], map[bool]int64{true: n, false: 0}[tc.received]; got != want {
				t.Errorf("received by %v journeys: %d, want %d", tc.verdict, got, want)
			}
			if got, want := m.Outcomes[sample.OutcomeOK], m.AutoMsgReceived[tc.verdict]; got != want {
				t.Errorf("ok %d ≠ received %d: ok must mean served", got, want)
			}
		})
	}
}

// freeAddr returns a loopback address nothing listens on (for a receiver whose URL a test must
// know before the run).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSharedStandaloneSimulator: two runs share one standalone simulator (same account), each
// through -sim-url, which registers its own webhook receiver. Every notification reaches both
// receivers, each losing its own 10 %; each run's first auto messages — received in time, or
// late (after its journey stopped waiting, which a loaded machine makes happen) — equal the
// ledger's deliveries to its endpoint for its own conversations, it counts the other run's as
// unmatched, and the two add up to the ledger's total of consumers served at their own run's
// endpoint. A journey is ok only for one received in time.
func TestSharedStandaloneSimulator(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.NewServer(webhookSim(0.1, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	type run struct {
		hook string
		res  *report.Result
		recs []sample.Record
	}
	runs := make([]*run, 2)
	var wg sync.WaitGroup
	for i := range runs {
		r := &run{hook: freeAddr(t)}
		runs[i] = r
		p := testProfile(40, 2*time.Second)
		p.Webhooks.Listen = r.hook
		// The accounting is the point, not the timing: a conversation's notifications reach an
		// endpoint in order, each after the one before was answered, which on a loaded machine
		// (two runs, -race) can take longer than testProfile's wait.
		p.Journey.AwaitAutoMessage, p.Webhooks.Grace = 2*time.Second, time.Second
		var mu sync.Mutex
		o := Options{SimURL: sim.URL, Observe: func(j *sample.Record) { mu.Lock(); r.recs = append(r.recs, *j); mu.Unlock() }}
		wg.Go(func() {
			var err error
			if r.res, err = Run(context.Background(), context.Background(), p, o); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	led := sim.Ledger()
	var total, mine, late int64 // the ledger's served consumers, and conversations, of both runs; late ones
	for _, r := range runs {
		checkIdentities(t, r.res)
		id := endpointOf(t, led, "http://"+r.hook+"/webhook/"+r.res.Targets[0].Name)
		own := map[string]bool{}
		for _, j := range r.recs {
			own[j.ConversationID] = true
		}
		var want int64
		for _, c := range led.Conversations {
			if d, ok := c.FirstAutoMessageAt(id); own[c.ID] && ok && d.Delivered {
				want++
			}
		}
		total += want
		mine += int64(len(own))
		w := r.res.Targets[0].Webhooks
		if w == nil {
			t.Fatalf("run at %s verified nothing", r.hook)
		}
		if got := received(r.res.Overall); got != w.AutoMessages || w.AutoMessages+w.Late != want {
			t.Errorf("run at %s: received %d (receiver %d in time, %d late), ledger delivered %d to it for its conversations %+v", r.hook, got, w.AutoMessages, w.Late, want, *w)
		}
		if ok := r.res.Overall.Outcomes[sample.OutcomeOK]; ok > w.AutoMessages || ok == 0 || 2*w.AutoMessages < want {
			t.Errorf("run at %s: ok %d, served in time %d of the %d delivered: want ok ≤ served, and most in time", r.hook, ok, w.AutoMessages, want)
		}
		late += w.Late
		if other := led.ConversationsCreated - int64(len(own)); w.Unmatched < other*8/10 {
			t.Errorf("run at %s: %d unmatched, the other run made %d conversations", r.hook, w.Unmatched, other)
		}
	}
	if got, want := received(runs[0].res.Overall)+received(runs[1].res.Overall)+late, total; got != want || total == 0 {
		t.Errorf("the runs received %d first auto messages (%d late), the ledger delivered %d to their own endpoints", got, late, want)
	}
	if mine != led.ConversationsCreated {
		t.Errorf("the runs' conversations %d, the ledger's %d", mine, led.ConversationsCreated)
	}
	if n := len(sim.Webhooks()); n != 0 {
		t.Errorf("%d webhook registrations left after the runs", n)
	}
}

// endpointOf returns the id of the ledger's endpoint with the given URL.
func endpointOf(t *testing.T, led lpsim.Ledger, url string) string {
	t.Helper()
	for id, e := range led.WebhookEndpoints {
		if e.URL == url {
			return id
		}
	}
	t.Fatalf("no webhook endpoint %s in the ledger: %+v (webhooks %+v)", url, led.WebhookEndpoints, led.Webhooks)
	return ""
}

// received returns the journeys that received their first auto message, whatever their verdict.
func received(m *report.Metrics) int64 {
	var n int64
	for _, c := range m.AutoMsgReceived {
		n += c
	}
	return n
}

// TestWithoutHeaderJudgedByTiming: without the AUTO_MESSAGES header no auto message can come, so
// nothing is awaited: journeys are judged by timing alone (ok when in the window), not failed as
// unserved, and the headline says the auto messages were not verified.
func TestWithoutHeaderJudgedByTiming(t *testing.T) {
	t.Parallel()
	p := testProfile(20, 500*time.Millisecond)
	p.Journey.AutoMessages = false
	res, _, _ := runAgainst(t, p, quietSim(10*time.Second), nil)
	checkIdentities(t, res)
	h := res.Overall.Headline()
	if h.Verified || h.Served != res.Arrivals.Started || res.Overall.Outcomes[sample.OutcomeOK] != res.Arrivals.Started {
		t.Errorf("headline %+v, outcomes %v: want every journey ok by timing, not verified", h, res.Overall.Outcomes)
	}
	if res.Targets[0].Webhooks != nil {
		t.Errorf("a receiver waited for auto messages that cannot come: %+v", res.Targets[0].Webhooks)
	}
}

// TestShardTargetRate: a shard's series asks for its share of the plan (every shards-th
// arrival), so that the shards' series add up to the plan's rate when merged.
func TestShardTargetRate(t *testing.T) {
	t.Parallel()
	p := testProfile(40, 10*time.Second)
	targets := []*targetRun{{prof: p.Targets[0], share: 1}}
	for _, shards := range []int{1, 4} {
		got := targetRate(p, targets, shards)(0, 2*time.Second, 3*time.Second)
		if want := 40.0 / float64(shards); math.Abs(got-want) > 1e-9 {
			t.Errorf("%d shards: target %g/s, want %g/s", shards, got, want)
		}
	}
}
