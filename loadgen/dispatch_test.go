package loadgen

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestRunnerOnDispatch checks the dispatch hook: it sees every arrival the dispatcher reaches,
// started or dropped, in plan order, with a handling time no earlier than the intended one, and
// before the arrival's task or drop.
func TestRunnerOnDispatch(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		plan := Constant(100, 200*time.Millisecond)
		var seen []Arrival
		var started, dropped atomic.Int64
		release := make(chan struct{})
		r := &Runner{Plan: plan, MaxInFlight: 3, Epoch: time.Now()}
		r.OnDispatch = func(a Arrival, at time.Duration) {
			if at < a.Intended {
				t.Errorf("arrival %d handled at %v, before its intended %v", a.Index, at, a.Intended)
			}
			if got, want := started.Load()+dropped.Load(), int64(len(seen)); got != want {
				t.Errorf("arrival %d: %d arrivals settled before the hook saw it, want %d", a.Index, got, want)
			}
			seen = append(seen, a)
		}
		r.OnDrop = func(Arrival) { dropped.Add(1) }
		r.Task = func(context.Context, Arrival) { started.Add(1); <-release }
		done := make(chan Counts)
		go func() { done <- r.Run(context.Background(), context.Background()) }()
		time.Sleep(time.Second)
		synctest.Wait()
		close(release)
		c := <-done
		if got, want := int64(len(seen)), c.Planned; got != want {
			t.Fatalf("the hook saw %d arrivals, want every planned one (%d)", got, want)
		}
		if got, want := c.Dropped, c.Planned-3; got != want {
			t.Errorf("Dropped = %d, want %d (the pool held 3)", got, want)
		}
		for i, a := range seen {
			if got, want := a.Index, int64(i); got != want {
				t.Errorf("hook call %d saw arrival %d, want %d", i, got, want)
			}
		}
	})
}
