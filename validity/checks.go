// Package validity judges a run's own measurement: whether the generator that took the figures
// was late (generator_lag), delivered its planned load (load_delivered), dispatched arrivals that
// fit the planned process (arrivals: a Kolmogorov–Smirnov test against Gamma(N, 1) for Poisson
// arrivals, the spacing error for uniform ones), had CPU to spare (generator_cpu, sampled from
// the process's rusage and the cgroup quota), held latency steady through each constant-rate
// stage (stationary: Theil–Sen slopes), rested its thresholded percentiles on enough samples
// (percentile_support), and lost no webhook delivery itself (webhook_receiver, webhook_relay).
// JudgeMerged applies the checks of the sum to shards merged after the fact.
//
// Each check is a function of what was measured: validity owns the statistics and the checks'
// wording, and knows nothing of how a run is driven (it does not import engine, which feeds it
// through FitDispatch, StartCPU and Checks) nor of how a check is rendered (package report).
package validity

import (
	"fmt"
	"math"
	"time"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
)

// Rules of the checks that the profile does not configure.
const (
	// lagRunSeconds: the lag p99 may exceed its limit in fewer seconds in a row than this (a GC
	// pause, a hiccup of the machine); a longer run is a generator that fell behind.
	lagRunSeconds = 3
	// dispatchResolution is how late a wake-up of the dispatcher may be from the timer alone
	// (measured here: spacing error p99 0.76 ms at 20/s, idle machine). A gap between two
	// arrivals is off by up to twice that.
	dispatchResolution = time.Millisecond
	// stationaryWarmUp seconds of a stage are not judged (connections, caches), and a stage is
	// judged when at least stationaryMinSeconds whole seconds remain.
	stationaryWarmUp     = 2
	stationaryMinSeconds = 10
	// A trend over a stage is a growing queue when it adds more than stationaryRelative of the
	// stage's median and more than stationaryFloor.
	stationaryRelative = 0.5
	stationaryFloor    = 20 * time.Millisecond
	// supportAbove is how many values must lie above a thresholded percentile for it to be more
	// than one or two samples.
	supportAbove = report.SupportAbove
)

// Run is what the checks are computed from.
type Run struct {
	Result  *report.Result
	Limits  profiles.CheckLimits
	Runners []Runner
	CPU     CPUUse
	// SimInProcess: the embedded simulator ran in this process (its CPU counts as the
	// generator's).
	SimInProcess bool
}

// Runner is one schedule of the run: its plan, final counts, the fit of its dispatch times,
// and the targets it fed.
type Runner struct {
	Name    string // the targets it fed, for messages; "" when it is the run's only schedule
	Plan    loadgen.Plan
	Counts  loadgen.Counts
	Fit     *Fit
	Targets []int // indexes into Result.Targets
	// MaxInFlight is the runner's bound on journeys in flight, and Asked the profile's, when the
	// process's descriptor limit cut it.
	MaxInFlight, Asked int
}

// Checks computes every check of a run, marks those the profile relaxes, and returns them.
func Checks(in Run) []report.Check {
	cs := []report.Check{lagCheck(in.Result.Overall, in.Limits.LagP99)}
	for _, rf := range in.Runners {
		cs = append(cs, deliveredCheck(rf, in.Limits))
	}
	cs = append(cs, cpuCheck(in.CPU, float64(in.Limits.CPU), in.SimInProcess))
	for _, rf := range in.Runners {
		for _, ti := range rf.Targets {
			name := in.Result.Targets[ti].Name
			cs = append(cs, stationaryCheck(in.Result.PerTarget[ti].Series, rf.Plan, in.Result.Start, name))
		}
	}
	cs = append(cs, supportCheck(in.Result))
	for _, rf := range in.Runners {
		cs = append(cs, arrivalsCheck(rf, in.Limits.LagP99))
	}
	cs = append(cs, receiverChecks(in.Result)...)
	cs = append(cs, relayChecks(in.Result)...)
	for i := range cs {
		cs[i].Relaxed = in.Limits.Relaxed(cs[i].Name)
	}
	return cs
}

