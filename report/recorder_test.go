package report

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/sample"
)

const ms = time.Millisecond

// ran returns a span that ran from begin for d, with the given attempts and class.
func ran(begin, d time.Duration, attempts uint8, class sample.Class) sample.Span {
	return sample.Span{Begin: begin, End: begin + d, Attempts: attempts, Class: class, Ran: true}
}

// ok returns a successful span of one request.
func ok(begin, d time.Duration) sample.Span { return ran(begin, d, 1, sample.ClassNone) }

// failedStep is a (step, class) pair of the failure tables.
type failedStep struct {
	step  sample.Step
	class sample.Class
}

// journeyKind is one shape of journey fed to the recorder, with what it must contribute to the
// metrics written out by hand (not derived from the record by the code under test's rules).
type journeyKind struct {
	name string
	j    sample.Record // Index, Target, Intended and Start are set per record

	steps        []sample.Step // steps whose histogram gets a value
	requests     [sample.NumSteps]int64
	stepFailures []failedStep
	failure      *failedStep // the journey's failure, if not OK
	gap          bool        // gap and gap_min recorded
	journey      bool        // journey latency recorded
}

// kinds are the journeys the recorder tests feed. Offsets are from the journey's intended start.
var kinds = []journeyKind{
	{
		name: "ok, in window, every step",
		j: sample.Record{
			Steps: [sample.NumSteps]sample.Span{
				sample.Lookup:      ok(1*ms, 20*ms),
				sample.AppJWT:      ran(21*ms, 0, 0, sample.ClassNone), // cache hit: no request
				sample.ConsumerJWS: ok(21*ms, 30*ms),
				sample.Create:      ok(51*ms, 100*ms),
				sample.Send:        ok(151*ms, 80*ms),
				sample.AutoMsg:     ran(151*ms, 500*ms, 0, sample.ClassNone),
				sample.Close:       ok(651*ms, 40*ms),
			},
			End: 691 * ms, Outcome: sample.OutcomeOK, Verdict: sample.VerdictIn,
		},
		steps:    []sample.Step{sample.Lookup, sample.AppJWT, sample.ConsumerJWS, sample.Create, sample.Send, sample.AutoMsg, sample.Close},
		requests: [sample.NumSteps]int64{sample.Lookup: 1, sample.ConsumerJWS: 1, sample.Create: 1, sample.Send: 1, sample.Close: 1},
		gap:      true, journey: true,
	},
	{
		name: "ok, uncertain verdict, send retried",
		j: sample.Record{
			Steps: [sample.NumSteps]sample.Span{
				sample.ConsumerJWS: ok(1*ms, 30*ms),
				sample.Create:      ok(31*ms, 3*time.Second),
				sample.Send:        ran(9*time.Second, 2*time.Second, 2, sample.ClassNone),
				sample.Close:       ok(11*time.Second, 40*ms),
			},
			End: 11*time.Second + 40*ms, Outcome: sample.OutcomeOK, Verdict: sample.VerdictUncertain,
		},
		steps:    []sample.Step{sample.ConsumerJWS, sample.Create, sample.Send, sample.Close},
		requests: [sample.NumSteps]int64{sample.ConsumerJWS: 1, sample.Create: 1, sample.Send: 2, sample.Close: 1},
		gap:      true, journey: true,
	},
	{
		name: "window missed",
		j: sample.Record{
			Steps: [sample.NumSteps]sample.Span{
				sample.ConsumerJWS: ok(1*ms, 30*ms),
				sample.Create:      ok(31*ms, 100*ms),
				sample.Send:        ok(10500*ms, 100*ms),
				sample.Close:       ok(10600*ms, 40*ms),
			},
			End: 10640 * ms, Outcome: sample.OutcomeFailed, Failed: sample.Send, Class: sample.ClassWindowMissed,
			Verdict: sample.VerdictMissed,
		},
		steps:    []sample.Step{sample.ConsumerJWS, sample.Create, sample.Send, sample.Close},
		requests: [sample.NumSteps]int64{sample.ConsumerJWS: 1, sample.Create: 1, sample.Send: 1, sample.Close: 1},
		failure:  &failedStep{sample.Send, sample.ClassWindowMissed},
		gap:      true, journey: true,
	},
	{
		name: "create failed 5xx after retries",
		j: sample.Record{
			Steps: [sample.NumSteps]sample.Span{
				sample.ConsumerJWS: ok(1*ms, 30*ms),
				sample.Create:      ran(31*ms, 7*time.Second, 3, sample.ClassHTTP5xx),
			},
			End: 7031 * ms, Outcome: sample.OutcomeFailed, Failed: sample.Create, Class: sample.ClassHTTP5xx,
		},
		steps:        []sample.Step{sample.ConsumerJWS},
		requests:     [sample.NumSteps]int64{sample.ConsumerJWS: 1, sample.Create: 3},
		stepFailures: []failedStep{{sample.Create, sample.ClassHTTP5xx}},
		failure:      &failedStep{sample.Create, sample.ClassHTTP5xx},
		journey:      true,
	},
	{
		name: "send timeout, then close failed",
		j: sample.Record{
			Steps: [sample.NumSteps]sample.Span{
				sample.ConsumerJWS: ok(1*ms, 30*ms),
				sample.Create:      ok(31*ms, 100*ms),
				sample.Send:        ran(131*ms, 4*time.Second, 2, sample.ClassTimeout),
				sample.Close:       ran(4131*ms, 20*ms, 1, sample.ClassNetwork),
			},
			End: 4151 * ms, Outcome: sample.OutcomeFailed, Failed: sample.Send, Class: sample.ClassTimeout,
		},
		steps:        []sample.Step{sample.ConsumerJWS, sample.Create},
		requests:     [sample.NumSteps]int64{sample.ConsumerJWS: 1, sample.Create: 1, sample.Send: 2, sample.Close: 1},
		stepFailures: []failedStep{{sample.Send, sample.ClassTimeout}, {sample.Close, sample.ClassNetwork}},
		failure:      &failedStep{sample.Send, sample.ClassTimeout},
		journey:      true,
	},
	{
		name: "consumerjws 401",
		j: sample.Record{
			Steps: [sample.NumSteps]sample.Span{
				sample.Lookup:      ok(1*ms, 20*ms),
				sample.ConsumerJWS: {Begin: 21 * ms, End: 51 * ms, Status: 401, Code: 1003, Class: sample.ClassAuth, Attempts: 1, Ran: true},
			},
			End: 51 * ms, Outcome: sample.OutcomeFailed, Failed: sample.ConsumerJWS, Class: sample.ClassAuth,
		},
		steps:        []sample.Step{sample.Lookup},
		requests:     [sample.NumSteps]int64{sample.Lookup: 1, sample.ConsumerJWS: 1},
		stepFailures: []failedStep{{sample.ConsumerJWS, sample.ClassAuth}},
		failure:      &failedStep{sample.ConsumerJWS, sample.ClassAuth},
		journey:      true,
	},
	{
		name: "interrupted during send",
		j: sample.Record{
			Steps: [sample.NumSteps]sample.Span{
				sample.ConsumerJWS: ok(1*ms, 30*ms),
				sample.Create:      ok(31*ms, 100*ms),
				sample.Send:        ran(131*ms, 9*time.Minute, 1, sample.ClassCanceled),
			},
			End: 9 * time.Minute, Outcome: sample.OutcomeInterrupted, Failed: sample.Send, Class: sample.ClassCanceled,
		},
		steps:        []sample.Step{sample.ConsumerJWS, sample.Create},
		requests:     [sample.NumSteps]int64{sample.ConsumerJWS: 1, sample.Create: 1, sample.Send: 1},
		stepFailures: []failedStep{{sample.Send, sample.ClassCanceled}},
		failure:      &failedStep{sample.Send, sample.ClassCanceled},
	},
	{
		name: "interrupted waiting for the auto message",
		j: sample.Record{
			Steps: [sample.NumSteps]sample.Span{
				sample.ConsumerJWS: ok(1*ms, 30*ms),
				sample.Create:      ok(31*ms, 100*ms),
				sample.Send:        ok(131*ms, 50*ms),
				sample.AutoMsg:     ran(131*ms, 8*time.Minute, 0, sample.ClassCanceled),
			},
			End: 8 * time.Minute, Outcome: sample.OutcomeInterrupted, Failed: sample.AutoMsg, Class: sample.ClassCanceled,
			Verdict: sample.VerdictIn,
		},
		steps:        []sample.Step{sample.ConsumerJWS, sample.Create, sample.Send},
		requests:     [sample.NumSteps]int64{sample.ConsumerJWS: 1, sample.Create: 1, sample.Send: 1},
		stepFailures: []failedStep{{sample.AutoMsg, sample.ClassCanceled}},
		failure:      &failedStep{sample.AutoMsg, sample.ClassCanceled},
		gap:          true,
	},
}

