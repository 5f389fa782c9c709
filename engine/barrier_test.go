package engine

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
)

// TestStartBarrier: with StartAt, the run sets up, waits for the instant, and starts its plan at
// it: the result's start is the barrier, the wait is counted, every journey's intended start
// lies on the plan from the barrier, and the clock offset from the simulator (same machine) is
// bounded around zero.
func TestStartBarrier(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.NewServer(quietSim(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	at := time.Now().Add(700 * time.Millisecond)
	var mu sync.Mutex
	var events []Event
	res, err := Run(context.Background(), context.Background(), testProfile(10, time.Second),
		Options{Sim: sim, StartAt: at, RunID: "barrier-1", Events: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Start.Equal(at) || !res.StartAt.Equal(at) {
		t.Errorf("start %v, barrier %v: want both %v", res.Start, res.StartAt, at)
	}
	if res.Waited <= 0 || res.Waited > 700*time.Millisecond {
		t.Errorf("waited %v, want in (0, 700ms]", res.Waited)
	}
	if res.JoinedLate != 0 || res.Arrivals.Started != 10 {
		t.Errorf("joined late %v, arrivals %+v: want on time, 10 started", res.JoinedLate, res.Arrivals)
	}
	if got, want := res.RunID, "barrier-1"; got != want {
		t.Errorf("run id %q, want %q", got, want)
	}
	if c := res.Clock; c == nil || c.Min > 0 || c.Max < 0 || c.Max-c.Min < time.Second {
		t.Errorf("clock offset %+v: want bounds about 1 s wide around 0", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.ContainsFunc(events, func(e Event) bool { return e.Kind == EventWaiting && strings.Contains(e.Message, "waiting") }) {
		t.Errorf("no event tells of the wait: %+v", events)
	}
	checkIdentities(t, res)
}

// TestStartBarrierJoinedLate: a run set up after its barrier keeps the barrier as its start and
// counts the arrivals whose time had passed as not started — none dropped, none started late.
func TestStartBarrierJoinedLate(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.NewServer(quietSim(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	at := time.Now().Add(-time.Second)
	res, err := Run(context.Background(), context.Background(), testProfile(10, 2*time.Second),
		Options{Sim: sim, StartAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Start.Equal(at) || res.JoinedLate < time.Second {
		t.Errorf("start %v (barrier %v), joined late %v: want the barrier, ≥ 1s late", res.Start, at, res.JoinedLate)
	}
	// The arrivals due before the run was ready (10/s over JoinedLate, which a busy machine's
	// set-up lengthens past the barrier's 1 s), give or take the one at its edge.
	a := res.Arrivals
	passed := int64(res.JoinedLate * 10 / time.Second)
	if a.NotStarted < passed-1 || a.NotStarted > passed+1 || a.NotStarted < 10 || a.Dropped != 0 || a.Started != a.Planned-a.NotStarted {
		t.Errorf("arrivals %+v, joined late %v: want the %d of that time not started, none dropped", a, res.JoinedLate, passed)
	}
	// A passed arrival sent anyway would be at least 1 s late.
	if lag := time.Duration(res.Overall.Lag.Max()); lag > 500*time.Millisecond {
		t.Errorf("max lag %v: a late join must not send the passed arrivals late", lag)
	}
	checkIdentities(t, res)
}
