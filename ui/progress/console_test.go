package progress

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/capacity"
	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/report"
)

// TestConsoleNotices: the engine's notices are shown as "lpbench: …" lines, the relay's on a line
// of their own; the countdown to a start barrier only when progress is shown.
func TestConsoleNotices(t *testing.T) {
	t.Parallel()
	events := []engine.Event{
		{Kind: engine.EventWaiting, Message: "set up; waiting 2s for the start barrier X"},
		{Kind: engine.EventCountdown, Message: "starting in 1s"},
		{Kind: engine.EventClockUnread, Target: "a", Err: errors.New("refused"), Message: "could not read the clock of target a: refused"},
		{Kind: engine.EventRelay, Target: "a", Message: "relay lost"},
	}
	for _, tc := range []struct {
		mode Mode
		want string
	}{
		{Lines, "lpbench: set up; waiting 2s for the start barrier X\nlpbench: starting in 1s\n" +
			"lpbench: could not read the clock of target a: refused\n\nlpbench: relay lost\n"},
		{Off, "lpbench: set up; waiting 2s for the start barrier X\n" +
			"lpbench: could not read the clock of target a: refused\n\nlpbench: relay lost\n"},
	} {
		var out strings.Builder
		c := NewConsole(&out, tc.mode)
		for _, e := range events {
			c.Event(e)
		}
		if out.String() != tc.want {
			t.Errorf("mode %d: got\n%q\nwant\n%q", tc.mode, out.String(), tc.want)
		}
	}
}

// TestConsoleProgress: the dispatch's start and end start and stop the progress display, which
// reads the run's counters; with progress off nothing is shown.
func TestConsoleProgress(t *testing.T) {
	t.Parallel()
	outcomes := func() report.Live { return report.Live{OK: 4, Failed: 1, Missed: 2} }
	for _, mode := range []Mode{Lines, Off} {
		f := tempFile(t)
		c := NewConsole(f, mode)
		c.LineEvery = time.Millisecond
		c.Event(engine.Event{Kind: engine.EventDispatching, Counters: engine.Counters{Arrivals: frozenRunner(), Outcomes: outcomes}})
		if mode == Lines {
			waitFor(t, "a status line", func() bool { return len(readLines(t, f)) >= 1 })
		}
		c.Event(engine.Event{Kind: engine.EventDispatched, Complete: true})
		lines := readLines(t, f)
		if mode == Off {
			if len(lines) != 0 {
				t.Errorf("progress off wrote %q", lines)
			}
			continue
		}
		if !strings.Contains(lines[0], "arrivals 9/10  in flight 3  dropped 2  ok 4  failed 1  window missed 2") {
			t.Errorf("status line %q", lines[0])
		}
	}
}

// TestCapacitySteps: a step of a search is a "capacity: step …" line, then a line per criterion
// it failed on.
func TestCapacitySteps(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	show := CapacitySteps(&out)
	show(capacity.Event{Step: 2, Rate: 40, Message: "step 2  40/s  bracket FAIL (slo)  — so far between 20 and 40/s",
		Result: report.CapacityStep{Why: []string{"slo: errors < 0.1% measured 2%"}}})
	want := "capacity: step 2  40/s  bracket FAIL (slo)  — so far between 20 and 40/s\ncapacity:   slo: errors < 0.1% measured 2%\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	// A long reason is cut at a word: the step table gives it whole.
	out.Reset()
	long := "stationary: the gap p99 grew 532ms/s over the step's last 10 s (limit 20ms/s): requests queue at the target; " + strings.Repeat("more detail ", 20)
	show(capacity.Event{Step: 3, Rate: 80, Message: "step 3  80/s  bracket FAIL (stationary)", Result: report.CapacityStep{Why: []string{long}}})
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || len([]rune(lines[1])) > len("capacity:   ")+whyWidth+2 || !strings.HasSuffix(lines[1], " …") ||
		!strings.HasPrefix(lines[1], "capacity:   stationary: the gap p99 grew 532ms/s") {
		t.Errorf("a %d-character reason is shown as %q", len(long), out.String())
	}
}
