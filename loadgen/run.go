package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Arrival is one planned start of work.
type Arrival struct {
	Index    int64         // position in the plan
	Intended time.Duration // intended start, as an offset from the run's epoch
	Lane     int           // the lane it was dealt to (0 without lanes)
	// Late is set on the arrivals OnDrop sees that were dropped because the dispatcher reached
	// them more than Runner.MaxLag after their intended time; false for one that found the pool
	// full (and for every arrival a Task runs).
	Late bool
}

// Task does the work of one arrival. ctx ends when the run's work is cancelled.
type Task func(ctx context.Context, a Arrival)

// Counts are the arrival counters of a run. Every planned arrival ends in exactly one of Started,
// Dropped or NotStarted; once the run is over, Planned = Started + Dropped + NotStarted.
type Counts struct {
	Planned    int64 // arrivals in the plan
	Started    int64 // handed to a worker
	Dropped    int64 // found every worker busy at their intended time, or Late
	Late       int64 // of Dropped: reached by the dispatcher more than MaxLag after their intended time
	NotStarted int64 // not reached because the run was stopped, or intended before StartFrom
	InFlight   int64 // started and not yet finished
}

// Runner releases the arrivals of Plan at their intended times into at most MaxInFlight concurrent
// Tasks. By default an arrival that finds the pool full is dropped and counted (OnDrop sees it),
// never silently delayed. With Queue, it waits for a slot instead, and so do the arrivals after
// it: their intended times stay those of the plan, so the wait shows as lag.
//
// With MaxLag, the dispatcher stays on schedule or drops: an arrival it reaches more than MaxLag
// after its intended time (the machine starved it of CPU, a slow OnDrop, a long wait for a slot
// with Queue) is not started but dropped and counted as Late, so that a generator that cannot
// keep up never runs its load seconds behind the plan and calls the result the target's.
type Runner struct {
	Plan        Plan
	MaxInFlight int
	Queue       bool
	MaxLag      time.Duration // 0: no limit
	Epoch       time.Time     // time origin of intended times; zero: when Run starts
	// StartFrom, when > 0, skips the arrivals intended before it (offset from Epoch): a run that
	// joined a common start late cannot send them on time, so they are counted NotStarted, never
	// dropped nor started late.
	StartFrom time.Duration
	Task      Task
	// OnDrop, if set, sees every dropped arrival. It runs on the dispatcher's goroutine, so a slow
	// OnDrop delays every arrival after it (they go out late, and the delay shows as lag).
	OnDrop func(Arrival)
	// OnDispatch, if set, sees every arrival the dispatcher reaches, with the time it handled it
	// (offset from Epoch), before the arrival is started or dropped. It runs on the dispatcher's
	// goroutine, so it must be quick; it is how the fit of the actual times to the plan is taken.
	OnDispatch func(a Arrival, at time.Duration)
	// Lanes, when more than 1, deals the arrivals to that many lanes (e.g. targets that share one
	// schedule) by Lane, a pure function of the arrival index into [0, Lanes); the runner keeps
	// its counters per lane (LaneCounts), and they are the only count of the arrivals.
	Lanes int
	Lane  func(k int64) int
	// PreciseWake makes the dispatcher sleep on the kernel's high-resolution timer (Linux: a
	// timerfd read through the runtime's poller) instead of the runtime's timers, which wake an
	// otherwise idle process on whole milliseconds: about 0.5 ms late on average and 1 ms at worst,
	// lag that is the generator's, not the target's. It costs CPU: system calls per arrival and
	// more of the runtime's own spinning around the poller, 40 to 50 µs per arrival on a 2-core
	// machine (BenchmarkDispatchLag). Off, and where the kernel has no such timer, the runtime's
	// timers are used (as under testing/synctest, whose fake clock does not drive the kernel's).
	PreciseWake bool

	once    sync.Once
	lanes   []lane
	stopped atomic.Bool
}

// lane is the counters of one lane.
type lane struct {
	planned                          int64 // computed once, before the run
	started, dropped, late, inFlight atomic.Int64
}

// init sets up the lanes and counts each one's planned arrivals (walking a Poisson, sharded or
// laned plan once).
func (r *Runner) init() {
	r.once.Do(func() {
		r.lanes = make([]lane, max(r.Lanes, 1))
		if len(r.lanes) == 1 {
			r.lanes[0].planned = r.Plan.Count()
			return
		}
		for k := range r.Plan.Arrivals() {
			r.lanes[r.Lane(k)].planned++
		}
	})
}

// laneOf returns the lane of arrival k.
func (r *Runner) laneOf(k int64) int {
	if r.Lanes > 1 {
		return r.Lane(k)
	}
	return 0
}

// Counts returns the current counters of all lanes; safe to call while the run goes on.
func (r *Runner) Counts() Counts {
	r.init()
	var c Counts
	for i := range r.lanes {
		c.add(r.LaneCounts(i))
	}
	return c
}

// add adds o's counts to c.
func (c *Counts) add(o Counts) {
	c.Planned += o.Planned
	c.Started += o.Started
	c.Dropped += o.Dropped
	c.Late += o.Late
	c.NotStarted += o.NotStarted
	c.InFlight += o.InFlight
}

// LaneCounts returns the current counters of lane i; safe to call while the run goes on.
func (r *Runner) LaneCounts(i int) Counts {
	r.init()
	l := &r.lanes[i]
	c := Counts{Planned: l.planned, Started: l.started.Load(), Dropped: l.dropped.Load(), Late: l.late.Load(), InFlight: l.inFlight.Load()}
	if r.stopped.Load() {
		c.NotStarted = c.Planned - c.Started - c.Dropped
	}
	return c
}

