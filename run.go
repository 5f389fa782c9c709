package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// runOptions are the parts of a run that are not in the profile.
type runOptions struct {
	Progress  loadgen.ProgressMode
	Stderr    io.Writer
	LineEvery time.Duration // period of plain progress lines (default 5 s)
	// Sim, when not nil, is the simulator that "sim" targets drive instead of a new embedded one
	// (tests use it to shape latency and read the ledger).
	Sim *lpsim.Server
	// Observe sees every journey record on the recorder's goroutine.
	Observe func(*sample.Journey)
	Getenv  func(string) string // default os.Getenv
	// Shard and Shards select one shard of the arrivals (Shards ≤ 1: all).
	Shard, Shards int
	// Abort is called (once) when an abort_on_fail threshold fails; it should stop the arrivals.
	Abort func()
	// Hlog, when not nil, receives the interval log as the run goes.
	Hlog io.Writer
	// Credentials, by target name, override the environment for simulator targets moved to a
	// standalone simulator (-sim-url).
	Credentials map[string]lpsim.App
	// Fail is called (once) when a target turns out unusable (its credentials or account are
	// refused); it should stop the run. The result then ends "failed" with the reason.
	Fail func(error)
}

// targetRun is one target's client, journey and arrival counters during a run.
type targetRun struct {
	prof    profiles.Target
	kind    string
	client  *lp.Client
	journey *lp.Journey
	planned int64
	started atomic.Int64
	ended   atomic.Int64
	dropped atomic.Int64
	share   float64 // its share of the profile's load (by weight); 0 with a load of its own
}

// execute runs profile p: it starts the embedded simulator when a target needs it, dispatches
// every schedule, records every journey, evaluates the thresholds and returns the result. stop
// ends the arrivals; work cancels the journeys in flight. Per-journey failures are data in the
// result, not errors; an error means the run could not start.
func execute(stop, work context.Context, p profiles.Profile, o runOptions) (*report.Result, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	sim := o.Sim
	if sim == nil && needsSim(p) {
		var err error
		if sim, err = lpsim.NewServer(p.Sim); err != nil {
			return nil, fmt.Errorf("starting the embedded simulator: %w", err)
		}
		defer sim.Close()
	}

	epoch := time.Now()
	run := runID()
	targets := make([]*targetRun, len(p.Targets))
	for i, t := range p.Targets {
		tr, err := newTargetRun(p, t, i, sim, o, epoch, run)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		targets[i] = tr
	}

	assignShares(targets)
	hooks, err := startWebhooks(p, targets, sim)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(targets))
	for i, tr := range targets {
		names[i] = tr.prof.Name
	}
	rec := report.NewRecorder(report.RecorderOptions{
		Targets:    names,
		Epoch:      epoch,
		Window:     p.Window,
		Observe:    o.Observe,
		Tick:       abortCheck(p, epoch, o.Abort),
		Hlog:       o.Hlog,
		TargetRate: targetRate(p, targets),
		InFlight: func(target int) int64 {
			var n int64
			for i, tr := range targets {
				if target < 0 || target == i {
					n += tr.started.Load() - tr.ended.Load()
				}
			}
			return n
		},
	})
	group := schedule(p, o, targets, epoch, rec)

	var prog *loadgen.Progress
	if o.Progress != loadgen.ProgressOff {
		out, _ := o.Stderr.(*os.File)
		if out == nil {
			out = os.Stderr
		}
		prog = loadgen.StartProgress(out, o.Progress, group, func() string {
			l := rec.Live()
			return fmt.Sprintf("ok %d  failed %d  window missed %d", l.OK, l.Failed, l.Missed)
		}, o.LineEvery)
	}
	var failure atomic.Pointer[error]
	watchDone := make(chan struct{})
	go watchTargets(targets, watchDone, func(err error) {
		if failure.CompareAndSwap(nil, &err) && o.Fail != nil {
			o.Fail(err)
		}
	})
	counts := group.Run(stop, work)
	close(watchDone)
	for _, tr := range targets {
		tr.client.CloseIdleConnections()
	}
	if prog != nil {
		prog.Stop(stop.Err() == nil)
	}
	hookStats := hooks.stop(p.Webhooks.Grace)
	perTarget, overall := rec.Close()

	res := &report.Result{
		Profile:     p.Name,
		Start:       epoch,
		Elapsed:     time.Since(epoch),
		End:         report.EndCompleted,
		Window:      p.Window,
		Rate:        peakRate(p),
		Duration:    longest(p),
		MaxInFlight: p.Load.MaxInFlight,
		PerTarget:   perTarget,
		Overall:     overall,
	}
	if stop.Err() != nil {
		res.End = report.EndInterrupted
	}
	if err := failure.Load(); err != nil {
		res.End, res.Reason = report.EndFailed, (*err).Error()
	}
	res.Arrivals = report.Arrivals{Planned: counts.Planned, Started: counts.Started, Dropped: counts.Dropped, NotStarted: counts.NotStarted}
	overall.Arrivals = res.Arrivals
	byName := map[string]*report.Metrics{}
	for i, tr := range targets {
		a := report.Arrivals{Planned: tr.planned, Started: tr.started.Load(), Dropped: tr.dropped.Load()}
		a.NotStarted = a.Planned - a.Started - a.Dropped
		perTarget[i].Arrivals = a
		byName[tr.prof.Name] = perTarget[i]
		res.Targets = append(res.Targets, report.TargetInfo{
			Name: tr.prof.Name, Account: tr.prof.Account, Kind: tr.kind, Region: tr.prof.Region, Insecure: tr.prof.Insecure,
			AppJWTFetches: tr.client.AppJWTFetches(), DomainLookups: tr.client.DomainLookups(),
		})
		if hookStats != nil {
			res.Targets[i].Webhooks = hookStats[i]
		}
	}
	res.Thresholds = report.EvalThresholds(scoped(p), overall, byName)
	return res, nil
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

