package prom

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lpbench/lpbench/loadgen"
)

// arrivals exports the load generator's arrival counts, read when Prometheus scrapes: those of
// the runs over (a capacity search's earlier steps) plus the running run's so far.
type arrivals struct {
	mu    sync.Mutex
	read  func(target int) loadgen.Counts // the running run's; nil between runs
	names []string                        // the running run's targets, by index
	done  map[string]loadgen.Counts       // the runs over, by target
	order []string                        // every target seen, in order

	planned, started, dropped, notStarted, inFlight *prometheus.Desc
}

func newArrivals() *arrivals {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, []string{"target"}, nil)
	}
	return &arrivals{
		done:       map[string]loadgen.Counts{},
		planned:    desc("arrivals_planned_total", "Arrivals in the plan: a run's whole plan counts from its start."),
		started:    desc("arrivals_started_total", "Arrivals started as journeys."),
		dropped:    desc("arrivals_dropped_total", "Arrivals dropped at their intended time: every journey slot was busy, or the generator was more than load.max_lag late."),
		notStarted: desc("arrivals_not_started_total", "Arrivals never reached because the run stopped early (counted when it ends)."),
		inFlight:   desc("journeys_in_flight", "Journeys running now."),
	}
}

// start begins a run whose targets' counts read returns (nil: none).
func (a *arrivals) start(names []string, read func(int) loadgen.Counts) {
	if read == nil {
		read = func(int) loadgen.Counts { return loadgen.Counts{} }
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.names, a.read = names, read
	for _, n := range names {
		if _, ok := a.done[n]; !ok {
			a.done[n] = loadgen.Counts{}
			a.order = append(a.order, n)
		}
	}
}

// end keeps the running run's final counts with those of the runs over.
func (a *arrivals) end() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, n := range a.names {
		a.done[n] = add(a.done[n], a.read(i))
	}
	a.names, a.read = nil, nil
}

// add returns the sum of two runs' counts; journeys in flight are the running run's.
func add(done, now loadgen.Counts) loadgen.Counts {
	return loadgen.Counts{Planned: done.Planned + now.Planned, Started: done.Started + now.Started,
		Dropped: done.Dropped + now.Dropped, Late: done.Late + now.Late, NotStarted: done.NotStarted + now.NotStarted,
		InFlight: now.InFlight}
}

// Describe sends the descriptions of the arrival metrics.
func (a *arrivals) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{a.planned, a.started, a.dropped, a.notStarted, a.inFlight} {
		ch <- d
	}
}

// Collect sends every target's arrival counts so far.
func (a *arrivals) Collect(ch chan<- prometheus.Metric) {
	a.mu.Lock()
	now := make(map[string]loadgen.Counts, len(a.order))
	for n, c := range a.done {
		now[n] = loadgen.Counts{Planned: c.Planned, Started: c.Started, Dropped: c.Dropped, NotStarted: c.NotStarted}
	}
	for i, n := range a.names {
		now[n] = add(now[n], a.read(i))
	}
	order := a.order
	a.mu.Unlock()
	for _, n := range order {
		c := now[n]
		for _, m := range []struct {
			d *prometheus.Desc
			t prometheus.ValueType
			v int64
		}{
			{a.planned, prometheus.CounterValue, c.Planned}, {a.started, prometheus.CounterValue, c.Started},
			{a.dropped, prometheus.CounterValue, c.Dropped}, {a.notStarted, prometheus.CounterValue, c.NotStarted},
			{a.inFlight, prometheus.GaugeValue, c.InFlight},
		} {
			ch <- prometheus.MustNewConstMetric(m.d, m.t, float64(m.v), n)
		}
	}
}
