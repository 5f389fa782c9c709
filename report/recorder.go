package report

import (
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/sample"
)

// Metrics are the aggregates of a set of journeys: one target's, or the whole run's.
type Metrics struct {
	// Arrivals are the load generator's counts for these journeys, filled in at the end of the
	// run (the recorder sees only started journeys).
	Arrivals Arrivals

	Lag     *hdrhistogram.Histogram // actual − intended start
	Journey *hdrhistogram.Histogram // intended start → end of the last step (ended journeys)
	Gap     *hdrhistogram.Histogram // send end − create begin: upper bound of the server's gap
	GapMin  *hdrhistogram.Histogram // send begin − create end: lower bound
	Steps   [sample.NumSteps]*hdrhistogram.Histogram

	Outcomes [sample.NumOutcomes]int64
	Verdicts [sample.NumVerdicts]int64
	// Failures counts journeys by the step that failed and the failure class. A missed window is
	// counted at the send step with class window_missed.
	Failures [sample.NumSteps][sample.NumClasses]int64
	// StepFailures counts every failed step, including a close that failed after an earlier
	// failure (which does not change the journey's outcome).
	StepFailures [sample.NumSteps][sample.NumClasses]int64
	// ByDelay counts window verdicts by the journey's send delay, in buckets of a tenth of the
	// window (the last bucket holds every delay of three windows or more): it shows how the
	// missed share follows the think time, e.g. when probing the window's edge.
	ByDelay [DelayBuckets][sample.NumVerdicts]int64
	// Window is the width the ByDelay buckets are tenths of.
	Window time.Duration

	Requests [sample.NumSteps]int64 // requests made per step (cache hits make none)
	Retries  [sample.NumSteps]int64 // retries per step
}

// DelayBuckets is the number of send-delay buckets of Metrics.ByDelay.
const DelayBuckets = 31

// delayBucket returns the ByDelay bucket of a send delay.
func (m *Metrics) delayBucket(d time.Duration) int {
	if m.Window <= 0 {
		return 0
	}
	return min(max(int(d*10/m.Window), 0), DelayBuckets-1)
}

// DelayBucketRange returns the send delays bucket i covers: [lo, hi); hi is 0 for the last.
func (m *Metrics) DelayBucketRange(i int) (lo, hi time.Duration) {
	lo = m.Window * time.Duration(i) / 10
	if i < DelayBuckets-1 {
		hi = m.Window * time.Duration(i+1) / 10
	}
	return lo, hi
}

// NewMetrics returns empty Metrics whose delay buckets are tenths of window.
func NewMetrics() *Metrics {
	m := &Metrics{Lag: NewHistogram(), Journey: NewHistogram(), Gap: NewHistogram(), GapMin: NewHistogram()}
	for i := range m.Steps {
		m.Steps[i] = NewHistogram()
	}
	return m
}

// Started returns the number of journeys recorded.
func (m *Metrics) Started() int64 {
	var n int64
	for _, c := range m.Outcomes {
		n += c
	}
	return n
}

// add records one journey.
func (m *Metrics) add(j *sample.Journey) {
	m.Outcomes[j.Outcome]++
	record(m.Lag, j.Lag())
	if j.Outcome != sample.OutcomeInterrupted {
		record(m.Journey, j.Latency())
	}
	for s := range sample.NumSteps {
		sp := &j.Steps[s]
		if !sp.Ran {
			continue
		}
		m.Requests[s] += int64(sp.Attempts)
		m.Retries[s] += int64(sp.Retries)
		if sp.Class == sample.ClassNone {
			record(m.Steps[s], sp.Duration())
		} else {
			m.StepFailures[s][sp.Class]++
		}
	}
	if gap, gapMin, ok := j.Gap(); ok {
		record(m.Gap, gap)
		record(m.GapMin, gapMin)
	}
	m.Verdicts[j.Verdict]++
	m.ByDelay[m.delayBucket(j.SendDelay)][j.Verdict]++
	if j.Outcome != sample.OutcomeOK {
		m.Failures[j.Failed][j.Class]++
	}
}

// Live are the counters a progress display reads while the run goes on.
type Live struct {
	OK, Failed, Interrupted, Missed, Uncertain int64
}

// Recorder aggregates journeys. One goroutine, started by NewRecorder, owns every histogram
// (hdrhistogram-go is not safe for concurrent use); workers hand it records over a buffered
// channel. Record may be called from many goroutines until Close.
type Recorder struct {
	in      chan sample.Journey
	done    chan struct{}
	targets []*Metrics
	overall *Metrics
	observe func(*sample.Journey)
	tick    func([]*Metrics, *Metrics)
	every   time.Duration

	ok, failed, interrupted, missed, uncertain atomic.Int64
}

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	Targets int // number of targets; records carry an index below it
	Buffer  int // channel capacity (default 4096)
	// Observe, when not nil, sees every record on the recorder's goroutine after it is counted
	// (for tests that compare records with a server's ledger). It must not keep the pointer.
	Observe func(*sample.Journey)
	// Tick, when not nil, is called on the recorder's goroutine every Every (default 1 s) with the
	// metrics so far, which it may read but not keep (e.g. to check abort thresholds).
	Tick  func(perTarget []*Metrics, overall *Metrics)
	Every time.Duration
	// Window is the AUTO_MESSAGES window, the unit of the send-delay buckets.
	Window time.Duration
}

// NewRecorder starts a recorder.
func NewRecorder(o RecorderOptions) *Recorder {
	if o.Buffer <= 0 {
		o.Buffer = 4096
	}
	r := &Recorder{in: make(chan sample.Journey, o.Buffer), done: make(chan struct{}),
		overall: NewMetrics(), observe: o.Observe, tick: o.Tick, every: o.Every}
	r.overall.Window = o.Window
	if r.every <= 0 {
		r.every = time.Second
	}
	for range max(o.Targets, 1) {
		m := NewMetrics()
		m.Window = o.Window
		r.targets = append(r.targets, m)
	}
	go r.loop()
	return r
}

// Record hands a finished journey to the recorder. It blocks only when the buffer is full.
func (r *Recorder) Record(j *sample.Journey) { r.in <- *j }

func (r *Recorder) loop() {
	defer close(r.done)
	var tick <-chan time.Time
	if r.tick != nil {
		t := time.NewTicker(r.every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case j, ok := <-r.in:
			if !ok {
				return
			}
			r.add(&j)
		case <-tick:
			r.tick(r.targets, r.overall)
		}
	}
}

// add counts one record; only the recorder's goroutine calls it.
func (r *Recorder) add(j *sample.Journey) {
	if int(j.Target) < len(r.targets) {
		r.targets[j.Target].add(j)
	}
	r.overall.add(j)
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
	if r.observe != nil {
		seen := *j // only this copy escapes, and only when observed
		r.observe(&seen)
	}
}

// Live returns the outcome counters so far; safe to call at any time.
func (r *Recorder) Live() Live {
	return Live{OK: r.ok.Load(), Failed: r.failed.Load(), Interrupted: r.interrupted.Load(),
		Missed: r.missed.Load(), Uncertain: r.uncertain.Load()}
}

// Close stops the recorder once every record handed to it is counted, and returns the metrics of
// each target and of the whole run. No Record may follow.
func (r *Recorder) Close() (targets []*Metrics, overall *Metrics) {
	close(r.in)
	<-r.done
	return r.targets, r.overall
}

// Duration-valued helpers for reports.

// Mean returns the histogram's mean as a Duration.
func Mean(h *hdrhistogram.Histogram) time.Duration { return time.Duration(h.Mean()) }
