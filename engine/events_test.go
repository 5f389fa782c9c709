package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
)

// TestRunReportsDispatch: a run tells Options.Events when its dispatch starts, with counters a
// display reads while it goes, and when it ends, complete; it prints nothing itself.
func TestRunReportsDispatch(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.NewServer(quietSim(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var mu sync.Mutex
	var kinds []EventKind
	var planned int64
	var complete, outcomes bool
	_, err = Run(context.Background(), context.Background(), testProfile(10, time.Second), Options{Sim: sim, Events: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, e.Kind)
		switch e.Kind {
		case EventDispatching:
			planned = e.Counters.Arrivals.Counts().Planned
			outcomes = e.Counters.Outcomes != nil
			e.Counters.Outcomes()
		case EventDispatched:
			complete = e.Complete
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(kinds) != 2 || kinds[0] != EventDispatching || kinds[1] != EventDispatched {
		t.Fatalf("events %v: want dispatching, then dispatched", kinds)
	}
	if planned != 10 || !outcomes || !complete {
		t.Errorf("planned %d (want 10), outcomes readable %v, complete %v: want both", planned, outcomes, complete)
	}
}