// Run dispatches the plan until it is exhausted or stop ends, then waits for the tasks in flight
// and returns the final counts. Tasks run with work as their context: cancel it to interrupt them.
//
// One goroutine dispatches. It sleeps until the next intended time (see PreciseWake) and then
// hands the arrival to a new goroutine if fewer than MaxInFlight are running. When it falls
// behind (a slow wake-up, a busy machine), the arrivals whose time has passed go out at once,
// back to back: the schedule is never shifted, and the lateness shows up as lag in the tasks — up
// to MaxLag, past which they are dropped as late until the dispatcher has caught up.
func (r *Runner) Run(stop, work context.Context) Counts {
	r.init()
	if r.Epoch.IsZero() {
		r.Epoch = time.Now()
	}
	limit := r.MaxInFlight
	if limit <= 0 {
		limit = 1 << 30
	}
	// slots holds a token per running task; it is how a queued arrival waits for a free worker.
	slots := make(chan struct{}, min(limit, 1<<20))
	var wg sync.WaitGroup
	w := newWaker(stop, r.PreciseWake)
	defer w.close()

dispatch:
	for k, at := range r.Plan.Arrivals() {
		if at < r.StartFrom {
			continue // not started: counted so once the run is over
		}
		if wait := at - time.Since(r.Epoch); wait > 0 && !w.sleep(stop, wait) {
			break dispatch
		}
		a := Arrival{Index: k, Intended: at, Lane: r.laneOf(k)}
		if r.OnDispatch != nil {
			r.OnDispatch(a, time.Since(r.Epoch))
		}
		l := &r.lanes[a.Lane]
		var got slot
		got, a.Late = r.admit(stop, slots, at)
		switch got {
		case slotStopped:
			break dispatch
		case slotNone:
			r.drop(l, a)
			continue
		}
		l.inFlight.Add(1)
		l.started.Add(1)
		wg.Add(1)
		go func() {
			defer func() {
				l.inFlight.Add(-1)
				<-slots // hands back the token acquire put in for this task
				wg.Done()
			}()
			r.Task(work, a)
		}()
	}
	r.stopped.Store(true)
	wg.Wait()
	return r.Counts()
}

// admit decides for the arrival intended at at: it is late (not started, and late is true) when
// reached more than MaxLag after at, or when with Queue its wait for a slot ended past that;
// otherwise it gets a slot as acquire says.
func (r *Runner) admit(stop context.Context, slots chan struct{}, at time.Duration) (got slot, late bool) {
	overdue := func() bool { return r.MaxLag > 0 && time.Since(r.Epoch)-at > r.MaxLag }
	if overdue() {
		return slotNone, true
	}
	got = r.acquire(stop, slots)
	if got == slotTaken && r.Queue && overdue() {
		<-slots // the token acquire just put in: the arrival is not started
		return slotNone, true
	}
	return got, false
}

// drop counts a (in l) as dropped, late or for a full pool, and shows it to OnDrop.
func (r *Runner) drop(l *lane, a Arrival) {
	l.dropped.Add(1)
	if a.Late {
		l.late.Add(1)
	}
	if r.OnDrop != nil {
		r.OnDrop(a)
	}
}

// slot is what acquire got for an arrival.
type slot int

const (
	slotTaken   slot = iota // a token is in slots for the arrival: start it
	slotNone                // the pool is full and arrivals are not queued: drop it
	slotStopped             // stop ended: start nothing more
)

// acquire puts a token in slots for the next arrival, waiting for a free one with r.Queue.
// Subtleness ahead: slots holds exactly one token per running task, and each task takes one out
// when it ends. acquire must therefore only ever take back a token it has just put in itself;
// taking one when it gave up waiting would leave a running task blocked for ever on its way out.
func (r *Runner) acquire(stop context.Context, slots chan struct{}) slot {
	if stop.Err() != nil {
		return slotStopped
	}
	select {
	case slots <- struct{}{}:
	default:
		if !r.Queue {
			return slotNone
		}
		select {
		case slots <- struct{}{}:
		case <-stop.Done():
			return slotStopped // nothing was put in: nothing to take back
		}
	}
	if stop.Err() != nil {
		<-slots // the token just put in: stop ended meanwhile, so no arrival starts after it
		return slotStopped
	}
	return slotTaken
}

// Dispatched reports whether the dispatcher is done: every arrival of the plan was started,
// dropped or passed over (its tasks may still be running).
func (r *Runner) Dispatched() bool { return r.stopped.Load() }

// Group runs several Runners at once (targets with schedules of their own) and sums their counts.
type Group []*Runner

// Run runs every runner of the group concurrently and returns the summed final counts.
func (g Group) Run(stop, work context.Context) Counts {
	var wg sync.WaitGroup
	for _, r := range g {
		wg.Go(func() { r.Run(stop, work) })
	}
	wg.Wait()
	return g.Counts()
}

// Dispatched reports whether every runner of the group is done dispatching.
func (g Group) Dispatched() bool {
	for _, r := range g {
		if !r.Dispatched() {
			return false
		}
	}
	return true
}

// Counts returns the sum of the runners' counts.
func (g Group) Counts() Counts {
	var c Counts
	for _, r := range g {
		c.add(r.Counts())
	}
	return c
}

// Counter is what a run's progress display (package ui/progress) reads while a run goes on:
// a Runner or a Group.
type Counter interface{ Counts() Counts }

var (
	_ Counter = (*Runner)(nil)
	_ Counter = Group(nil)
)
