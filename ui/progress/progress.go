// Package progress is the terminal display of a run: bars (mpb) or plain status lines while
// its arrivals are dispatched, the engine's events as "lpbench: …" lines (Console), and a
// capacity search's "capacity: step …" lines (CapacitySteps). It owns every byte a run writes
// to stderr while it goes; it reads the run only through what the engine reports (engine.Event
// and its Counters) and knows nothing of how the run is driven or judged.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/lpbench/lpbench/loadgen"
)

// Mode chooses how a run shows its progress.
type Mode int

// Progress modes.
const (
	Auto  Mode = iota // bars on a terminal, a status line every few seconds otherwise
	Bars              // bars even when the output is not a terminal
	Lines             // a plain status line every few seconds
	Off               // nothing
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Meter shows a running schedule's counters (loadgen's Runner or Group). Bars refresh from a ticker that reads the runner's
// atomic counters: nothing on the workers' path sends to the display.
type Meter struct {
	r       loadgen.Counter
	extra   func() string
	start   time.Time
	stopped chan struct{}
	done    sync.WaitGroup
	p       *mpb.Progress
	bar     *mpb.Bar
	once    sync.Once
}

// Start starts showing the progress of r (a Runner or a Group) on out. extra, when not
// nil, returns more of the run's state for the line (e.g. outcomes so far). lineEvery is the
// period of plain lines.
func Start(out io.Writer, mode Mode, r loadgen.Counter, extra func() string, lineEvery time.Duration) *Meter {
	pr := &Meter{r: r, extra: extra, start: time.Now(), stopped: make(chan struct{})}
	if mode == Auto {
		mode = Lines
		if isTerminal(out) {
			mode = Bars
		}
	}
	switch mode {
	case Bars:
		pr.startBars(out)
	case Lines:
		if lineEvery <= 0 {
			lineEvery = 5 * time.Second
		}
		pr.done.Add(1)
		go pr.lines(out, lineEvery)
	}
	return pr
}

func (pr *Meter) startBars(out io.Writer) {
	total := pr.r.Counts().Planned
	pr.p = mpb.New(mpb.WithOutput(out), mpb.WithWidth(100), mpb.WithRefreshRate(200*time.Millisecond), mpb.ForceTTY(), mpb.WithAutoRefresh())
	pr.bar = pr.p.AddBar(total,
		mpb.PrependDecorators(
			// Read from the runner, not from the bar, so the count agrees with the status text.
			decor.Any(func(decor.Statistics) string {
				return fmt.Sprintf("journeys %d / %d", pr.finished(), total)
			}, decor.WCSyncSpaceR),
		),
		mpb.AppendDecorators(
			decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace),
			decor.Any(func(decor.Statistics) string { return pr.status() }, decor.WCSyncSpace),
		),
	)
	pr.done.Add(1)
	go func() {
		defer pr.done.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				pr.bar.SetCurrent(pr.finished())
			case <-pr.stopped:
				return
			}
		}
	}()
}

// finished is how many arrivals are settled: dropped, or started and done.
func (pr *Meter) finished() int64 {
	c := pr.r.Counts()
	return c.Started - c.InFlight + c.Dropped
}

func (pr *Meter) status() string {
	c := pr.r.Counts()
	s := fmt.Sprintf("in flight %d  dropped %d", c.InFlight, c.Dropped)
	if pr.extra != nil {
		s += "  " + pr.extra()
	}
	return s
}

func (pr *Meter) lines(out io.Writer, every time.Duration) {
	defer pr.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c := pr.r.Counts()
			fmt.Fprintf(out, "lpbench: %5s  arrivals %d/%d  %s\n",
				time.Since(pr.start).Round(time.Second), c.Started+c.Dropped, c.Planned, pr.status())
		case <-pr.stopped:
			return
		}
	}
}

// Stop ends the display; complete says whether the run went to its end (the bar is filled) or was
// cut short (the bar is left where it stopped). Safe to call more than once.
func (pr *Meter) Stop(complete bool) {
	pr.once.Do(func() {
		close(pr.stopped)
		pr.done.Wait()
		if pr.bar != nil {
			pr.bar.SetCurrent(pr.finished())
			if complete {
				pr.bar.SetTotal(-1, true)
			} else {
				pr.bar.Abort(false)
			}
			pr.p.Wait()
		}
	})
}