// needsSim reports whether a target drives the embedded simulator.
func needsSim(p profiles.Profile) bool {
	for _, t := range p.Targets {
		if t.Kind() == profiles.KindSim {
			return true
		}
	}
	return false
}

// newTargetRun builds the client and journey of target t (index i).
func newTargetRun(p profiles.Profile, t profiles.Target, i int, sim *lpsim.Server, o runOptions, epoch time.Time, run string) (*targetRun, error) {
	lt := lp.Target{Name: t.Name, Account: t.Account, MaxRequestRate: t.MaxRequestRate, InsecureSkipVerify: t.Insecure}
	switch kind := t.Kind(); kind {
	case profiles.KindSim:
		acct, ok := simAccount(sim.Config(), t.Account)
		if !ok {
			return nil, fmt.Errorf("the simulator has no account %q", t.Account)
		}
		lt.CSDS, lt.Scheme, lt.ClientID, lt.ClientSecret = sim.URL, "http", acct.ClientID, acct.ClientSecret
	default:
		lt.CSDS, lt.Scheme = t.CSDSURL(), "https"
		if kind == profiles.KindSimURL {
			lt.Scheme = "http"
		}
		lt.ClientID, lt.ClientSecret = o.Getenv(t.ClientIDEnv), o.Getenv(t.ClientSecretEnv)
		if app, ok := o.Credentials[t.Name]; ok {
			lt.ClientID, lt.ClientSecret = app.ClientID, app.ClientSecret
		}
	}
	client, err := lp.NewClient(lt)
	if err != nil {
		return nil, err
	}
	timeout := p.Journey.RequestTimeout
	if t.RequestTimeout > 0 {
		timeout = t.RequestTimeout
	}
	shard := "0"
	if o.Shards > 1 {
		shard = strconv.Itoa(o.Shard)
	}
	id := strings.NewReplacer("{run}", run, "{target}", t.Name, "{shard}", shard).Replace(p.Journey.ConsumerID)
	prefix, suffix, _ := strings.Cut(id, "{n}")
	retry, err := retryPolicy(p.Journey.Retry)
	if err != nil {
		return nil, err
	}
	return &targetRun{
		prof:   t,
		kind:   t.Kind(),
		client: client,
		journey: &lp.Journey{
			Client: client,
			Epoch:  epoch,
			Target: uint16(i),
			Opts: lp.JourneyOptions{
				Window:            p.Window,
				LookupPerConsumer: p.Journey.Lookup == profiles.LookupPerConsumer,
				AutoMessages:      p.Journey.AutoMessages,
				SendDelay:         p.Journey.SendDelay.Sampler(),
				Message:           p.Journey.Message,
				Close:             p.Journey.Close,
				RequestTimeout:    timeout,
				ConsumerPrefix:    prefix,
				ConsumerSuffix:    suffix,
				Retry:             retry,
			},
		},
	}, nil
}