// lagCheck: the arrivals' start lag p99 within limit, and no lagRunSeconds seconds in a row whose
// lag p99 exceeds it. (Per-second lag p99 is of the journeys that ended in the second.)
func lagCheck(m *report.Metrics, limit time.Duration) report.Check {
	c := report.Check{Name: "generator_lag", OK: true, LimitValue: limit.Seconds(),
		Limit: fmt.Sprintf("p99 ≤ %s, above it under %d s in a row", fmtMS(limit), lagRunSeconds)}
	if m.Lag.TotalCount() == 0 {
		c.Measured, c.Message = "no journey started", "nothing to judge"
		return c
	}
	// With fewer than supportAbove/1 % arrivals, the p99 is the few latest of them (one GC pause):
	// the run, and each second, is then judged by its supportAbove-th latest arrival.
	pct := report.SupportedPercentile(99, m.Lag.TotalCount())
	p99 := hdr.Percentile(m.Lag, pct)
	run, longest := 0, 0
	for _, pt := range m.Series {
		if secondLag(pt) > limit {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	c.Value = p99.Seconds()
	c.Measured = fmt.Sprintf("lag p%s %s, %d s in a row above %s", report.TrimDecimals(pct, 2), fmtMS(p99), longest, fmtMS(limit))
	c.OK = p99 <= limit && longest < lagRunSeconds
	if c.OK {
		c.Message = "the generator started its arrivals on time"
	} else {
		c.Message = "the generator, not the target, was late starting arrivals: lower max_in_flight or the rate, shard the load (--shard) over more machines, or use a bigger machine"
	}
	return c
}

// secondLag returns the second's lag p99, or its supportAbove-th largest lag when it has fewer
// than 1,000 journeys.
func secondLag(pt report.Point) time.Duration {
	h, err := pt.LagHistogram()
	if err != nil || h == nil {
		return pt.LagP99
	}
	return hdr.Percentile(h, report.SupportedPercentile(99, h.TotalCount()))
}

// deliveredCheck: dropped / planned within the limit, and in every whole second of the schedule
// (after the first) the arrivals started within rate_error (at least 2 arrivals) of those the
// plan intended for that second. The comparison is with the plan's own arrivals, not with its
// rate: Poisson arrivals vary by √rate from second to second by design, which is not the
// generator's fault; for uniform arrivals the two differ by less than one.
func deliveredCheck(rf Runner, l profiles.CheckLimits) report.Check {
	c := report.Check{Name: "load_delivered", Target: rf.Name, OK: true, LimitValue: float64(l.Dropped),
		Limit: fmt.Sprintf("dropped ≤ %s, each second within %s of the plan", l.Dropped, l.RateError)}
	if rf.Counts.Planned == 0 {
		c.Measured, c.Message = "no arrival planned", "nothing to judge"
		return c
	}
	share := float64(rf.Counts.Dropped) / float64(rf.Counts.Planned)
	bad, worst, worstSec, judged := offSeconds(rf, float64(l.RateError))
	c.Value = share
	c.Measured = fmt.Sprintf("dropped %s (%d of %d), %d of %d s off the plan", fmtShare(share), rf.Counts.Dropped, rf.Counts.Planned, bad, judged)
	if bad > 0 {
		c.Measured += fmt.Sprintf(" (worst: second %d, %d started of %d intended)", worstSec, worst[0], worst[1])
	}
	dropsOK := share <= float64(l.Dropped)
	c.OK = dropsOK && bad == 0
	switch {
	case c.OK:
		c.Message = "the generator delivered the planned load"
	case rf.Counts.Late > rf.Counts.Dropped-rf.Counts.Late:
		c.Message = fmt.Sprintf("the generator fell behind its schedule (max_lag) and dropped %d arrivals it could not start on time: it is short of CPU or stalled (see generator_cpu and generator_lag), not the target; lower the rate or shard the load (--shard)", rf.Counts.Late)
	case rf.Counts.Dropped > 0:
		c.Message = fmt.Sprintf("the pool was full (max_in_flight %d reached%s): arrivals were dropped, the target saw less load than planned; raise max_in_flight (--max-in-flight) if the machine has room, or lower the rate", rf.MaxInFlight, cutNote(rf))
	default:
		c.Message = "the generator could not keep the planned rate (short of CPU, or stalled: see generator_cpu and generator_lag); lower the rate or shard the load"
	}
	return c
}

// cutNote says when the process's descriptor limit cut the profile's max_in_flight.
func cutNote(rf Runner) string {
	if rf.Asked > rf.MaxInFlight {
		return fmt.Sprintf(", cut from %d to what the process's file descriptor limit allows a connection each: raise ulimit -n", rf.Asked)
	}
	return ""
}

// offSeconds counts the whole seconds of rf's schedule (after the first, and before the
// dispatcher stopped) whose started arrivals are off the intended ones by more than
// max(rateError of them, 2); worst is the worst second's started and intended counts.
func offSeconds(rf Runner, rateError float64) (bad int, worst [2]int64, worstSec, judged int) {
	f := rf.Fit
	end := min(int(rf.Plan.Duration()/time.Second), len(f.dispatched), len(f.intended)) // seconds [s, s+1) inside the plan
	if rf.Counts.NotStarted > 0 {
		end = min(end, int(f.lastAt/time.Second)) // the dispatcher stopped in this second
	}
	worstOff := 0.0
	for s := 1; s < end; s++ {
		judged++
		started, intended := f.dispatched[s]-f.dropped[s], f.intended[s]
		off := math.Abs(float64(started - intended))
		if off > max(rateError*float64(intended), 2) {
			bad++
			if off > worstOff {
				worstOff, worst, worstSec = off, [2]int64{started, intended}, s
			}
		}
	}
	return bad, worst, worstSec, judged
}

// cpuCheck: the process's CPU time over the wall time of the dispatch, per usable core, within
// limit over the whole run and over its busiest cpuWindow (a saturated spell is not averaged away
// by the quiet drain after it). Above it the generator queues for CPU itself, and its timings include that queueing.
func cpuCheck(u CPUUse, limit float64, simInProcess bool) report.Check {
	whole, peak := u.Share(), u.BusiestShare()
	worst := max(whole, peak)
	c := report.Check{Name: "generator_cpu", Value: worst, LimitValue: limit, OK: worst <= limit,
		Measured: fmt.Sprintf("CPU %s of %s cores (%.1f s in %.1f s), busiest %s %s", fmtShare(whole), report.TrimDecimals(u.Cores, 2),
			u.CPU.Seconds(), u.Wall.Seconds(), u.BusiestWall, fmtShare(peak)),
		Limit: "≤ " + fmtShare(limit) + " over the run and its busiest " + cpuWindow.String()}
	if c.OK {
		c.Message = "the generator had CPU to spare"
	} else {
		c.Message = "the generator's process was short of CPU, so its timings include its own queueing: lower the rate, shard the load (--shard) over more machines, or use a bigger machine"
	}
	if simInProcess {
		c.Message += "; the embedded simulator runs in this process and its CPU is counted (it is this machine's, not LivePerson's: run lpbench sim elsewhere and use --sim-url)"
	}
	return c
}

// fmtMS formats a duration to a tenth of a millisecond below 10 ms, whole milliseconds above.
func fmtMS(d time.Duration) string {
	if d < 10*time.Millisecond {
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// fmtShare formats a fraction as a percentage: "0.5%", "94%".
func fmtShare(f float64) string {
	if f < 0.1 {
		return report.TrimDecimals(math.Round(f*1000)/10, 2) + "%"
	}
	return report.TrimDecimals(math.Round(f*100), 2) + "%"
}

// receiverChecks: for each target whose auto messages are verified, the webhook receiver's
// queue never overflowed — a delivery it drops there (answered, never matched) leaves its
// consumer no_auto_message because of lpbench, not the target. With a relay every shard
// receives every shard's deliveries of the target, N times the traffic of its own consumers.
func receiverChecks(res *report.Result) []report.Check {
	var cs []report.Check
	for _, t := range res.Targets {
		w := t.Webhooks
		if w == nil {
			continue
		}
		c := report.Check{Name: "webhook_receiver", Target: t.Name, OK: w.Overflow == 0, Value: float64(w.Overflow),
			Measured: fmt.Sprintf("overflow %d of %d received", w.Overflow, w.Received), Limit: "none dropped"}
		if c.OK {
			c.Message = "the receiver matched every delivery it received"
		} else {
			c.Message = "the receiver's queue was full and it dropped deliveries unmatched (short of CPU, or too much traffic: with a relay each shard receives every shard's deliveries): consumers may show as no_auto_message because of the measurement; give the shards CPU or use fewer of them per target"
		}
		cs = append(cs, c)
	}
	return cs
}

// relayChecks: with a webhook relay, every delivery the relay received for a target reached
// this shard — none dropped by the relay (the shard read too slowly), none missed while its
// subscription was lost or left at the relay when the run stopped — and the shard could tell
// (the relay did not restart during the run, its final count was read). Otherwise consumers may
// show as no_auto_message because of lpbench's own relay, not the target. One check per
// verified target; none without a relay.
func relayChecks(res *report.Result) []report.Check {
	if res.Relay == "" {
		return nil
	}
	var cs []report.Check
	for _, t := range res.Targets {
		w := t.Webhooks
		if w == nil {
			continue
		}
		lost := w.RelayDropped + w.RelayMissed
		c := report.Check{Name: "webhook_relay", Target: t.Name, OK: lost == 0 && w.RelayUncertain == 0, Value: float64(lost),
			Measured: fmt.Sprintf("lost %d (dropped %d, missed %d) of %d relayed", lost, w.RelayDropped, w.RelayMissed, w.Relayed+lost), Limit: "none lost"}
		if w.RelayUncertain > 0 {
			c.Measured += fmt.Sprintf(", losses not known %d time(s)", w.RelayUncertain)
		}
		switch {
		case c.OK:
			c.Message = "every delivery the relay received reached this shard"
		case lost == 0:
			c.Message = "the relay restarted during the run, or its final count could not be read at the end: what it lost is not known (deliveries sent while no relay ran reached no one); consumers may show as no_auto_message because of the measurement"
		case w.RelayDropped > 0:
			c.Message = "the relay dropped deliveries for this shard, which read too slowly (give it CPU, or the relay a larger -queue): consumers may show as no_auto_message because of the measurement"
		default:
			c.Message = "the subscription to the relay was lost for a while: consumers may show as no_auto_message because of the measurement"
		}
		cs = append(cs, c)
	}
	return cs
}