// journeyAt returns record i of the fed sequence: kind i % len(kinds), target (i / len(kinds)) % 2,
// every time shifted by the intended start and the lag.
func journeyAt(i int) sample.Record {
	j := kinds[i%len(kinds)].j
	j.Index = int64(i)
	j.Target = uint16(i / len(kinds) % 2)
	j.Intended = time.Duration(i) * ms
	lag := time.Duration(i%10+1) * 100 * time.Microsecond
	j.Start = j.Intended + lag
	j.End += j.Intended
	for s := range j.Steps {
		if j.Steps[s].Ran {
			j.Steps[s].Begin += j.Intended
			j.Steps[s].End += j.Intended
		}
	}
	j.ConversationID = fmt.Sprintf("conv-%d", i)
	return j
}

// expected are the metrics a set of journeys must produce, accumulated from the hand-written
// contributions of their kinds.
type expected struct {
	outcomes          [sample.NumOutcomes]int64
	verdicts          [sample.NumVerdicts]int64
	failures          [sample.NumSteps][sample.NumClasses]int64
	stepFailures      [sample.NumSteps][sample.NumClasses]int64
	requests          [sample.NumSteps]int64
	steps             [sample.NumSteps]int64
	lag, journey, gap int64
}

func (e *expected) add(k *journeyKind, n int64) {
	e.outcomes[k.j.Outcome] += n
	e.verdicts[k.j.Verdict] += n
	if k.failure != nil {
		e.failures[k.failure.step][k.failure.class] += n
	}
	for _, f := range k.stepFailures {
		e.stepFailures[f.step][f.class] += n
	}
	for s, r := range k.requests {
		e.requests[s] += r * n
	}
	for _, s := range k.steps {
		e.steps[s] += n
	}
	e.lag += n
	if k.journey {
		e.journey += n
	}
	if k.gap {
		e.gap += n
	}
}

