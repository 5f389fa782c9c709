package report

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
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
	AutoMsg *hdrhistogram.Histogram // create begin → first auto message received
	Steps   [sample.NumSteps]*hdrhistogram.Histogram

	// AutoMsgAwaited and AutoMsgReceived count, by window verdict, the journeys that waited for
	// their first auto message and those that got it: auto messages for missed-window journeys
	// should never come, and if they do, the window is not what LivePerson documents.
	AutoMsgAwaited  [sample.NumVerdicts]int64
	AutoMsgReceived [sample.NumVerdicts]int64

	Outcomes [sample.NumOutcomes]int64
	Verdicts [sample.NumVerdicts]int64
	// Failures counts journeys by the step that failed and the failure class. A missed window is
	// counted at the send step with class window_missed.
	Failures [sample.NumSteps][sample.NumClasses]int64
	// StepFailures counts every failed step, including a close that failed after an earlier
	// failure (which does not change the journey's outcome).
	StepFailures [sample.NumSteps][sample.NumClasses]int64
	// ByDelay counts window verdicts by the journey's send delay, in buckets a tenth of Window
	// wide: bucket i holds delays in [i, i+1) tenths of the window, the last (DelayBuckets − 1)
	// every delay of three windows or more, and the first also negative delays. With Window 0
	// every delay counts in the first bucket. It shows how the missed share follows the think
	// time, e.g. when probing the window's edge.
	ByDelay [DelayBuckets][sample.NumVerdicts]int64
	// Window is the AUTO_MESSAGES window the journeys were judged against; a tenth of it is the
	// width of the ByDelay buckets. Metrics of different windows do not merge.
	Window time.Duration

	Requests [sample.NumSteps]int64 // requests made per step (cache hits make none)
	Retries  [sample.NumSteps]int64 // retries per step
	// RateLimited counts, per step, the responses 429 (a quota), retried or not.
	RateLimited [sample.NumSteps]int64
	// Unsent counts, per step, the failed steps (timeout or network) whose last request was
	// never written: lost in the client (connection set-up, pool wait), not at the target.
	Unsent [sample.NumSteps]int64

	// Routing counts, by routing result, the journeys that checked where their conversation was
	// routed (a skill was asked for); RoutingNotChecked stays 0.
	Routing [sample.NumRoutings]int64

	// Series is the per-second time series of these journeys.
	Series Series
}

// DelayBuckets is the number of send-delay buckets of Metrics.ByDelay.
const DelayBuckets = 31

// delayBucket returns the ByDelay bucket of a send delay: its number of whole tenths of the
// window, at most DelayBuckets − 1; 0 for a negative delay or when Window is not set.
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