func simAccount(cfg lpsim.Config, id string) (lpsim.Account, bool) {
	for _, a := range cfg.Accounts {
		if a.ID == id {
			return a, true
		}
	}
	return lpsim.Account{}, false
}

// retryPolicy turns the profile's retry section into the journey's policy.
func retryPolicy(r profiles.Retry) (lp.RetryPolicy, error) {
	var pol lp.RetryPolicy
	for _, name := range r.Steps {
		s, ok := profiles.StepByName(name)
		if !ok {
			return pol, fmt.Errorf("unknown step %q in the retry policy", name)
		}
		pol.Steps[s] = true
	}
	for name, rule := range r.On {
		c, ok := profiles.ClassByName(name)
		if !ok {
			return pol, fmt.Errorf("unknown failure class %q in the retry policy", name)
		}
		pol.Rules[c] = lp.RetryRule{Retries: rule.Retries, Backoff: rule.Backoff}
	}
	return pol, nil
}

// schedule builds one runner for the targets that share the profile's load (arrivals dealt by
// weight) and one per target with a load of its own.
func schedule(p profiles.Profile, o runOptions, targets []*targetRun, epoch time.Time, rec *report.Recorder) loadgen.Group {
	var group loadgen.Group
	var sharedIdx []int
	var weights []int
	for i, tr := range targets {
		if tr.prof.Load == nil {
			sharedIdx = append(sharedIdx, i)
			weights = append(weights, tr.prof.Weight)
		}
	}
	add := func(l profiles.Load, route func(int64) *targetRun) {
		plan := loadgen.Plan{Poisson: l.Arrivals == profiles.ArrivalsPoisson, Seed: l.Seed, Shard: o.Shard, Shards: o.Shards}
		for _, s := range l.Stages {
			plan.Stages = append(plan.Stages, loadgen.Stage{Duration: s.Duration, From: s.Rate.From, To: s.Rate.To})
		}
		for k := range plan.Arrivals() {
			route(k).planned++
		}
		group = append(group, &loadgen.Runner{
			Plan:        plan,
			MaxInFlight: l.MaxInFlight,
			Queue:       l.WhenFull == profiles.WhenFullQueue,
			Epoch:       epoch,
			OnDrop: func(a loadgen.Arrival) {
				tr := route(a.Index)
				tr.dropped.Add(1)
				rec.Drop(int(tr.journey.Target), a.Intended)
			},
			Task: func(ctx context.Context, a loadgen.Arrival) {
				tr := route(a.Index)
				tr.started.Add(1)
				j := sample.Journey{Index: a.Index, Intended: a.Intended}
				tr.journey.Run(ctx, &j)
				rec.Record(&j)
				tr.ended.Add(1)
			},
		})
	}
	if len(sharedIdx) > 0 {
		pick := loadgen.Weighted(weights)
		add(p.Load, func(k int64) *targetRun { return targets[sharedIdx[pick(k)]] })
	}
	for _, tr := range targets {
		if tr.prof.Load != nil {
			add(*tr.prof.Load, func(int64) *targetRun { return tr })
		}
	}
	return group
}

// targetRate returns the series' target function: the arrivals the schedules ask of a target (or
// of all, for -1) between two offsets from the run's start — for a whole second, its rate. (The
// first second of a run is partial: its target is what falls inside it, as are its arrivals.)
func targetRate(p profiles.Profile, targets []*targetRun) func(target int, from, to time.Duration) float64 {
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
				n += arrivalsBetween(*tr.prof.Load, from, to)
			} else {
				n += tr.share * arrivalsBetween(p.Load, from, to)
			}
		}
		return n
	}
}

