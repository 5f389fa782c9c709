package engine

import (
	"context"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// schedule builds one runner for the targets that share the profile's load (its lanes, dealt
// by weight) and one per target with a load of its own, ties each target to its lane, and sets
// its journey's epoch. The runners get their work from feed.
func schedule(p profiles.Profile, o Options, targets []*targetRun, epoch time.Time) loadgen.Group {
	var group loadgen.Group
	add := func(l profiles.Load, lanes []*targetRun) {
		r := &loadgen.Runner{
			Plan:        l.Plan(o.Shard, o.Shards),
			MaxInFlight: inFlightBound(l.MaxInFlight, lp.MaxJourneys()),
			Queue:       l.WhenFull == profiles.WhenFullQueue,
			MaxLag:      l.MaxLag,
			Epoch:       epoch,
			Lanes:       len(lanes),
		}
		var weights []int
		for i, tr := range lanes {
			tr.runner, tr.lane, tr.journey.Epoch, tr.askedInFlight = r, i, epoch, l.MaxInFlight
			weights = append(weights, tr.prof.Weight)
		}
		r.Lane = loadgen.Weighted(weights)
		group = append(group, r)
	}
	var shared []*targetRun
	for _, tr := range targets {
		if tr.prof.Load == nil {
			shared = append(shared, tr)
		}
	}
	if len(shared) > 0 {
		add(p.Load, shared)
	}
	for _, tr := range targets {
		if tr.prof.Load != nil {
			add(*tr.prof.Load, []*targetRun{tr})
		}
	}
	return group
}

// inFlightBound is the runners' bound on journeys in flight: the load's max_in_flight, but no
// more than the process can give a connection each (capacity, 0: no limit; lp.MaxJourneys).
// Beyond it a journey would wait inside the generator for a connection, within its measured
// steps, holding memory: the arrival is dropped and counted instead, on time.
func inFlightBound(maxInFlight, capacity int) int {
	if capacity > 0 && maxInFlight > capacity {
		return capacity
	}
	return maxInFlight
}

// askedIfCut returns maxInFlight when inFlightBound cuts it, else 0.
func askedIfCut(maxInFlight int) int {
	if inFlightBound(maxInFlight, lp.MaxJourneys()) < maxInFlight {
		return maxInFlight
	}
	return 0
}

// feed sets every runner's task: run the journey of the arrival's target and record it. A
// journey the drain cut did not serve its consumer in time: it is recorded failed (timeout at
// the step it was in), not interrupted, so the consumers it stands for are not left out of the
// verdict.
func feed(group loadgen.Group, targets []*targetRun, rec *report.Recorder, dr *drain) {
	for _, r := range group {
		var lanes []*targetRun // in lane order, as schedule dealt them
		for _, tr := range targets {
			if tr.runner == r {
				lanes = append(lanes, tr)
			}
		}
		r.OnDrop = func(a loadgen.Arrival) { rec.Drop(int(lanes[a.Lane].journey.Target), a.Intended) }
		r.Task = func(ctx context.Context, a loadgen.Arrival) {
			j := sample.Record{Index: a.Index, Intended: a.Intended}
			lanes[a.Lane].journey.Run(ctx, &j)
			if j.Outcome == sample.OutcomeInterrupted && dr.fired.Load() > 0 {
				j.Outcome, j.Class = sample.OutcomeFailed, sample.ClassTimeout
			}
			rec.Record(&j)
		}
	}
}

// newRecorder returns the run's recorder: the series' target rate and in-flight counts come from
// the schedules, and its periodic tick checks the abort_on_fail thresholds.
func newRecorder(p profiles.Profile, targets []*targetRun, epoch time.Time, o Options, c *control) *report.Recorder {
	names := make([]string, len(targets))
	for i, tr := range targets {
		names[i] = tr.prof.Name
	}
	return report.NewRecorder(report.RecorderOptions{
		Targets:    names,
		Epoch:      epoch,
		Window:     p.Window,
		Observe:    o.Observe,
		Tick:       abortCheck(p, epoch, c.abort),
		Hlog:       o.Hlog,
		TargetRate: targetRate(p, targets, o.Shards),
		InFlight: func(target int) int64 {
			var n int64
			for i, tr := range targets {
				if target < 0 || target == i {
					n += tr.runner.LaneCounts(tr.lane).InFlight
				}
			}
			return n
		},
	})
}

// targetRate returns the series' target function: the arrivals the schedules ask of a target (or
// of all, for -1) between two offsets from the run's start — for a whole second, its rate. (The
// first second of a run is partial: its target is what falls inside it, as are its arrivals.)
func targetRate(p profiles.Profile, targets []*targetRun, shards int) func(target int, from, to time.Duration) float64 {
	// A shard sends every shards-th arrival: its target is that share of the plan's, so that the
	// merged series add up to the whole plan.
	part := 1 / float64(max(shards, 1))
	shared := p.Load.Plan(0, 1)
	own := make([]loadgen.Plan, len(targets))
	for i, tr := range targets {
		if tr.prof.Load != nil {
			own[i] = tr.prof.Load.Plan(0, 1)
		}
	}
	return func(target int, from, to time.Duration) float64 {
		if to <= from {
			return 0
		}
		var n float64
		for i, tr := range targets {
			if target >= 0 && target != i {
				continue
			}
			if tr.prof.Load != nil {
				n += own[i].Between(from, to)
			} else {
				n += tr.share * shared.Between(from, to)
			}
		}
		return n * part
	}
}

// Thresholds returns the profile's thresholds with their scopes, ready to evaluate.
func Thresholds(p profiles.Profile) []report.ScopedThreshold {
	out := make([]report.ScopedThreshold, len(p.Thresholds))
	for i, th := range p.Thresholds {
		out[i] = report.ScopedThreshold{Threshold: th.Parsed, Target: th.Target}
	}
	return out
}

// abortCheck returns the recorder's periodic check of the abort_on_fail thresholds. A threshold
// aborts the run (abort is called once) when it fails and can no longer pass however the run
// goes on, or when it fails after its abort_delay.
func abortCheck(p profiles.Profile, epoch time.Time, abort func()) func(byTarget map[string]*report.Metrics, overall *report.Metrics) {
	var ths []profiles.Threshold
	for _, th := range p.Thresholds {
		if th.AbortOnFail {
			ths = append(ths, th)
		}
	}
	if len(ths) == 0 {
		return nil
	}
	var done bool
	return func(byTarget map[string]*report.Metrics, overall *report.Metrics) {
		if done {
			return
		}
		for _, th := range ths {
			r := report.ScopedThreshold{Threshold: th.Parsed, Target: th.Target}.Eval(overall, byTarget)
			if r.Final() || (!r.Pass && !r.NoData && time.Since(epoch) >= th.AbortDelay) {
				done = true
				abort()
				return
			}
		}
	}
}

// watchTargets checks every target's client until done, and reports the first that is unusable.
func watchTargets(targets []*targetRun, done <-chan struct{}, fail func(error)) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			for _, tr := range targets {
				if err := tr.client.Unusable(); err != nil {
					fail(err)
					return
				}
			}
		}
	}
}