func checkMetrics(t *testing.T, name string, m *Metrics, e *expected) {
	t.Helper()
	if got, want := m.Outcomes, e.outcomes; got != want {
		t.Errorf("%s: Outcomes = %v, want %v", name, got, want)
	}
	if got, want := m.Verdicts, e.verdicts; got != want {
		t.Errorf("%s: Verdicts = %v, want %v", name, got, want)
	}
	if got, want := m.Failures, e.failures; got != want {
		t.Errorf("%s: Failures = %v, want %v", name, got, want)
	}
	if got, want := m.StepFailures, e.stepFailures; got != want {
		t.Errorf("%s: StepFailures = %v, want %v", name, got, want)
	}
	if got, want := m.Requests, e.requests; got != want {
		t.Errorf("%s: Requests = %v, want %v", name, got, want)
	}
	for s := range sample.NumSteps {
		if got, want := m.Steps[s].TotalCount(), e.steps[s]; got != want {
			t.Errorf("%s: step.%s count = %d, want %d", name, s, got, want)
		}
	}
	counts := []struct {
		name string
		h    *hdrhistogram.Histogram
		want int64
	}{
		{"lag", m.Lag, e.lag},
		{"journey", m.Journey, e.journey},
		{"gap", m.Gap, e.gap},
		{"gap_min", m.GapMin, e.gap},
	}
	for _, c := range counts {
		if got, want := c.h.TotalCount(), c.want; got != want {
			t.Errorf("%s: %s count = %d, want %d", name, c.name, got, want)
		}
	}
	var started int64
	for _, n := range e.outcomes {
		started += n
	}
	if got, want := m.Started(), started; got != want {
		t.Errorf("%s: Started() = %d, want %d", name, got, want)
	}
}

