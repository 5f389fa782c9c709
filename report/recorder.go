package report

import (
	"io"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/sample"
)

// Live are the counters a progress display reads while the run goes on.
type Live struct {
	OK, Failed, Interrupted, Missed, Uncertain int64
}

// Recorder aggregates journeys. One goroutine, started by NewRecorder, owns every histogram
// (hdrhistogram-go is not safe for concurrent use); workers hand it records over a buffered
// channel. Record and Drop may be called from many goroutines until Close.
//
// Each whole wall-clock second the recorder closes an interval: it appends the second's point to
// every time series, writes the second's histograms to the interval log (when there is one), and
// starts the next. Journeys count in the interval they are recorded in, so the interval
// histograms of every metric add up exactly to its totals.
type Recorder struct {
	o       RecorderOptions
	in      chan sample.Record
	drops   chan drop
	done    chan struct{}
	scopes  []*scope // one per target, then the whole run's
	base    int64    // Unix second of the first interval
	cur     int64    // Unix second of the open interval
	hlog    *hdrhistogram.HistogramLogWriter
	hlogErr error

	ok, failed, interrupted, missed, uncertain atomic.Int64
}

// scope is the metrics of one target, or of the whole run.
type scope struct {
	index int      // target index; -1 for the whole run
	tag   string   // interval-log tag prefix
	total *Metrics // since the start
	now   *Metrics // the open interval
}

type drop struct {
	target   int
	intended time.Duration
}

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	// Targets names the targets; records carry an index into it. Empty: one unnamed target.
	Targets []string
	Buffer  int       // channel capacity (default 4096)
	Epoch   time.Time // the run's time origin (the offsets in records count from it); zero: now
	// Window is the AUTO_MESSAGES window; a tenth of it is the width of the send-delay buckets
	// (Metrics.ByDelay).
	Window time.Duration
	// Observe, when not nil, sees every record on the recorder's goroutine after it is counted
	// (for tests that compare records with a server's ledger). It must not keep the pointer.
	Observe func(*sample.Record)
	// Tick, when not nil, is called on the recorder's goroutine after each interval closes, with
	// the metrics so far by target name and of the whole run, which it may read but not keep
	// (e.g. to check abort thresholds).
	Tick func(byTarget map[string]*Metrics, overall *Metrics)
	// Hlog, when not nil, receives the HdrHistogram interval log: a header, then each second's
	// non-empty histograms tagged "<scope>.<metric>" (scope "all" or the target's name, each
	// character other than a letter, digit, '-', '_' or '.' replaced by '_').
	Hlog io.Writer
	// TargetRate, when not nil, gives the arrivals the schedule asks of a target (index; -1 for
	// all) between two offsets from the epoch, for the series.
	TargetRate func(target int, from, to time.Duration) float64
	// InFlight, when not nil, gives the journeys running now for a target (-1 for all).
	InFlight func(target int) int64
}

// NewRecorder starts a recorder.
func NewRecorder(o RecorderOptions) *Recorder {
	if o.Buffer <= 0 {
		o.Buffer = 4096
	}
	if o.Epoch.IsZero() {
		o.Epoch = time.Now()
	}
	if len(o.Targets) == 0 {
		o.Targets = []string{"target"}
	}
	r := &Recorder{o: o, in: make(chan sample.Record, o.Buffer), drops: make(chan drop, o.Buffer),
		done: make(chan struct{}), base: o.Epoch.Unix()}
	r.cur = r.base
	for i, name := range o.Targets {
		r.scopes = append(r.scopes, newScope(i, tagOf(name)))
	}
	r.scopes = append(r.scopes, newScope(-1, "all"))
	for _, sc := range r.scopes {
		sc.total.Window, sc.now.Window = o.Window, o.Window
	}
	if o.Hlog != nil {
		r.startHlog()
	}
	go r.loop()
	return r
}

func newScope(index int, tag string) *scope {
	return &scope{index: index, tag: tag, total: NewMetrics(), now: NewMetrics()}
}

// tagOf makes a target name usable in an interval-log tag (no commas, spaces or line breaks).
func tagOf(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "target"
	}
	return string(b)
}

// Record hands a finished journey to the recorder. It blocks only when the buffer is full.
func (r *Recorder) Record(j *sample.Record) { r.in <- *j }

