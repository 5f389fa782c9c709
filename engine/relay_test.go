package engine

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/relay"
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
	p.Webhooks.Listen = "256.0.0.1:1" // would fail, were it used
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
	st := rl.Stats()
	if len(st.Left) != 1 || len(st.Subscribers) != 0 || !strings.HasSuffix(st.Left[0].Name, ".shard-0-of-1") {
		t.Errorf("relay stats %+v", st)
	}
}
