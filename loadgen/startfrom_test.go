package loadgen

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunnerStartFrom: a runner that joined its epoch late (StartFrom) sends none of the
// arrivals intended before StartFrom — they are counted not started, not dropped — and every
// arrival after it on time, with the plan's intended times.
func TestRunnerStartFrom(t *testing.T) {
	t.Parallel()
	p := Constant(100, time.Second) // arrivals every 10 ms, the first at 0
	var started, early atomic.Int64
	r := &Runner{Plan: p, Epoch: time.Now().Add(-400 * time.Millisecond), StartFrom: 400 * time.Millisecond,
		Task: func(_ context.Context, a Arrival) {
			started.Add(1)
			if a.Intended < 400*time.Millisecond {
				early.Add(1)
			}
		}}
	c := r.Run(context.Background(), context.Background())
	if got, want := c.NotStarted, int64(40); got != want {
		t.Errorf("NotStarted = %d, want %d (the arrivals intended before 400 ms)", got, want)
	}
	if got, want := c.Started, int64(60); got != want || started.Load() != want {
		t.Errorf("Started = %d (tasks %d), want %d", got, started.Load(), want)
	}
	if c.Dropped != 0 || early.Load() != 0 {
		t.Errorf("Dropped = %d, early tasks %d: want none", c.Dropped, early.Load())
	}
	checkIdentity(t, c)
}