// Drop records an arrival of target that was dropped (the pool was full) at its intended time.
func (r *Recorder) Drop(target int, intended time.Duration) { r.drops <- drop{target, intended} }

func (r *Recorder) loop() {
	defer close(r.done)
	t := time.NewTimer(r.untilNext())
	defer t.Stop()
	in, drops := r.in, r.drops
	for in != nil || drops != nil {
		select {
		case j, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			r.add(&j)
		case d, ok := <-drops:
			if !ok {
				drops = nil
				continue
			}
			r.addDrop(d)
		case <-t.C:
			r.rotate()
			t.Reset(r.untilNext())
		}
	}
	r.rotate() // the last, partial second
}

// untilNext returns the time left in the open interval.
func (r *Recorder) untilNext() time.Duration {
	return max(time.Until(time.Unix(r.cur+1, 0)), 0)
}

// unixOf returns the wall-clock second of an offset from the epoch.
func (r *Recorder) unixOf(off time.Duration) int64 {
	return r.o.Epoch.Add(off).Unix()
}

// add counts one record; only the recorder's goroutine calls it.
func (r *Recorder) add(j *sample.Record) {
	sec := r.unixOf(j.Intended)
	for _, sc := range r.scopesOf(int(j.Target)) {
		sc.total.add(j)
		sc.now.add(j)
		sc.total.Series.at(r.base, sec).Arrivals++
	}
	switch j.Outcome {
	case sample.OutcomeOK:
		r.ok.Add(1)
	case sample.OutcomeFailed:
		r.failed.Add(1)
	default:
		r.interrupted.Add(1)
	}
	switch j.Verdict {
	case sample.VerdictMissed:
		r.missed.Add(1)
	case sample.VerdictUncertain:
		r.uncertain.Add(1)
	}
	if r.o.Observe != nil {
		seen := *j // only this copy escapes, and only when observed
		r.o.Observe(&seen)
	}
}

// scopesOf returns the scopes a target's journeys count in: its own and the whole run's.
func (r *Recorder) scopesOf(target int) []*scope {
	all := r.scopes[len(r.scopes)-1]
	if target < 0 || target >= len(r.scopes)-1 {
		return []*scope{all}
	}
	return []*scope{r.scopes[target], all}
}

func (r *Recorder) addDrop(d drop) {
	sec := r.unixOf(d.intended)
	for _, sc := range r.scopesOf(d.target) {
		sc.total.Series.at(r.base, sec).Dropped++
	}
}

// rotate closes the open interval: each scope's point gets the second's figures, the second's
// histograms go to the interval log, and the next interval starts empty.
func (r *Recorder) rotate() {
	from := time.Unix(r.cur, 0).Sub(r.o.Epoch)
	for _, sc := range r.scopes {
		p := sc.total.Series.at(r.base, r.cur)
		p.Fill(sc.now)
		if r.o.TargetRate != nil {
			p.TargetRate = r.o.TargetRate(sc.index, max(from, 0), from+time.Second)
		}
		if r.o.InFlight != nil {
			p.InFlight = r.o.InFlight(sc.index)
		}
		r.writeInterval(sc)
		sc.now.Reset()
	}
	r.cur++
	if r.o.Tick != nil {
		byTarget := make(map[string]*Metrics, len(r.o.Targets))
		for i, name := range r.o.Targets {
			byTarget[name] = r.scopes[i].total
		}
		r.o.Tick(byTarget, r.scopes[len(r.scopes)-1].total)
	}
}

// Live returns the outcome counters so far; safe to call at any time.
func (r *Recorder) Live() Live {
	return Live{OK: r.ok.Load(), Failed: r.failed.Load(), Interrupted: r.interrupted.Load(),
		Missed: r.missed.Load(), Uncertain: r.uncertain.Load()}
}

// Close stops the recorder once every record handed to it is counted, closes the last interval,
// and returns the metrics of each target and of the whole run. No Record or Drop may follow.
func (r *Recorder) Close() (targets []*Metrics, overall *Metrics) {
	close(r.in)
	close(r.drops)
	<-r.done
	for _, sc := range r.scopes[:len(r.scopes)-1] {
		targets = append(targets, sc.total)
	}
	return targets, r.scopes[len(r.scopes)-1].total
}

// HlogErr returns the first error writing the interval log, if any.
func (r *Recorder) HlogErr() error {
	<-r.done
	return r.hlogErr
}
