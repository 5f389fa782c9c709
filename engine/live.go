package engine

import (
	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/sample"
)

// Live follows a run as it goes, e.g. to serve its metrics to Prometheus (package metrics). A
// capacity search calls it for each of its steps, one run after the other.
type Live interface {
	// Start is called once per run, before its first arrival, with the names of its targets
	// (records carry an index into them) and a function that reads a target's arrival counts so
	// far, safe to call from any goroutine until End returns.
	Start(targets []string, arrivals func(target int) loadgen.Counts)
	// Observe sees every journey record on the recorder's goroutine, after it is counted; it
	// must not keep the pointer.
	Observe(j *sample.Record)
	// End is called once the run is over: every record was observed and the arrival counts are
	// final.
	End()
}

// startLive starts o.Live, when set, on the run's targets, and returns the recorder's Observe:
// o.Observe's and o.Live's.
func startLive(o Options, targets []*targetRun) func(*sample.Record) {
	if o.Live == nil {
		return o.Observe
	}
	names := make([]string, len(targets))
	for i, tr := range targets {
		names[i] = tr.prof.Name
	}
	o.Live.Start(names, func(target int) loadgen.Counts {
		tr := targets[target]
		return tr.runner.LaneCounts(tr.lane)
	})
	if o.Observe == nil {
		return o.Live.Observe
	}
	observe, live := o.Observe, o.Live
	return func(j *sample.Record) {
		observe(j)
		live.Observe(j)
	}
}

// endLive tells o.Live, when set, that the run is over.
func endLive(o Options) {
	if o.Live != nil {
		o.Live.End()
	}
}
