package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/sample"
)

// TestDrainEndsStuckJourneys: journeys still in flight the drain time after the last arrival
// are cancelled — counted failed with class timeout (their consumers were not served in time:
// they must not drop out of the verdict as interrupted ones do), their conversations closed —
// and the result says why, so an overloaded run ends near its schedule instead of waiting for
// every stuck request.
func TestDrainEndsStuckJourneys(t *testing.T) {
	t.Parallel()
	p := testProfile(20, 500*time.Millisecond)
	sim, err := lpsim.NewServer(quietSim(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetLatency(lpsim.EndpointSend, lpsim.Fixed(30*time.Second)) // far past the drain
	start := time.Now()
	res, err := Run(context.Background(), context.Background(), p, Options{Sim: sim, Drain: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	checkIdentities(t, res)
	if got, want := res.Overall.Failures[sample.Send][sample.ClassTimeout], res.Arrivals.Started; got != want || res.Overall.Outcomes[sample.OutcomeInterrupted] != 0 {
		t.Errorf("send timeouts %d, want every journey (%d), none interrupted (%d): SEND takes 30 s, the drain 300 ms",
			got, want, res.Overall.Outcomes[sample.OutcomeInterrupted])
	}
	if h := res.Overall.Headline(); h.Served != 0 || h.Of != res.Arrivals.Started {
		t.Errorf("headline %+v: the cut journeys must count as unserved", h)
	}
	if !strings.Contains(res.Reason, "still in flight 300ms after the last arrival") {
		t.Errorf("reason %q does not say the drain cancelled journeys", res.Reason)
	}
	if led := sim.Ledger(); led.ConversationsClosed != led.ConversationsCreated {
		t.Errorf("closed %d of %d conversations", led.ConversationsClosed, led.ConversationsCreated)
	}
	// 0.5 s of arrivals + 0.3 s of drain + the closes and the webhook grace, on however busy a
	// machine: far under the 30 s a SEND would take.
	if took > 15*time.Second {
		t.Errorf("the run took %v", took)
	}
}