// NewMetrics returns empty Metrics, every histogram made by hdr.New. Window is left 0: set
// it before adding journeys, or every send delay counts in the first ByDelay bucket.
func NewMetrics() *Metrics {
	m := &Metrics{Lag: hdr.New(), Journey: hdr.New(), Gap: hdr.New(), GapMin: hdr.New(), AutoMsg: hdr.New()}
	for i := range m.Steps {
		m.Steps[i] = hdr.New()
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
func (m *Metrics) add(j *sample.Record) {
	m.Outcomes[j.Outcome]++
	hs := m.histograms()
	Values(j, func(h int, d time.Duration) { hdr.Record(hs[h], d) })
	for s := range sample.NumSteps {
		sp := &j.Steps[s]
		if !sp.Ran {
			continue
		}
		m.Requests[s] += int64(sp.Attempts)
		m.Retries[s] += int64(sp.Retries)
		m.RateLimited[s] += int64(sp.RateLimited)
		if sp.Class != sample.ClassNone {
			m.StepFailures[s][sp.Class]++
			if sp.Unsent && (sp.Class == sample.ClassTimeout || sp.Class == sample.ClassNetwork) {
				m.Unsent[s]++
			}
		}
	}
	m.Verdicts[j.Verdict]++
	if awaited, received := AutoMessage(j); awaited {
		m.AutoMsgAwaited[j.Verdict]++
		if received {
			m.AutoMsgReceived[j.Verdict]++
		}
	}
	m.ByDelay[m.delayBucket(j.SendDelay)][j.Verdict]++
	if j.Routing != sample.RoutingNotChecked && j.Routing < sample.NumRoutings {
		m.Routing[j.Routing]++
	}
	if j.Outcome != sample.OutcomeOK {
		m.Failures[j.Failed][j.Class]++
	}
}

// The indexes of Metrics' histograms, in Histograms' order: lag, journey, gap, gap_min, automsg,
// then one per step.
const (
	histLag = iota
	histJourney
	histGap
	histGapMin
	histAutoMsg
	histSteps // + the step
	// NumHistograms is the number of Metrics' histograms.
	NumHistograms = histSteps + int(sample.NumSteps)
)

// histNames are the histograms' metric names, by index.
var histNames = func() [NumHistograms]string {
	n := [NumHistograms]string{histLag: "lag", histJourney: "journey", histGap: "gap", histGapMin: "gap_min", histAutoMsg: "automsg"}
	for s := range sample.NumSteps {
		n[histSteps+int(s)] = "step." + s.String()
	}
	return n
}()

// HistogramNames returns the metric names of Metrics' histograms in Histograms' order: the
// indexes Values calls back with.
func HistogramNames() []string { return histNames[:] }

// histograms returns m's histograms by index.
func (m *Metrics) histograms() [NumHistograms]*hdrhistogram.Histogram {
	hs := [NumHistograms]*hdrhistogram.Histogram{histLag: m.Lag, histJourney: m.Journey, histGap: m.Gap, histGapMin: m.GapMin, histAutoMsg: m.AutoMsg}
	for s := range sample.NumSteps {
		hs[histSteps+int(s)] = m.Steps[s]
	}
	return hs
}

// Values calls fn with every value journey j adds to Metrics' histograms: the histogram's index
// (HistogramNames) and the value, unclamped. Metrics and the live metrics (package metrics) read
// journeys through it, so that they count alike: the lag of every journey; the journey's latency
// unless it was interrupted; each step that succeeded; the gap bounds when CONVERSATION and SEND
// both did; the wait for the first auto message (from CONVERSATION's begin) when it came.
func Values(j *sample.Record, fn func(h int, d time.Duration)) {
	fn(histLag, j.Lag())
	if j.Outcome != sample.OutcomeInterrupted {
		fn(histJourney, j.Latency())
	}
	for s := range sample.NumSteps {
		if sp := &j.Steps[s]; sp.Ran && sp.Class == sample.ClassNone {
			fn(histSteps+int(s), sp.Duration())
		}
	}
	if gap, gapMin, ok := j.Gap(); ok {
		fn(histGap, gap)
		fn(histGapMin, gapMin)
	}
	if _, received := AutoMessage(j); received {
		fn(histAutoMsg, j.Steps[sample.AutoMsg].End-j.Steps[sample.Create].Begin)
	}
}

// AutoMessage reports whether journey j waited for its first auto message (a wait the run's
// stop cut short does not count) and whether it got it.
func AutoMessage(j *sample.Record) (awaited, received bool) {
	am := &j.Steps[sample.AutoMsg]
	awaited = am.Ran && am.Class != sample.ClassCanceled
	return awaited, awaited && am.Class == sample.ClassNone
}

// NamedHistogram is one of a Metrics' histograms with its metric name.
type NamedHistogram struct {
	Name string // "lag", "journey", "gap", "gap_min", "automsg" or "step.<name>"
	H    *hdrhistogram.Histogram
}

// Histograms lists every histogram of m with its metric name, in a fixed order: lag, journey,
// gap, gap_min, automsg, then step.<name> for each step in journey order (lookup … close).
func (m *Metrics) Histograms() []NamedHistogram {
	hs := m.histograms()
	out := make([]NamedHistogram, NumHistograms)
	for i, h := range hs {
		out[i] = NamedHistogram{histNames[i], h}
	}
	return out
}

// Merge adds o's journeys to m exactly: counts add and histograms merge without loss. The time
// series are not merged here (see MergeSeries).
func (m *Metrics) Merge(o *Metrics) error {
	mh, oh := m.Histograms(), o.Histograms()
	for i := range mh {
		if err := hdr.Merge(mh[i].H, oh[i].H); err != nil {
			return fmt.Errorf("%s: %w", mh[i].Name, err)
		}
	}
	addArrivals(&m.Arrivals, o.Arrivals)
	for i := range m.Outcomes {
		m.Outcomes[i] += o.Outcomes[i]
	}
	for i := range m.Verdicts {
		m.Verdicts[i] += o.Verdicts[i]
		m.AutoMsgAwaited[i] += o.AutoMsgAwaited[i]
		m.AutoMsgReceived[i] += o.AutoMsgReceived[i]
	}
	for i := range m.Routing {
		m.Routing[i] += o.Routing[i]
	}
	for s := range m.Failures {
		for c := range m.Failures[s] {
			m.Failures[s][c] += o.Failures[s][c]
			m.StepFailures[s][c] += o.StepFailures[s][c]
		}
		m.Requests[s] += o.Requests[s]
		m.Retries[s] += o.Retries[s]
		m.RateLimited[s] += o.RateLimited[s]
		m.Unsent[s] += o.Unsent[s]
	}
	if m.Window != o.Window && o.Started() > 0 && m.Started() > 0 {
		return fmt.Errorf("windows differ (%v and %v): their send-delay buckets cannot be added", m.Window, o.Window)
	}
	if m.Window == 0 {
		m.Window = o.Window
	}
	for b := range m.ByDelay {
		for v := range m.ByDelay[b] {
			m.ByDelay[b][v] += o.ByDelay[b][v]
		}
	}
	return nil
}

func addArrivals(a *Arrivals, o Arrivals) {
	a.Planned += o.Planned
	a.Started += o.Started
	a.Dropped += o.Dropped
	a.Late += o.Late
	a.NotStarted += o.NotStarted
}

// Reset empties m for the next interval, keeping its histograms' memory.
func (m *Metrics) Reset() {
	for _, h := range m.Histograms() {
		h.H.Reset()
	}
	window := m.Window
	lag, journey, gap, gapMin, auto, steps := m.Lag, m.Journey, m.Gap, m.GapMin, m.AutoMsg, m.Steps
	*m = Metrics{Lag: lag, Journey: journey, Gap: gap, GapMin: gapMin, AutoMsg: auto, Steps: steps, Window: window}
}

// OtherStepFailures returns the step failures that did not decide a journey's outcome (e.g. a
// close that failed after an earlier failure), and whether there are any.
func (m *Metrics) OtherStepFailures() (extra [sample.NumSteps][sample.NumClasses]int64, found bool) {
	for s := range sample.NumSteps {
		for c := range sample.NumClasses {
			if n := m.StepFailures[s][c] - m.Failures[s][c]; n > 0 {
				extra[s][c], found = n, true
			}
		}
	}
	return extra, found
}

// RoutingChecked returns how many journeys checked where their conversation was routed, and
// how many of them found it on the skill asked for and on another.
func (m *Metrics) RoutingChecked() (checked, matched, mismatched int64) {
	matched, mismatched = m.Routing[sample.RoutingMatched], m.Routing[sample.RoutingMismatched]
	return matched + mismatched + m.Routing[sample.RoutingUnseen], matched, mismatched
}

// judged returns the number of journeys that got a window verdict.
func Judged(m *Metrics) int64 { return JudgedOf(&m.Verdicts) }

// judgedOf returns the journeys of verdict counts v that got a window verdict (in, missed or
// uncertain), e.g. of one ByDelay bucket.
func JudgedOf(v *[sample.NumVerdicts]int64) int64 {
	return v[sample.VerdictIn] + v[sample.VerdictMissed] + v[sample.VerdictUncertain]
}

// ended returns the number of journeys that ended on their own (not interrupted).
func Ended(m *Metrics) int64 {
	return m.Outcomes[sample.OutcomeOK] + m.Outcomes[sample.OutcomeFailed]
}

// AutoMessages returns how many journeys waited for their first auto message and how many got
// it, over every timing verdict; awaited is 0 when auto messages were not verified.
func (m *Metrics) AutoMessages() (awaited, received int64) {
	for v := range m.AutoMsgAwaited {
		awaited += m.AutoMsgAwaited[v]
		received += m.AutoMsgReceived[v]
	}
	return awaited, received
}

// MostlyCached reports whether step s was served mostly from the target's shared cache in m:
// it is a step a cache can serve (the domain lookup, the AppJWT), it has values, and fewer
// requests were made than half of them (a cache hit makes none). Its percentiles are then a
// cache's nanoseconds and the odd refresh, not the target's latency.
func (m *Metrics) MostlyCached(s sample.Step) bool {
	if s != sample.Lookup && s != sample.AppJWT {
		return false
	}
	n := hdr.CountOf(m.Steps[s])
	return n > 0 && 2*m.Requests[s] < n
}

// Headline is the number that matters of a set of journeys: how many consumers were served out
// of those whose journeys ended.
type Headline struct {
	// Verified: auto messages were awaited, so Served counts consumers whose first auto message
	// arrived (the proof); otherwise Served counts journeys whose first SEND was certainly inside
	// the window (timing alone: uncertain is not counted as served).
	Verified bool
	Served   int64
	Of       int64 // journeys that ended (ok or failed)
	// NeverStarted are planned consumers the generator never started (dropped: it is the
	// measurement checks' matter, not the target's).
	NeverStarted int64
	// Anomalies are auto messages that came although the first SEND was certainly late, which
	// LivePerson says never happens: the window is longer than configured, or the clocks lie.
	Anomalies int64
	// UnservedInWindow, when no consumer at all got an auto message, counts those that waited for
	// one with their first SEND certainly inside the window: a set-up that cannot deliver auto
	// messages (webhooks, the account's feature or permission), not a target under load.
	UnservedInWindow int64
}

// Headline returns the headline of m.
func (m *Metrics) Headline() Headline {
	awaited, received := m.AutoMessages()
	h := Headline{Verified: awaited > 0, Of: Ended(m), Anomalies: m.AutoMsgReceived[sample.VerdictMissed], NeverStarted: m.Arrivals.Dropped}
	if h.Verified {
		h.Served = received
		if received == 0 {
			h.UnservedInWindow = m.AutoMsgAwaited[sample.VerdictIn]
		}
	} else {
		h.Served = m.Verdicts[sample.VerdictIn]
	}
	return h
}
