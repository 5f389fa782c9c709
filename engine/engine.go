// Package engine runs a profile: it builds each target's client and journey, starts the embedded
// simulator and the webhook receivers when the targets need them, dispatches the profile's
// schedules, records every journey, judges the thresholds, and returns a complete Result.
//
// The flow is profile → plan (loadgen) → dispatcher → journey (lp) → record (sample) → recorder →
// result (report) → renderers. The engine owns the wiring between those packages and nothing of
// the command line: a Go program drives a run with Run, the CLI (package main) parses flags into
// a Profile and Options and renders what Run returns.
//
// The engine prints nothing and imports no UI: what a person should see while the run goes is
// reported as Events (Options.Events), which the CLI shows through package ui/progress. The
// measurement checks are package validity's statistics, fed by the engine. The capacity search
// (package capacity) drives Run like any other caller: the engine knows nothing of it.
package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/lpbench/lpbench/journal"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
	"github.com/lpbench/lpbench/validity"
)

// Options are the parts of a run that are not in the profile.
type Options struct {
	// Events, when not nil, is told what the run does as it goes (see Event): the waits for a
	// start barrier, a clock off the target's, the relay's notices, and when the dispatch starts
	// and stops, with counters to follow it. It is called from the run's goroutines, at times
	// concurrently, and must return quickly. The engine prints nothing itself.
	Events func(Event)
	// Sim, when not nil, is the simulator that "sim" targets drive instead of a new embedded one
	// (tests use it to shape latency and read the ledger).
	Sim *lpsim.Server
	// SimURL, when set, moves the profile's "sim" targets to the standalone simulator (lpbench
	// sim) at this http or https URL, with the credentials it generated.
	SimURL string
	// SimCA is the CA file (PEM) of a standalone simulator over TLS (lpbench sim --tls prints
	// it): the moved targets verify its certificates against it.
	SimCA string
	// Observe sees every journey record on the recorder's goroutine.
	Observe func(*sample.Record)
	// Live, when not nil, follows the run as it goes (its records and arrival counts).
	Live Live
	// Getenv reads the credentials' environment variables (default os.Getenv).
	Getenv func(string) string
	// Shard and Shards select one shard of the arrivals (Shards ≤ 1: all).
	Shard, Shards int
	// RunID is the {run} of the consumer ids and the result's run id; shards of one run share
	// it (default: a random id).
	RunID string
	// StartAt, when set, is a start barrier: the run does its set-up, waits until this instant
	// (stop ends the wait), and its plan starts at it. Ready after it, the run joins late: the
	// arrivals intended before are counted not started. The clock offset from the first target
	// is measured and recorded.
	StartAt time.Time
	// Hlog, when not nil, receives the interval log as the run goes.
	Hlog io.Writer
	// OnAbort is told (once) that an abort_on_fail threshold failed; the engine stops the
	// arrivals itself and the result ends "thresholds aborted".
	OnAbort func()
	// OnFail is told (once) that a target turned out unusable (its credentials or account are
	// refused); the engine stops the run itself and the result ends "failed" with the reason.
	OnFail func(error)

	// Drain, when > 0, replaces how long journeys in flight may go on once every arrival was
	// dispatched (default: the request timeout or the auto-message wait, whichever is longer,
	// + 10 s); then they are cancelled and counted interrupted.
	Drain time.Duration

	// MemoryLimit is the process's soft memory limit while the run goes (debug.SetMemoryLimit,
	// the one before restored after it): 0 is one sized from the run's bound on journeys in
	// flight, DefaultMemoryLimit at least (see memoryLimit), unless GOMEMLIMIT is set in the
	// environment, whose limit then stands; < 0 is none.
	MemoryLimit int64

	// Journal, when not nil, records the run's conversations as they open and close (its header
	// is written once the targets are built), so that what a killed run leaves open can be
	// closed by lpbench cleanup. The caller creates and closes it.
	Journal *journal.Journal

	// credentials, by target name, replace the environment's for the targets moved to a
	// standalone simulator (SimURL).
	credentials map[string]lpsim.App
	// tap, when set (Preflight), sees every webhook delivery before its receiver does.
	tap func(Delivery)
}

