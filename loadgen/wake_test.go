package loadgen

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestRunnerPreciseWake runs a plan on the kernel's timer (real clock, 50 arrivals over 50 ms):
// every arrival starts, in plan order, and none is handled before its intended time. It asserts
// the order of events, not how late they were.
func TestRunnerPreciseWake(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []Arrival
	r := &Runner{Plan: Constant(1000, 50*time.Millisecond), PreciseWake: true, Task: func(context.Context, Arrival) {}}
	r.OnDispatch = func(a Arrival, at time.Duration) {
		if at < a.Intended {
			t.Errorf("arrival %d handled at %v, before its intended %v", a.Index, at, a.Intended)
		}
		mu.Lock()
		seen = append(seen, a)
		mu.Unlock()
	}
	c := runAsync(t, r, context.Background(), context.Background())()
	if got, want := c.Started, c.Planned; got != want {
		t.Errorf("Started = %d, want every planned arrival (%d)", got, want)
	}
	checkIdentity(t, c)
	for i, a := range seen {
		if got, want := a.Index, int64(i); got != want {
			t.Fatalf("dispatch %d was arrival %d, want %d", i, got, want)
		}
	}
}

// TestRunnerPreciseWakeStop stops a run whose next arrival is an hour away: the kernel timer's
// sleep ends with stop, and Run returns with the rest not started.
func TestRunnerPreciseWakeStop(t *testing.T) {
	t.Parallel()
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{}, 1)
	r := &Runner{Plan: Constant(1.0/3600, 2*time.Hour), PreciseWake: true, Task: func(context.Context, Arrival) { started <- struct{}{} }}
	wait := runAsync(t, r, stop, context.Background())
	<-started // arrival 0, at the epoch; arrival 1 is an hour later
	cancel()
	c := wait()
	if got, want := c.Started, int64(1); got != want {
		t.Errorf("Started = %d, want %d", got, want)
	}
	if got, want := c.NotStarted, int64(1); got != want {
		t.Errorf("NotStarted = %d, want %d", got, want)
	}
	checkIdentity(t, c)
}
