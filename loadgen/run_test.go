package loadgen

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// runAsync starts r.Run in a goroutine and returns a function that waits for its counts, failing
// the test if the run has not returned within a generous bound (a hang, not a slow machine).
func runAsync(t *testing.T, r *Runner, stop, work context.Context) (wait func() Counts) {
	t.Helper()
	done := make(chan Counts, 1)
	go func() { done <- r.Run(stop, work) }()
	return func() Counts {
		t.Helper()
		select {
		case c := <-done:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
			return Counts{}
		}
	}
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

// checkIdentity checks the end-of-run invariant: every planned arrival started, was dropped or
// was not started, and nothing is in flight.
func checkIdentity(t *testing.T, c Counts) {
	t.Helper()
	if got, want := c.Started+c.Dropped+c.NotStarted, c.Planned; got != want {
		t.Errorf("started %d + dropped %d + not started %d = %d, want planned %d", c.Started, c.Dropped, c.NotStarted, got, want)
	}
	if got, want := c.InFlight, int64(0); got != want {
		t.Errorf("InFlight = %d after Run, want %d", got, want)
	}
}

// planTimes returns the intended time of every arrival of p, by index.
func planTimes(p Plan) []time.Duration {
	var ts []time.Duration
	for _, at := range p.Arrivals() {
		ts = append(ts, at)
	}
	return ts
}

func TestRunnerStartsEveryArrival(t *testing.T) {
	t.Parallel()
	p := Constant(2000, 500*time.Millisecond)
	tests := []struct {
		name        string
		maxInFlight int
	}{
		// No limit on the pool.
		{"unlimited", 0},
		// A limit the no-op tasks cannot reach: as many slots as arrivals.
		{"limit = planned", int(p.Count())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := planTimes(p)
			seen := make([]atomic.Int32, len(want))
			intended := make([]time.Duration, len(want)) // each index written by its own task only
			r := &Runner{Plan: p, MaxInFlight: tt.maxInFlight, Task: func(_ context.Context, a Arrival) {
				seen[a.Index].Add(1)
				intended[a.Index] = a.Intended
			}}
			c := r.Run(context.Background(), context.Background())

			if got, want := c.Planned, int64(1000); got != want {
				t.Errorf("Planned = %d, want %d", got, want)
			}
			if got, want := c.Started, c.Planned; got != want {
				t.Errorf("Started = %d, want Planned = %d", got, want)
			}
			if got, want := c.Dropped, int64(0); got != want {
				t.Errorf("Dropped = %d, want %d", got, want)
			}
			if got, want := c.NotStarted, int64(0); got != want {
				t.Errorf("NotStarted = %d, want %d", got, want)
			}
			checkIdentity(t, c)
			for i := range seen {
				if got, want := seen[i].Load(), int32(1); got != want {
					t.Fatalf("arrival %d ran %d times, want %d", i, got, want)
				}
			}
			if !slices.Equal(intended, want) {
				t.Errorf("intended times differ from the plan's")
			}
		})
	}
}

func TestRunnerDropsWhenFull(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	var ran []int64
	r := &Runner{Plan: Constant(200, 100*time.Millisecond), MaxInFlight: 2, Task: func(_ context.Context, a Arrival) {
		mu.Lock()
		ran = append(ran, a.Index)
		mu.Unlock()
		<-release
	}}
	wait := runAsync(t, r, context.Background(), context.Background())
	// Every arrival is settled while the first two still hold the pool: the others were dropped
	// at their time, not queued behind the busy workers.
	waitFor(t, "every arrival to be started or dropped", func() bool {
		c := r.Counts()
		return c.Started+c.Dropped == c.Planned
	})
	if got, want := r.Counts().InFlight, int64(2); got != want {
		t.Errorf("InFlight = %d while tasks block, want %d", got, want)
	}
	close(release)
	c := wait()

	if got, want := c.Planned, int64(20); got != want {
		t.Errorf("Planned = %d, want %d", got, want)
	}
	if got, want := c.Started, int64(2); got != want {
		t.Errorf("Started = %d, want %d", got, want)
	}
	if got, want := c.Dropped, int64(18); got != want {
		t.Errorf("Dropped = %d, want %d", got, want)
	}
	if got, want := c.NotStarted, int64(0); got != want {
		t.Errorf("NotStarted = %d, want %d", got, want)
	}
	checkIdentity(t, c)
	slices.Sort(ran)
	if got, want := ran, []int64{0, 1}; !slices.Equal(got, want) {
		t.Errorf("tasks ran for arrivals %v, want %v (dropped arrivals must never run later)", got, want)
	}
}

