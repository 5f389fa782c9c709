package progress

import (
	"context"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/loadgen"
)

// tempFile returns a new empty file that the test removes at its end.
func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "progress")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readLines returns the complete lines written to f so far.
func readLines(t *testing.T, f *os.File) []string {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n")
	}
	return nil
}

// stopWithin calls pr.Stop(complete), failing the test if it does not return.
func stopWithin(t *testing.T, pr *Meter, complete bool) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		pr.Stop(complete)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("Stop(%v) did not return", complete)
	}
}

// frozen is a schedule's counters that do not change.
type frozen loadgen.Counts

func (f frozen) Counts() loadgen.Counts { return loadgen.Counts(f) }

// frozenRunner returns the counters of a schedule that is not running: 10 planned, 7 started of
// which 3 in flight, 2 dropped.
func frozenRunner() loadgen.Counter {
	return frozen{Planned: 10, Started: 7, Dropped: 2, InFlight: 3}
}

func TestProgressLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mode Mode
	}{
		// Lines asked for.
		{"lines", Lines},
		// Auto on a file that is not a terminal falls back to lines.
		{"auto on a file", Auto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const every = 20 * time.Millisecond
			f := tempFile(t)
			began := time.Now()
			pr := Start(f, tt.mode, frozenRunner(), func() string { return "ok 4 failed 1" }, every)
			waitFor(t, "3 status lines", func() bool { return len(readLines(t, f)) >= 3 })
			stopWithin(t, pr, true)
			elapsed := time.Since(began)
			lines := readLines(t, f)

			// One line per period at most: a ticker never fires more often than its period.
			if most := int(elapsed/every) + 1; len(lines) > most {
				t.Errorf("%d lines in %v at one per %v, want ≤ %d", len(lines), elapsed, every, most)
			}
			re := regexp.MustCompile(`^lpbench: +\d+s  arrivals 9/10  in flight 3  dropped 2  ok 4 failed 1$`)
			for _, l := range lines {
				if !re.MatchString(l) {
					t.Errorf("line %q does not match %v", l, re)
				}
			}

			// Nothing is written once Stop has returned.
			n := len(lines)
			time.Sleep(5 * every)
			if got, want := len(readLines(t, f)), n; got != want {
				t.Errorf("%d lines after Stop and 5 periods, want %d", got, want)
			}
		})
	}
}

func TestProgressLinesDefaultPeriod(t *testing.T) {
	t.Parallel()
	f := tempFile(t)
	pr := Start(f, Lines, frozenRunner(), nil, 0)
	time.Sleep(50 * time.Millisecond)
	stopWithin(t, pr, true)
	// With the default period (seconds), no line is due yet.
	if got, want := len(readLines(t, f)), 0; got != want {
		t.Errorf("%d lines within 50ms with the default period, want %d", got, want)
	}
}

func TestProgressOff(t *testing.T) {
	t.Parallel()
	f := tempFile(t)
	var called atomic.Bool
	pr := Start(f, Off, frozenRunner(), func() string { called.Store(true); return "x" }, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	stopWithin(t, pr, true)
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Size(), int64(0); got != want {
		t.Errorf("Off wrote %d bytes, want %d", got, want)
	}
	if called.Load() {
		t.Error("Off called extra")
	}
}

func TestProgressStopIdempotent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mode     Mode
		complete bool
	}{
		// Lines, run complete.
		{"lines complete", Lines, true},
		// Lines, run cut short.
		{"lines cut short", Lines, false},
		// Nothing shown.
		{"off", Off, true},
		// Bars, run complete.
		{"bars complete", Bars, true},
		// Bars, run cut short.
		{"bars cut short", Bars, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pr := Start(tempFile(t), tt.mode, frozenRunner(), nil, time.Millisecond)
			stopWithin(t, pr, tt.complete)
			stopWithin(t, pr, tt.complete)
			stopWithin(t, pr, !tt.complete)
		})
	}
}

func TestProgressBars(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cut      bool // stop the run after a few arrivals
		complete bool // argument of Stop
	}{
		// The run goes to its end and the bar is filled.
		{"complete", false, true},
		// The run is stopped early and the bar left where it was.
		{"cut short", true, false},
		// A caller that says "complete" for a run that was cut short must not hang.
		{"cut short, stopped as complete", true, true},
		// A caller that says "cut short" for a full run must not hang.
		{"complete, stopped as cut short", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := tempFile(t)
			stop, cancel := context.WithCancel(context.Background())
			defer cancel()
			var n atomic.Int64
			r := &loadgen.Runner{Plan: loadgen.Constant(1000, 300*time.Millisecond), Task: func(context.Context, loadgen.Arrival) {
				if n.Add(1) == 20 && tt.cut {
					cancel()
				}
			}}
			pr := Start(f, Bars, r, func() string { return "extra-text" }, 0)
			c := r.Run(stop, context.Background())
			stopWithin(t, pr, tt.complete)
			if c.Planned != c.Started+c.Dropped+c.NotStarted || c.InFlight != 0 {
				t.Errorf("counts %+v: planned ≠ started + dropped + not started, or journeys still in flight", c)
			}
			if tt.cut && c.NotStarted == 0 {
				t.Errorf("NotStarted = 0 after a stop, want > 0")
			}
		})
	}
}

// TestProgressBarsWritesToFile checks that Bars draws even when the output is not a
// terminal, as its doc says, and that the last frame shows the final counts.
func TestProgressBarsWritesToFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		complete bool
		settle   bool // all 10 arrivals settled: nothing in flight
		want     []string
	}{
		// A full run: 8 started and done + 2 dropped.
		{"complete", true, true, []string{"journeys 10 / 10", "in flight 0  dropped 2  extra-text"}},
		// Cut short: 7 started of which 3 still in flight, 2 dropped: 6 settled.
		{"cut short", false, false, []string{"journeys 6 / 10", "in flight 3  dropped 2  extra-text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := tempFile(t)
			r := frozenRunner()
			if tt.settle {
				r = frozen{Planned: 10, Started: 8, Dropped: 2}
			}
			pr := Start(f, Bars, r, func() string { return "extra-text" }, 0)
			stopWithin(t, pr, tt.complete)
			b, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			// The last frame is after the last carriage return or cursor movement.
			last := string(b)
			if i := strings.LastIndexAny(last, "\r\x1b"); i >= 0 {
				last = last[i:]
			}
			for _, want := range tt.want {
				if !strings.Contains(last, want) {
					t.Errorf("last frame %q does not contain %q (all output %q)", last, want, b)
				}
			}
		})
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
