package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/lpbench/lpbench/capacity"
	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/report"
)

// Console shows a run on a terminal (or its log) from the engine's events: its notices as
// "lpbench: …" lines, and its progress as Mode asks while the arrivals are dispatched. Its
// Event is an engine.Options.Events.
type Console struct {
	out  io.Writer
	mode Mode
	// LineEvery is the period of plain progress lines (default 5 s).
	LineEvery time.Duration

	mu    sync.Mutex
	meter *Meter
}

// NewConsole returns a console that writes to out; mode Off shows the notices but no progress
// (nor the countdown to a start barrier).
func NewConsole(out io.Writer, mode Mode) *Console {
	return &Console{out: out, mode: mode}
}

// Event shows e. Safe for concurrent use.
func (c *Console) Event(e engine.Event) {
	switch e.Kind {
	case engine.EventDispatching:
		if c.mode == Off {
			return
		}
		m := Start(c.out, c.mode, e.Counters.Arrivals, outcomes(e.Counters.Outcomes), c.LineEvery)
		c.mu.Lock()
		c.meter = m
		c.mu.Unlock()
	case engine.EventDispatched:
		c.mu.Lock()
		m := c.meter
		c.meter = nil
		c.mu.Unlock()
		if m != nil {
			m.Stop(e.Complete)
		}
	case engine.EventCountdown:
		if c.mode != Off {
			fmt.Fprintf(c.out, "lpbench: %s\n", e.Message)
		}
	case engine.EventRelay:
		// On a line of its own: a bar may be drawing.
		fmt.Fprintf(c.out, "\nlpbench: %s\n", e.Message)
	default:
		if e.Message != "" {
			fmt.Fprintf(c.out, "lpbench: %s\n", e.Message)
		}
	}
}

// outcomes returns the status text of the journeys' outcomes so far, for the progress line.
func outcomes(live func() report.Live) func() string {
	if live == nil {
		return nil
	}
	return func() string {
		l := live()
		return fmt.Sprintf("ok %d  failed %d  window missed %d", l.OK, l.Failed, l.Missed)
	}
}

// CapacitySteps returns a capacity.Options.Events that writes each step of a search to out:
// "capacity: step …", then a line per criterion it failed on, cut to whyWidth characters: the
// step table at the end gives each reason whole.
func CapacitySteps(out io.Writer) func(capacity.Event) {
	return func(e capacity.Event) {
		fmt.Fprintf(out, "capacity: %s\n", e.Message)
		for _, why := range e.Result.Why {
			fmt.Fprintf(out, "capacity:   %s\n", cut(why, whyWidth))
		}
	}
}

// whyWidth is how much of a failed criterion's reason a progress line shows.
const whyWidth = 110

// cut returns s, or its first n characters ending at a word and "…" when it is longer.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	r = r[:n]
	if i := strings.LastIndexByte(string(r), ' '); i > n/2 {
		return string(r)[:i] + " …"
	}
	return string(r) + "…"
}