func TestRunnerStop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxInFlight int
		block       bool // tasks block until the end of the test, so the pool fills and drops
	}{
		// Quick tasks, no limit: only NotStarted takes the rest.
		{"no-op tasks", 0, false},
		// A full pool: the rest is split between Dropped and NotStarted.
		{"blocked pool", 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			stop, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &Runner{Plan: Constant(200, 10*time.Second), MaxInFlight: tt.maxInFlight, Task: func(context.Context, Arrival) {
				if tt.block {
					<-release
				}
			}}
			wait := runAsync(t, r, stop, context.Background())
			waitFor(t, "10 arrivals to be settled", func() bool {
				c := r.Counts()
				return c.Started+c.Dropped >= 10
			})
			if got, want := r.Counts().NotStarted, int64(0); got != want {
				t.Errorf("NotStarted = %d while running, want %d", got, want)
			}
			cancel()
			// Release the tasks only once the dispatcher has given up (NotStarted is counted
			// from then on), so a freed slot cannot start one more arrival.
			waitFor(t, "the dispatcher to stop", func() bool { return r.Counts().NotStarted > 0 })
			close(release)
			c := wait()

			if c.NotStarted <= 0 {
				t.Errorf("NotStarted = %d after a stop 10 arrivals into 2000, want > 0", c.NotStarted)
			}
			if tt.block {
				if got, want := c.Started, int64(tt.maxInFlight); got != want {
					t.Errorf("Started = %d, want %d", got, want)
				}
				if c.Dropped <= 0 {
					t.Errorf("Dropped = %d with a full pool, want > 0", c.Dropped)
				}
			}
			checkIdentity(t, c)
			if got := r.Counts(); got != c {
				t.Errorf("Counts() after Run = %+v, Run returned %+v", got, c)
			}
		})
	}
}

type ctxKey struct{}

func TestRunnerWorkContext(t *testing.T) {
	t.Parallel()
	work, cancelWork := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "work"))
	defer cancelWork()
	var gotValue, gotCanceled atomic.Int32
	r := &Runner{Plan: Constant(100, 50*time.Millisecond), Task: func(ctx context.Context, _ Arrival) {
		if ctx.Value(ctxKey{}) == "work" {
			gotValue.Add(1)
		}
		<-ctx.Done() // ends only when the run's work is cancelled
		if ctx.Err() == context.Canceled {
			gotCanceled.Add(1)
		}
	}}
	wait := runAsync(t, r, context.Background(), work)
	waitFor(t, "every arrival to start", func() bool { return r.Counts().Started == 5 })
	cancelWork()
	c := wait()

	if got, want := c.Started, int64(5); got != want {
		t.Errorf("Started = %d, want %d", got, want)
	}
	if got, want := gotValue.Load(), int32(5); got != want {
		t.Errorf("%d tasks got the work context, want %d", got, want)
	}
	if got, want := gotCanceled.Load(), int32(5); got != want {
		t.Errorf("%d tasks saw context.Canceled, want %d", got, want)
	}
	checkIdentity(t, c)
}