// equiv reports whether h holds d at its resolution.
func equiv(h *hdrhistogram.Histogram, got int64, want time.Duration) bool {
	return h.ValuesAreEquivalent(got, int64(want))
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	const (
		workers   = 8
		perWorker = 250
		total     = workers * perWorker // a multiple of 2·len(kinds): every kind on every target
	)
	seen := make([]int, total)
	var badIDs int
	rec := NewRecorder(RecorderOptions{Targets: []string{"a", "b"}, Buffer: 16, Observe: func(j *sample.Record) {
		seen[j.Index]++ // the recorder's goroutine only
		if j.ConversationID != fmt.Sprintf("conv-%d", j.Index) {
			badIDs++
		}
	}})

	// Live is read throughout, from another goroutine, and never goes down.
	liveDone := make(chan struct{})
	liveErr := make(chan error, 1)
	go func() {
		var prev Live
		for {
			l := rec.Live()
			if l.OK < prev.OK || l.Failed < prev.Failed || l.Interrupted < prev.Interrupted {
				liveErr <- fmt.Errorf("Live went down: %+v after %+v", l, prev)
				return
			}
			prev = l
			select {
			case <-liveDone:
				liveErr <- nil
				return
			default:
			}
		}
	}()

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * perWorker; i < (w+1)*perWorker; i++ {
				j := journeyAt(i)
				rec.Record(&j)
			}
		}()
	}
	wg.Wait()
	targets, overall := rec.Close()
	close(liveDone)
	if err := <-liveErr; err != nil {
		t.Error(err)
	}

	if got, want := len(targets), 2; got != want {
		t.Fatalf("Close returned %d targets, want %d", got, want)
	}
	var perTarget, all expected
	for i := range kinds {
		perTarget.add(&kinds[i], int64(total/len(kinds)/2))
		all.add(&kinds[i], int64(total/len(kinds)))
	}
	checkMetrics(t, "target 0", targets[0], &perTarget)
	checkMetrics(t, "target 1", targets[1], &perTarget)
	checkMetrics(t, "overall", overall, &all)

	// Values, not only counts.
	if got, want := overall.Lag.Min(), 100*time.Microsecond; !equiv(overall.Lag, got, want) {
		t.Errorf("lag min = %v, want %v", time.Duration(got), want)
	}
	if got, want := overall.Lag.Max(), time.Millisecond; !equiv(overall.Lag, got, want) {
		t.Errorf("lag max = %v, want %v", time.Duration(got), want)
	}
	// Failed steps stay out of the step histograms: create's 7 s failure is not its max.
	if got, want := overall.Steps[sample.Create].Max(), 3*time.Second; !equiv(overall.Steps[sample.Create], got, want) {
		t.Errorf("step.create max = %v, want %v", time.Duration(got), want)
	}
	// Interrupted journeys stay out of the journey histogram: the longest ended one is 11.04 s.
	if got, want := overall.Journey.Max(), 11040*ms; !equiv(overall.Journey, got, want) {
		t.Errorf("journey max = %v, want %v", time.Duration(got), want)
	}
	// gap = send end − create begin; gap_min = send begin − create end.
	gaps := []struct {
		name string
		got  int64
		h    *hdrhistogram.Histogram
		want time.Duration
	}{
		// "interrupted waiting for the auto message": 181 − 31 ms.
		{"gap min", overall.Gap.Min(), overall.Gap, 150 * ms},
		// "ok, uncertain verdict": 11000 − 31 ms.
		{"gap max", overall.Gap.Max(), overall.Gap, 10969 * ms},
		// "ok, in window": 151 − 151 ms.
		{"gap_min min", overall.GapMin.Min(), overall.GapMin, 0},
		// "window missed": 10500 − 131 ms.
		{"gap_min max", overall.GapMin.Max(), overall.GapMin, 10369 * ms},
	}
	for _, g := range gaps {
		if !equiv(g.h, g.got, g.want) {
			t.Errorf("%s = %v, want %v", g.name, time.Duration(g.got), g.want)
		}
	}

	o, v := all.outcomes, all.verdicts
	wantLive := Live{OK: o[sample.OutcomeOK], Failed: o[sample.OutcomeFailed], Interrupted: o[sample.OutcomeInterrupted],
		Missed: v[sample.VerdictMissed], Uncertain: v[sample.VerdictUncertain]}
	if got, want := rec.Live(), wantLive; got != want {
		t.Errorf("Live() = %+v, want %+v", got, want)
	}

	for i, n := range seen {
		if n != 1 {
			t.Fatalf("Observe saw record %d %d times, want 1", i, n)
		}
	}
	if got, want := badIDs, 0; got != want {
		t.Errorf("Observe saw %d records with a wrong ConversationID, want %d", got, want)
	}
}