// InputError is an error of the profile or the options, found before anything was sent.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Run runs profile p and returns its complete result. stop ends the arrivals (journeys in flight
// go on); work cancels the journeys in flight. Per-journey failures are data in the result, not
// errors; an error means the run could not start (an *InputError when the profile or options
// are to blame).
func Run(stop, work context.Context, p profiles.Profile, o Options) (*report.Result, error) {
	o.defaults()
	defer limitMemory(o.MemoryLimit, inFlightBound(p.Load.MaxInFlight, lp.MaxJourneys()))()
	if err := useSimURL(&p, &o); err != nil {
		return nil, err
	}
	sim := o.Sim
	if sim == nil && needsSim(p) {
		var err error
		if sim, err = lpsim.NewServer(p.Sim); err != nil {
			return nil, fmt.Errorf("starting the embedded simulator: %w", err)
		}
		defer sim.Close()
	}
	targets, hooks, err := prepare(stop, p, sim, o)
	if err != nil {
		return nil, err
	}
	if err := writeJournalHeader(p, o, targets); err != nil {
		hooks.stop(0, len(targets))
		return nil, err
	}
	c := newControl(stop, work, o)
	outlive, endOutlive := lp.Outlive(c.work)
	defer endOutlive()
	for _, tr := range targets {
		tr.journey.Opts.Outlive = outlive
	}
	clock := checkClock(c.stop, o, targets)
	epoch := o.StartAt
	if epoch.IsZero() {
		epoch = time.Now() // after the set-up, so that the first arrivals are not late by it
	}
	group := schedule(p, o, targets, epoch)
	o.Observe = startLive(o, targets)
	rec := newRecorder(p, targets, epoch, o, c)
	var dr drain
	feed(group, targets, rec, &dr)
	fits := validity.FitDispatch(group)
	st := awaitStart(c.stop, o, group)
	o.emit(Event{Kind: EventDispatching, Counters: Counters{Arrivals: group, Outcomes: rec.Live}})
	watchDone := make(chan struct{})
	go watchTargets(targets, watchDone, c.fail)
	go dr.watch(group, drainFor(p, o), watchDone, c.cancelWork)
	cpu := validity.StartCPU()
	counts := group.Run(c.stop, c.work)
	cpuUsed := cpu.Stop()
	close(watchDone)
	for _, tr := range targets {
		tr.client.CloseIdleConnections()
	}
	o.emit(Event{Kind: EventDispatched, Complete: c.stop.Err() == nil})
	hookStats, hops := hooks.stop(p.Webhooks.Grace, len(targets))
	perTarget, overall := rec.Close()
	endLive(o)
	res := &report.Result{
		Version: Version(), GoVersion: runtime.Version(),
		Shard:   report.Shard{Index: o.Shard, Count: max(o.Shards, 1)},
		Profile: p.Name, Start: epoch, Elapsed: max(time.Since(epoch), 0), End: c.end(),
		Window: p.Window, Rate: p.PeakRate(), Duration: p.Duration(), MaxInFlight: inFlightBound(p.Load.MaxInFlight, lp.MaxJourneys()), MaxInFlightAsked: askedIfCut(p.Load.MaxInFlight),
		PerTarget: perTarget, Overall: overall,
		RunID: o.RunID, StartAt: st.barrier, Waited: st.waited, JoinedLate: st.joinedLate, Clock: clock,
		Relay: p.Webhooks.Relay,
	}
	res.Reason = c.reason(dr.fired.Load(), drainFor(p, o))
	res.Arrivals = arrivals(counts)
	overall.Arrivals = res.Arrivals
	for i, tr := range targets {
		perTarget[i].Arrivals = tr.arrivals()
		info := tr.info(hookStats[i])
		info.RelayHop = hops[i]
		res.Targets = append(res.Targets, info)
	}
	res.Thresholds = report.EvalThresholds(Thresholds(p), overall, res.ByTarget())
	res.Checks = validity.Checks(validity.Run{Result: res, Limits: p.Checks, Runners: runnerFits(group, fits, targets, res),
		CPU: cpuUsed, SimInProcess: needsSim(p)})
	if res.Effective, err = p.Effective(); err != nil {
		return res, fmt.Errorf("recording the effective profile: %w", err)
	}
	res.ProfileHash = profileHash(res.Effective)
	return res, nil
}

// prepare builds the targets, checks the certificates of those that name a CA file, and starts
// their webhook receivers.
func prepare(stop context.Context, p profiles.Profile, sim *lpsim.Server, o Options) ([]*targetRun, *webhooks, error) {
	targets, err := newTargets(p, sim, o)
	if err != nil {
		return nil, nil, err
	}
	if err := checkCertificates(stop, targets); err != nil {
		return nil, nil, err
	}
	hooks, err := startWebhooks(p, targets, sim, o)
	return targets, hooks, err
}

func (o *Options) defaults() {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.RunID == "" {
		o.RunID = NewRunID()
	}
}