// TestRunnerLag: on a clock that only timers and sleeps move (a synctest bubble), every arrival
// starts at its intended time, although dispatching each one costs the dispatcher 1 ms of that
// clock (OnDispatch sleeps it): the pacer sleeps until each arrival's time, so the cost does not
// add up (a pacer that slept the gaps between arrivals would be 199 ms late at the last), and
// never starts one early. How late a real clock and a busy machine make it is
// BenchmarkDispatchLag's to measure.
func TestRunnerLag(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := Constant(200, time.Second) // 5 ms apart
		want := planTimes(p)
		lags := make([]time.Duration, len(want))
		intended := make([]time.Duration, len(want))
		epoch := time.Now() // set before Run, so tasks may read it without a race
		r := &Runner{Plan: p, Epoch: epoch, Task: func(_ context.Context, a Arrival) {
			lags[a.Index] = time.Since(epoch) - a.Intended
			intended[a.Index] = a.Intended
		}, OnDispatch: func(Arrival, time.Duration) { time.Sleep(time.Millisecond) }}
		c := r.Run(context.Background(), context.Background())
		if got, want := c.Started, p.Count(); got != want {
			t.Fatalf("Started = %d, want %d", got, want)
		}
		if !slices.Equal(intended, want) {
			t.Errorf("intended times differ from the plan's")
		}
		for i, l := range lags {
			if l < 0 || l > time.Millisecond {
				t.Errorf("arrival %d (intended %v) started %v after its intended time, want 0 to 1ms", i, intended[i], l)
			}
		}
	})
}

// TestRunnerLateEpoch starts a run whose arrivals are all overdue: they go out at once, with their
// planned intended times (the schedule is not shifted to hide the lateness).
func TestRunnerLateEpoch(t *testing.T) {
	t.Parallel()
	p := Constant(100, time.Second)
	want := planTimes(p)
	intended := make([]time.Duration, len(want))
	r := &Runner{Plan: p, Epoch: time.Now().Add(-time.Hour), Task: func(_ context.Context, a Arrival) {
		intended[a.Index] = a.Intended
	}}
	c := r.Run(context.Background(), context.Background())
	if got, want := c.Started, int64(100); got != want {
		t.Errorf("Started = %d, want %d", got, want)
	}
	if !slices.Equal(intended, want) {
		t.Errorf("intended times differ from the plan's")
	}
	checkIdentity(t, c)
}

func TestRunnerCountsConcurrent(t *testing.T) {
	t.Parallel()
	const limit = 4
	r := &Runner{Plan: Constant(2000, 300*time.Millisecond), MaxInFlight: limit, Task: func(context.Context, Arrival) {
		time.Sleep(100 * time.Microsecond)
	}}
	done := make(chan struct{})
	var snapshots atomic.Int64
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var prev Counts
			for {
				select {
				case <-done:
					return
				default:
				}
				c := r.Counts()
				snapshots.Add(1)
				if c.Started < prev.Started || c.Dropped < prev.Dropped {
					t.Errorf("counters went down: %+v after %+v", c, prev)
					return
				}
				if c.InFlight < 0 || c.InFlight > limit {
					t.Errorf("InFlight = %d, want in [0, %d]", c.InFlight, limit)
					return
				}
				if c.Started+c.Dropped+c.NotStarted > c.Planned {
					t.Errorf("settled more than planned: %+v", c)
					return
				}
				prev = c
			}
		}()
	}
	c := r.Run(context.Background(), context.Background())
	close(done)
	readers.Wait()
	if snapshots.Load() == 0 {
		t.Error("no snapshot taken during the run")
	}
	if got, want := c.Planned, int64(600); got != want {
		t.Errorf("Planned = %d, want %d", got, want)
	}
	checkIdentity(t, c)
}

// TestRunnerQueue: with Queue, arrivals that find the pool full wait for a slot instead of being
// dropped; none is lost, and the wait shows as lag.
func TestRunnerQueue(t *testing.T) {
	t.Parallel()
	p := Constant(100, 200*time.Millisecond) // 20 arrivals, 10 ms apart
	epoch := time.Now()
	var maxLag atomic.Int64
	r := &Runner{Plan: p, MaxInFlight: 2, Queue: true, Epoch: epoch, Task: func(_ context.Context, a Arrival) {
		lag := int64(time.Since(epoch) - a.Intended)
		for {
			cur := maxLag.Load()
			if lag <= cur || maxLag.CompareAndSwap(cur, lag) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond) // each task holds its slot for 5 arrivals' time
	}}
	c := r.Run(context.Background(), context.Background())
	if c.Started != c.Planned || c.Dropped != 0 {
		t.Errorf("counts %+v: want every arrival started, none dropped", c)
	}
	// 20 tasks of 50 ms, 2 at a time, take ≥ 500 ms; the last arrival was due at 190 ms.
	if got := time.Duration(maxLag.Load()); got < 200*time.Millisecond {
		t.Errorf("max lag %v: queueing must show as lag", got)
	}
}

