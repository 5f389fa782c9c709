package engine

import (
	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/report"
)

// EventKind says what an Event reports.
type EventKind int

// The kinds of event a run reports.
const (
	// EventJoinedLate: the run was set up after its start barrier (Options.StartAt) and joins
	// late; the arrivals intended before are not started.
	EventJoinedLate EventKind = iota + 1
	// EventWaiting: the run is set up and waits for its start barrier.
	EventWaiting
	// EventCountdown: the time left until the start barrier, every 5 s of the wait.
	EventCountdown
	// EventClockUnread: the clock of the first target could not be read (Err says why).
	EventClockUnread
	// EventClockOff: the local clock is off the first target's by more than shards starting
	// together tolerate.
	EventClockOff
	// EventRelay: the subscription to the webhook relay changed (lost, resumed, ...).
	EventRelay
	// EventDispatching: the first arrival is due; Counters reads the run's counts until
	// EventDispatched.
	EventDispatching
	// EventDispatched: the dispatcher stopped; Complete says whether it went to the end of its
	// plan.
	EventDispatched
)

// Event is something a run reports as it goes. The engine prints nothing: it hands its events
// to Options.Events, and the caller shows what it likes of them (the CLI's display is package
// ui/progress).
type Event struct {
	Kind EventKind
	// Message says the event in one line for a person, without a prefix or a newline; empty
	// for EventDispatching and EventDispatched.
	Message string
	// Target names the target the event is about, if any.
	Target string
	// Err is the error behind an EventClockUnread.
	Err error
	// Counters, for EventDispatching, reads the run's counts while it goes on.
	Counters Counters
	// Complete, for EventDispatched: the dispatch went to the end of its plan rather than being
	// stopped.
	Complete bool
}

// Counters read a run's counts while it goes on, from any goroutine.
type Counters struct {
	// Arrivals are the schedules' counts: planned, started, in flight, dropped.
	Arrivals loadgen.Counter
	// Outcomes returns the journeys' outcomes so far.
	Outcomes func() report.Live
}

// emit hands e to o.Events, when set.
func (o *Options) emit(e Event) {
	if o.Events != nil {
		o.Events(e)
	}
}