func TestRecorderDefaults(t *testing.T) {
	t.Parallel()
	// No options: one target, the default buffer.
	rec := NewRecorder(RecorderOptions{})
	for i := range 10000 { // more than the default buffer: Record must not deadlock
		j := journeyAt(i * 2 * len(kinds)) // kind 0, target 0
		rec.Record(&j)
	}
	targets, overall := rec.Close()
	if got, want := len(targets), 1; got != want {
		t.Fatalf("%d targets, want %d", got, want)
	}
	if got, want := targets[0].Outcomes[sample.OutcomeOK], int64(10000); got != want {
		t.Errorf("target 0 OK = %d, want %d", got, want)
	}
	if got, want := overall.Outcomes[sample.OutcomeOK], int64(10000); got != want {
		t.Errorf("overall OK = %d, want %d", got, want)
	}
}

func TestRecorderStepP50(t *testing.T) {
	t.Parallel()
	rec := NewRecorder(RecorderOptions{Targets: []string{"a"}})
	for i := range 10000 {
		j := sample.Record{Index: int64(i), Outcome: sample.OutcomeOK}
		j.Steps[sample.Create] = ok(time.Duration(i)*ms, 50*ms)
		j.End = j.Steps[sample.Create].End
		rec.Record(&j)
	}
	_, overall := rec.Close()
	h := overall.Steps[sample.Create]
	if got, want := h.TotalCount(), int64(10000); got != want {
		t.Fatalf("count = %d, want %d", got, want)
	}
	for _, p := range []float64{50, 99.9, 100} {
		got := hdr.Percentile(h, p)
		if rel := math.Abs(float64(got-50*ms)) / float64(50*ms); rel > 0.001 {
			t.Errorf("p%g = %v, want 50ms ± 0.1%% (off by %.4f%%)", p, got, 100*rel)
		}
	}
}

// BenchmarkRecorder measures records through Record and the recorder's goroutine, Close included.
func BenchmarkRecorder(b *testing.B) {
	recs := make([]sample.Record, 64)
	for i := range recs {
		recs[i] = journeyAt(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	rec := NewRecorder(RecorderOptions{Targets: []string{"a", "b"}})
	for i := 0; i < b.N; i++ {
		rec.Record(&recs[i%len(recs)])
	}
	rec.Close()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRecorderParallel records from GOMAXPROCS goroutines at once.
func BenchmarkRecorderParallel(b *testing.B) {
	recs := make([]sample.Record, 64)
	for i := range recs {
		recs[i] = journeyAt(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	rec := NewRecorder(RecorderOptions{Targets: []string{"a", "b"}})
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			rec.Record(&recs[i%len(recs)])
			i++
		}
	})
	rec.Close()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