// TestRunnerStopWhileQueued stops a queued run while the dispatcher waits for a slot. Giving up
// the wait must not take a running task's slot: that task would then block for ever handing its
// slot back, and Run would never return. The test runs in a synctest bubble, so its times are
// exact and a hang shows at once as the 5 s timeout of fake time.
func TestRunnerStopWhileQueued(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxInFlight int
		hold        time.Duration // how long a task holds its slot; 0: until work ends
		stopAt      time.Duration // when stop is cancelled
		wantStarted int64
	}{
		// One slot, held until work ends: the dispatcher waits for arrival 1 when stop ends.
		{"held until work ends", 1, 0, 5 * time.Millisecond, 1},
		// Two slots, each held 20 ms by arrivals 1 ms apart: at 50 ms the tasks of arrivals 4
		// and 5 (started at 40 and 41 ms) run and arrival 6 waits.
		{"held for a while", 2, 20 * time.Millisecond, 50 * time.Millisecond, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				stop, cancelStop := context.WithCancel(context.Background())
				defer cancelStop()
				work, cancelWork := context.WithCancel(context.Background())
				defer cancelWork()
				r := &Runner{Plan: Constant(1000, time.Second), MaxInFlight: tt.maxInFlight, Queue: true,
					Task: func(ctx context.Context, _ Arrival) {
						if tt.hold == 0 {
							<-ctx.Done()
							return
						}
						time.Sleep(tt.hold)
					}}
				done := make(chan Counts, 1)
				go func() { done <- r.Run(stop, work) }()

				time.Sleep(tt.stopAt)
				cancelStop()
				synctest.Wait() // the dispatcher has given up and Run waits for its tasks
				cancelWork()
				var c Counts
				select {
				case c = <-done:
				case <-time.After(5 * time.Second):
					t.Fatalf("Run did not return after stop and work ended; counts %+v", r.Counts())
				}

				if got, want := c.Started, tt.wantStarted; got != want {
					t.Errorf("Started = %d, want %d", got, want)
				}
				if got, want := c.Dropped, int64(0); got != want {
					t.Errorf("Dropped = %d with Queue, want %d", got, want)
				}
				checkIdentity(t, c)
			})
		})
	}
}

// TestRunnerLanes: arrivals dealt to lanes are counted per lane — planned, started and dropped —
// and the lanes add up to the runner's counts; every task sees its arrival's lane.
func TestRunnerLanes(t *testing.T) {
	t.Parallel()
	pick := Weighted([]int{3, 1})
	var seen [2]atomic.Int64
	release := make(chan struct{})
	r := &Runner{
		Plan:        Constant(2000, 100*time.Millisecond), // 200 arrivals, every 0.5 ms
		MaxInFlight: 20,
		Lanes:       2,
		Lane:        pick,
		Task: func(_ context.Context, a Arrival) {
			if got, want := a.Lane, pick(a.Index); got != want {
				t.Errorf("arrival %d: lane %d, want %d", a.Index, got, want)
			}
			seen[a.Lane].Add(1)
			<-release // hold the slot, so that later arrivals are dropped
		},
	}
	go func() { time.Sleep(50 * time.Millisecond); close(release) }()
	total := r.Run(context.Background(), context.Background())
	checkIdentity(t, total)
	var sum Counts
	for i := range 2 {
		c := r.LaneCounts(i)
		checkIdentity(t, c)
		if got, want := c.Started, seen[i].Load(); got != want {
			t.Errorf("lane %d: started %d, tasks saw %d", i, got, want)
		}
		sum.Planned += c.Planned
		sum.Started += c.Started
		sum.Dropped += c.Dropped
	}
	if sum.Planned != total.Planned || sum.Started != total.Started || sum.Dropped != total.Dropped {
		t.Errorf("lanes add up to %+v, runner counts %+v", sum, total)
	}
	if got, want := r.LaneCounts(0).Planned, int64(150); got != want {
		t.Errorf("lane 0 planned %d, want %d (3 of every 4 of 200)", got, want)
	}
	if total.Dropped == 0 {
		t.Errorf("nothing dropped: the test did not exercise a full pool")
	}
}

