package engine

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/relay"
	"github.com/lpbench/lpbench/report"
)

// TestRunThroughRelay: with webhooks.relay the run listens nowhere: its receiver subscribes to
// the relay, whose URL the simulator gets as the account's webhook; every consumer is served
// through it, every delivery relayed and its hop recorded, the relay URL is in the result, the
// simulator's registration is gone at the end and the relay saw the subscriber leave.
func TestRunThroughRelay(t *testing.T) {
	t.Parallel()
	rl := relay.New(relay.Config{})
	srv := httptest.NewServer(rl.Handler())
	t.Cleanup(srv.Close)
	p := testProfile(10, 2*time.Second)
	p.Webhooks.Relay = srv.URL
	p.Webhooks.Listen = "256.0.0.1:1"             // would fail, were it used
	p.Journey.AwaitAutoMessage = 10 * time.Second // two hops on a busy machine: every one is awaited
	res, led, _ := runAgainst(t, p, quietSim(10*time.Second), nil)
	w, hop := res.Targets[0].Webhooks, res.Targets[0].RelayHop
	if w == nil || hop == nil || res.Relay != srv.URL {
		t.Fatalf("webhooks %+v, hop %v, relay %q", w, hop, res.Relay)
	}
	if h := res.Overall.Headline(); !h.Verified || h.Served != 20 || w.AutoMessages != 20 || led.Webhooks.FirstAutoMessagesDelivered != 20 {
		t.Errorf("served %d (receiver %+v), ledger %d", h.Served, *w, led.Webhooks.FirstAutoMessagesDelivered)
	}
	if w.Relayed != w.Received || w.Received != led.Webhooks.Delivered || hop.H.TotalCount() != w.Relayed {
		t.Errorf("relayed %d of %d received, ledger delivered %d, %d hops", w.Relayed, w.Received, led.Webhooks.Delivered, hop.H.TotalCount())
	}
	for _, c := range res.Checks {
		if c.Name == "webhook_relay" && !c.OK {
			t.Errorf("%s", c.Line())
		}
	}
	// The run has closed its subscription; the relay notices when its stream's write or the
	// request's context says so, a moment later.
	waitFor(t, "the relay to see the subscriber leave", func() bool { return len(rl.Stats().Left) > 0 })
	st := rl.Stats()
	if len(st.Left) != 1 || len(st.Subscribers) != 0 || !strings.HasSuffix(st.Left[0].Name, ".shard-0-of-1") {
		t.Errorf("relay stats %+v", st)
	}
}

// TestRunRelayLostAtEnd: the subscription is cut half-way through the run and cannot come back
// before the end, so the deliveries of the second half never reach the shard and no later one
// shows the gap: the shard reads the relay's final count at stop, counts them as missed, and
// webhook_relay fails (the run would exit 4) — they are lpbench's loss, not the target's.
func TestRunRelayLostAtEnd(t *testing.T) {
	t.Parallel()
	rl := relay.New(relay.Config{})
	var refuse atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if refuse.Load() && strings.HasPrefix(req.URL.Path, "/subscribe/") {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		rl.Handler().ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	cut := time.AfterFunc(time.Second, func() { refuse.Store(true); srv.CloseClientConnections() })
	defer cut.Stop()
	p := testProfile(10, 2*time.Second)
	p.Webhooks.Relay = srv.URL
	res, _, _ := runAgainst(t, p, quietSim(10*time.Second), nil)
	w := res.Targets[0].Webhooks
	if w == nil || w.RelayMissed == 0 || w.Relayed+w.RelayMissed != rl.Stats().Targets[0].Seq {
		t.Fatalf("webhooks %+v, relay seq %d: want relayed + missed = every delivery the relay received, some missed", w, rl.Stats().Targets[0].Seq)
	}
	c := checkNamed(t, res, "webhook_relay", res.Targets[0].Name)
	if c.OK || !report.ChecksFailed(res.Checks) {
		t.Errorf("webhook_relay holds: %s", c.Line())
	}
	t.Log(c.Line())
}

// waitFor polls cond until it holds, failing the test if it never does. It waits for a state,
// it does not assert on how long reaching it took.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