// DefaultMemoryLimit is the least of a run's default soft memory limit (see Options.MemoryLimit,
// memoryLimit). Below the limit the collector runs as GOGC says, letting the heap grow to twice
// what is live between collections; near it, it collects as often as it takes to stay under it
// (taking at most about half the CPU, then letting the heap grow past it). A run that keeps up
// holds 50 – 200 MB and never meets it.
const DefaultMemoryLimit = 256 << 20

// journeyMemory is what the default memory limit allows each journey in flight: one holds about
// 30 KB (its goroutine, its connection's two and their buffers: BenchmarkInFlight), and a fifth
// more leaves the collector room to work without running all the time.
const journeyMemory = 36 << 10

// memoryLimit returns a run's default soft memory limit for at most inFlight journeys in flight:
// what they hold at most with a fifth more, and no less than DefaultMemoryLimit. A generator
// that falls behind its rate holds journeys in flight up to that bound, and without the limit
// would hold twice their memory between collections (9,984 in flight: 525 – 560 MiB of RSS
// without, about 350 with).
func memoryLimit(inFlight int) int64 {
	return max(DefaultMemoryLimit, int64(inFlight)*journeyMemory)
}

// limitMemory sets the process's soft memory limit for a run of at most inFlight journeys in
// flight (see Options.MemoryLimit) and returns what restores the one before.
func limitMemory(limit int64, inFlight int) func() {
	switch {
	case limit == 0 && os.Getenv("GOMEMLIMIT") != "":
		return func() {}
	case limit == 0:
		limit = memoryLimit(inFlight)
	case limit < 0:
		limit = math.MaxInt64
	}
	before := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(before) }
}

// control holds the run's own stop and work contexts, derived from the caller's, and why they
// ended: the caller (an interrupt), an abort_on_fail threshold, or an unusable target.
type control struct {
	stop, work             context.Context
	outer                  context.Context // the caller's stop
	cancelStop, cancelWork context.CancelFunc
	o                      Options
	aborted                atomic.Bool
	failed                 atomic.Pointer[error]
}

func newControl(stop, work context.Context, o Options) *control {
	c := &control{outer: stop, o: o}
	c.stop, c.cancelStop = context.WithCancel(stop)
	c.work, c.cancelWork = context.WithCancel(work)
	return c
}

// abort stops the arrivals because a threshold failed for good.
func (c *control) abort() {
	if c.aborted.CompareAndSwap(false, true) && c.o.OnAbort != nil {
		c.o.OnAbort()
	}
	c.cancelStop()
}

// fail stops the run (arrivals and journeys in flight) because a target is unusable.
func (c *control) fail(err error) {
	if c.failed.CompareAndSwap(nil, &err) && c.o.OnFail != nil {
		c.o.OnFail(err)
	}
	c.cancelStop()
	c.cancelWork()
}

func (c *control) failure() error {
	if p := c.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// reason says why a run ended that did not complete as planned: its failure, or the journeys
// the drain (after drain) cancelled; "" for neither.
func (c *control) reason(cancelled int64, drain time.Duration) string {
	if err := c.failure(); err != nil {
		return err.Error()
	}
	if cancelled > 0 {
		return fmt.Sprintf("%d journeys were still in flight %s after the last arrival and were cancelled (counted failed, class timeout): the generator or the target could not keep up", cancelled, drain)
	}
	return ""
}

// end returns why the run ended. A failure outranks an abort, which outranks an interrupt.
func (c *control) end() report.EndReason {
	switch {
	case c.failure() != nil:
		return report.EndFailed
	case c.aborted.Load():
		return report.EndAborted
	case c.outer.Err() != nil:
		return report.EndInterrupted
	}
	return report.EndCompleted
}

// version is stamped by the build (make build: -ldflags "-X
// github.com/lpbench/lpbench/engine.version=$(git describe --always --dirty)").
var version string

// Version returns lpbench's version: the one the build stamped, else the module's version (go
// install …@v1.2.3), else the VCS revision and time the toolchain recorded, else "(devel)".
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case "vcs.time":
			at = " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "(devel)"
	}
	return rev + dirty + at
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

// profileHash is the result's profile_hash: the sha256 of the effective profile, which holds
// nothing that differs between the shards of one run (the shard, run id and barrier are
// options, not profile).
func profileHash(effective string) string {
	h := sha256.Sum256([]byte(effective))
	return hex.EncodeToString(h[:])
}

// NewRunID returns a short random id (8 hex digits) that makes consumer ids unique across runs;
// a capacity search has one of its own.
func NewRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