// TestRunnerMaxLag makes the dispatcher late (a slow OnDrop, a queue behind slow tasks) in a
// synctest bubble, whose clock moves only when every goroutine waits: arrivals reached more than
// MaxLag late are dropped and counted as late, OnDrop tells them from pool-full drops, and no
// arrival starts more than MaxLag late.
func TestRunnerMaxLag(t *testing.T) {
	t.Parallel()
	const maxLag = 50 * time.Millisecond
	tests := []struct {
		name      string
		queue     bool
		task      time.Duration // how long each task runs
		onDrop    time.Duration // how long OnDrop blocks the dispatcher on a pool-full drop
		maxLag    time.Duration
		wantStart int64 // 0: not checked
		wantLate  int64 // -1: some, not a fixed number
	}{
		// One task holds the only slot all run long; each pool-full drop stalls the dispatcher
		// 200 ms, so the arrivals of the next 150 ms are late: arrivals 1, 16, 36, 56, 76 and 96
		// find the pool full, the other 93 are late.
		{"slow OnDrop", false, 2 * time.Second, 200 * time.Millisecond, maxLag, 1, 93},
		// Tasks of 35 ms behind one queued slot: the queue's wait grows by 25 ms an arrival until
		// an arrival would start more than 50 ms late, and is dropped instead.
		{"queue behind slow tasks", true, 35 * time.Millisecond, 0, maxLag, -1, -1},
		// No limit: the slow OnDrop makes arrivals late, none is dropped for it, and those that
		// start after the first task ends start far more than 50 ms late.
		{"no limit", false, 2 * time.Second, 200 * time.Millisecond, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				epoch := time.Now()
				var lateSeen, fullSeen int64
				var maxStartLag time.Duration
				var mu sync.Mutex
				r := &Runner{Plan: Constant(100, time.Second), MaxInFlight: 1, Queue: tt.queue, MaxLag: tt.maxLag, Epoch: epoch,
					Task: func(_ context.Context, a Arrival) {
						mu.Lock()
						maxStartLag = max(maxStartLag, time.Since(epoch)-a.Intended)
						mu.Unlock()
						time.Sleep(tt.task)
					},
					OnDrop: func(a Arrival) {
						lag := time.Since(epoch) - a.Intended
						if a.Late {
							lateSeen++
							if lag <= tt.maxLag {
								t.Errorf("arrival %d dropped as late %v after its time, MaxLag %v", a.Index, lag, tt.maxLag)
							}
							return
						}
						fullSeen++
						time.Sleep(tt.onDrop)
					}}
				c := r.Run(context.Background(), context.Background())
				checkIdentity(t, c)
				if got, want := c.Late, lateSeen; got != want {
					t.Errorf("Late = %d, OnDrop saw %d late", got, want)
				}
				if got, want := c.Dropped-c.Late, fullSeen; got != want {
					t.Errorf("Dropped − Late = %d, OnDrop saw %d pool-full drops", got, want)
				}
				if tt.wantLate >= 0 {
					if got, want := c.Late, tt.wantLate; got != want {
						t.Errorf("Late = %d, want %d", got, want)
					}
				} else if c.Late == 0 || c.Started < 2 {
					t.Errorf("Late = %d, Started = %d: want both some", c.Late, c.Started)
				}
				if tt.wantStart > 0 {
					if got, want := c.Started, tt.wantStart; got != want {
						t.Errorf("Started = %d, want %d", got, want)
					}
				}
				if tt.maxLag > 0 && maxStartLag > tt.maxLag {
					t.Errorf("an arrival started %v late, MaxLag %v", maxStartLag, tt.maxLag)
				}
				if tt.maxLag == 0 && maxStartLag <= maxLag {
					t.Errorf("without MaxLag no arrival started more than %v late (max %v): the stall did not work", maxLag, maxStartLag)
				}
				if got, want := r.LaneCounts(0).Late, c.Late; got != want {
					t.Errorf("LaneCounts(0).Late = %d, Counts().Late %d", got, want)
				}
			})
		})
	}
}