// arrivalsBetween integrates a load's rate between two offsets.
func arrivalsBetween(l profiles.Load, from, to time.Duration) float64 {
	var n float64
	var start time.Duration
	for _, s := range l.Stages {
		end := start + s.Duration
		lo, hi := max(from, start), min(to, end)
		if hi > lo {
			rate := func(t time.Duration) float64 {
				return s.Rate.From + (s.Rate.To-s.Rate.From)*float64(t-start)/float64(s.Duration)
			}
			n += (rate(lo) + rate(hi)) / 2 * (hi - lo).Seconds()
		}
		start = end
	}
	return n
}

// assignShares sets each target's share of the profile's load, by weight.
func assignShares(targets []*targetRun) {
	total := 0
	for _, tr := range targets {
		if tr.prof.Load == nil {
			total += max(tr.prof.Weight, 0)
		}
	}
	for _, tr := range targets {
		if tr.prof.Load == nil && total > 0 {
			tr.share = float64(max(tr.prof.Weight, 0)) / float64(total)
		}
	}
}

// scoped returns the profile's thresholds with their scopes.
func scoped(p profiles.Profile) []report.ScopedThreshold {
	out := make([]report.ScopedThreshold, len(p.Thresholds))
	for i, th := range p.Thresholds {
		out[i] = report.ScopedThreshold{Threshold: th.Parsed, Target: th.Target}
	}
	return out
}

// abortCheck returns the recorder's periodic check of the abort_on_fail thresholds. A threshold
// aborts the run (abort is called once) when it fails and can no longer pass however the run
// goes on, or when it fails after its abort_delay.
func abortCheck(p profiles.Profile, epoch time.Time, abort func()) func(perTarget []*report.Metrics, overall *report.Metrics) {
	var ths []profiles.Threshold
	for _, th := range p.Thresholds {
		if th.AbortOnFail {
			ths = append(ths, th)
		}
	}
	if len(ths) == 0 || abort == nil {
		return nil
	}
	var done bool
	return func(perTarget []*report.Metrics, overall *report.Metrics) {
		if done {
			return
		}
		byName := make(map[string]*report.Metrics, len(perTarget))
		for i, t := range p.Targets {
			byName[t.Name] = perTarget[i]
		}
		for _, th := range ths {
			r := report.ScopedThreshold{Threshold: th.Parsed, Target: th.Target}.Eval(overall, byName)
			if r.Final() || (!r.Pass && !r.NoData && time.Since(epoch) >= th.AbortDelay) {
				done = true
				abort()
				return
			}
		}
	}
}

// peakRate returns the highest total arrival rate the profile asks for (an upper bound when
// targets have schedules of their own).
func peakRate(p profiles.Profile) float64 {
	var r float64
	shared := false
	for _, t := range p.Targets {
		if t.Load != nil {
			r += loadPeak(*t.Load)
		} else {
			shared = true
		}
	}
	if shared {
		r += loadPeak(p.Load)
	}
	return r
}

func loadPeak(l profiles.Load) float64 {
	var r float64
	for _, s := range l.Stages {
		r = max(r, s.Rate.From, s.Rate.To)
	}
	return r
}

// expectedArrivals returns how many journeys the profile's schedules plan in all.
func expectedArrivals(p profiles.Profile) float64 {
	var n float64
	shared := false
	for _, t := range p.Targets {
		if t.Load != nil {
			n += loadArrivals(*t.Load)
		} else {
			shared = true
		}
	}
	if shared {
		n += loadArrivals(p.Load)
	}
	return n
}

func loadArrivals(l profiles.Load) float64 {
	var n float64
	for _, s := range l.Stages {
		n += (s.Rate.From + s.Rate.To) / 2 * s.Duration.Seconds()
	}
	return n
}

// longest returns the length of the longest schedule.
func longest(p profiles.Profile) time.Duration {
	var d time.Duration
	sum := func(l profiles.Load) time.Duration {
		var t time.Duration
		for _, s := range l.Stages {
			t += s.Duration
		}
		return t
	}
	for _, t := range p.Targets {
		if t.Load != nil {
			d = max(d, sum(*t.Load))
		} else {
			d = max(d, sum(p.Load))
		}
	}
	return d
}

// runID returns a short random id that makes consumer ids unique across runs.
func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
