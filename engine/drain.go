package engine

import (
	"sync/atomic"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/profiles"
)

// drainMargin is what a journey in flight may take, after its last request could have timed
// out, to close its conversation and be recorded.
const drainMargin = 10 * time.Second

// drainFor returns how long the journeys still in flight when the last arrival was dispatched
// may go on: o.Drain, or one request timeout (or auto-message wait, if longer) and drainMargin.
// A journey that needs more is stuck in a generator or a target too slow for the load; the run
// does not wait for it for ever.
func drainFor(p profiles.Profile, o Options) time.Duration {
	if o.Drain > 0 {
		return o.Drain
	}
	d := max(p.Journey.RequestTimeout, p.Journey.AwaitAutoMessage)
	for _, t := range p.Targets {
		d = max(d, t.RequestTimeout)
	}
	return d + drainMargin
}

// drain watches the schedules: once every arrival has been dispatched (started, dropped, or
// passed over by a shard that joined late), it
// gives the journeys in flight limit, then cancels them (they end interrupted, their
// conversations still closed). It stops when done closes; fired reports whether it cancelled.
type drain struct {
	fired atomic.Int64 // journeys in flight when it cancelled them
}

func (d *drain) watch(group loadgen.Group, limit time.Duration, done <-chan struct{}, cancel func()) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var deadline <-chan time.Time
	for {
		select {
		case <-done:
			return
		case <-deadline:
			if n := group.Counts().InFlight; n > 0 {
				d.fired.Store(n)
				cancel()
			}
			return
		case <-t.C:
			if deadline == nil && group.Dispatched() {
				timer := time.NewTimer(limit)
				defer timer.Stop()
				deadline = timer.C
			}
		}
	}
}
