package engine

import (
	"context"
	"testing"
	"time"

	"github.com/lpbench/lpbench/sample"
)

// TestEmbeddedSimulatorTLS: a profile whose simulator speaks TLS (sim: {tls: true}) runs over
// HTTPS with certificates verified against the simulator's CA: every journey ok, auto messages
// received, the target not insecure.
func TestEmbeddedSimulatorTLS(t *testing.T) {
	t.Parallel()
	p := testProfile(20, time.Second)
	p.Sim = quietSim(10 * time.Second)
	p.Sim.TLS = true
	res, err := Run(context.Background(), context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkIdentities(t, res)
	if ok, want := res.Overall.Outcomes[sample.OutcomeOK], int64(20); ok != want || res.Targets[0].Insecure {
		t.Errorf("ok %d of %d, insecure %v: %+v", ok, want, res.Targets[0].Insecure, res.Overall.Outcomes)
	}
	if w := res.Targets[0].Webhooks; w == nil || w.AutoMessages != 20 {
		t.Errorf("webhooks %+v, want 20 first auto messages", w)
	}
}
