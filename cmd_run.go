package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lpbench/lpbench/cleanup"
	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/journal"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/ui/progress"
)

// runFlags are the command-line overrides of a profile.
type runFlags struct {
	rate        float64
	duration    time.Duration
	maxInFlight int
	window      time.Duration
	live        bool
	noProgress  bool
	grace       time.Duration
	shard       string
	out         string
	simURL      string
	simCA       string
	relax       relaxFlag
	metrics     metricsFlags
	runID       string
	startAt     string
	history     string
	labels      labelFlag
	relay       string
	leaveOpen   bool
	// set holds the names of the flags given on the command line (flag.FlagSet.Visit): a value
	// given explicitly is judged even when it is the default's zero.
	set map[string]bool
}

// relaxFlag collects the repeatable --relax-check flag.
type relaxFlag []string

func (r *relaxFlag) String() string { return strings.Join(*r, ",") }

// Set adds one check name.
func (r *relaxFlag) Set(name string) error {
	if !slices.Contains(report.CheckNames, name) {
		return fmt.Errorf("no check named %q (checks: %s)", name, strings.Join(report.CheckNames, ", "))
	}
	*r = append(*r, name)
	return nil
}

// register defines the run flags on fs.
func (f *runFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.rate, "rate", 0, "replace the profile's load by this constant rate (journeys/s); with -duration, or over the profile's duration")
	fs.DurationVar(&f.duration, "duration", 0, "replace the profile's load by one stage this long; with -rate, or at the profile's peak rate")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 0, "override load.max_in_flight")
	fs.DurationVar(&f.window, "window", 0, "override the AUTO_MESSAGES window")
	fs.BoolVar(&f.live, "live", false, "allow targets on LivePerson itself (required for them)")
	registerLeaveOpen(fs, &f.leaveOpen)
	fs.BoolVar(&f.noProgress, "no-progress", false, "show no progress while running")
	fs.DurationVar(&f.grace, "grace", 15*time.Second, "on interrupt, how long journeys in flight may finish before they are cancelled")
	fs.StringVar(&f.shard, "shard", "", "run shard K of N of the arrivals, written K/N (0 ≤ K < N)")
	fs.StringVar(&f.simURL, "sim-url", "", "drive the profile's simulator targets on this standalone simulator (lpbench sim) instead of an embedded one")
	fs.StringVar(&f.simCA, "sim-ca", "", "CA file (PEM) of a -sim-url simulator over TLS (lpbench sim -tls prints it): certificates verified against it")
	fs.StringVar(&f.runID, "run-id", "", "the id of the distributed run this shard belongs to: the {run} of consumer ids and the result's run_id, the same for every shard (default: $LPBENCH_RUN_ID, else a random id)")
	fs.StringVar(&f.startAt, "start-at", "", "start barrier: do the set-up, then wait and start the plan at this instant, RFC 3339 (2026-12-01T10:00:00Z) or +DURATION from now; shards with one barrier start together")
	f.metrics.register(fs)
	fs.StringVar(&f.relay, "webhook-relay", "", "subscribe the webhook receivers to this relay (lpbench relay, e.g. http://lpbench-relay:8080) instead of listening: webhooks.relay; with -sim-url the relay's URL is registered with the simulator")
	fs.Var(&f.relax, "relax-check", "relax measurement check NAME (repeatable): it is computed and shown, but its failure does not make the run exit 4")
	fs.StringVar(&f.out, "out", "", "directory for result.json, summary.txt, report.html, run.hlog, junit.xml (default: outputs.dir of the profile, else results/<time>-<profile>)")
	registerHistory(fs, &f.history, &f.labels)
}

// registerHistory defines --history and --label, which run and capacity share.
func registerHistory(fs *flag.FlagSet, path *string, labels *labelFlag) {
	fs.StringVar(path, "history", "", "append the run to this history file, SQLite, created if need be (default: $LPBENCH_HISTORY, else outputs.history of the profile)")
	fs.Var(labels, "label", "label the run key=value (repeatable): kept in result.json and the history, which compares only runs with the same labels")
}

// cmdRun loads the profile, applies the flags, runs it, prints the summary and thresholds, and
// decides the exit code.
func cmdRun(args []string, stdout, stderr io.Writer) error {
	var f runFlags
	fs := newFlags("run", "run [PROFILE|FILE] [flags]\n\nPROFILE is a shipped profile (lpbench profiles) or a YAML file; default smoke.\n", stderr)
	f.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	name := "smoke"
	switch len(pos) {
	case 0:
	case 1:
		name = pos[0]
	default:
		return usageError("unexpected argument %q (one profile at a time)", pos[1])
	}
	p, err := profiles.Open(name)
	if err != nil {
		return &exitError{code: exitcode.Usage, err: err}
	}
	o := engine.Options{Getenv: os.Getenv}
	if err := f.apply(&p, &o); err != nil {
		return &exitError{code: exitcode.Usage, err: err}
	}
	for _, w := range p.SupportWarnings(o.Shard, o.Shards) {
		fmt.Fprintf(stderr, "lpbench: warning: %s\n", w)
	}
	o.Events = progress.NewConsole(stderr, f.progressMode()).Event
	ep, err := f.metrics.endpoint(p.Outputs, f.set)
	if err != nil {
		return &exitError{code: exitcode.Usage, err: err}
	}
	if err := confirmLive(p, f.live, f.leaveOpen, stderr); err != nil {
		return err
	}
	db, err := openHistory(historyPath(f.history, f.set["history"], p.Outputs.History))
	if err != nil {
		return err
	}
	defer db.Close()
	dir, hlog, err := openOutputs(f.out, p)
	if err != nil {
		return usageError("%v", err)
	}
	defer hlog.Close()
	jl, err := openJournal(dir, &o)
	if err != nil {
		return err
	}
	defer closeJournal(jl, stderr)
	live, err := startMetrics(ep, p.Window, &o, stderr)
	if err != nil {
		return err
	}
	defer live.close()
	o.Hlog = hlog
	o.OnFail = func(err error) { fmt.Fprintf(stderr, "\nlpbench: %v\nlpbench: stopping the run\n", err) }
	o.OnAbort = func() {
		fmt.Fprintln(stderr, "\nlpbench: a threshold with abort_on_fail failed: stopping the arrivals")
	}
	stop, work, release := interruptible(f.grace, stderr)
	defer release()
	res, err := engine.Run(stop, work, p, o)
	if err := engineError("run", err, res == nil, stderr); err != nil {
		return err
	}
	if len(f.labels) > 0 {
		res.Labels = f.labels
	}
	v, err := finishRun(db, res, dir, o.Getenv, stdout, stderr)
	if err != nil {
		return err
	}
	release() // an interrupt now ends the metrics' linger, not the run
	live.finish(stderr)
	return v.err
}

// finishRun writes the outputs of a finished run and its summary, decides its verdict, appends
// it to the history, and then writes the job summary, which tells the exit the command ends
// with. Its error is that of writing the outputs.
func finishRun(db *history.DB, res *report.Result, dir string, getenv func(string) string, stdout, stderr io.Writer) (verdict, error) {
	// The files first: what was measured is kept even if stdout fails.
	if err := render.WriteRunOutputs(dir, res); err != nil {
		return verdict{}, err
	}
	if err := render.Summary(res)(stdout); err != nil {
		return verdict{}, fmt.Errorf("writing the summary: %w", err)
	}
	v := recordRun(db, res, resultVerdict(res), filepath.Join(dir, "result.json"), stderr)
	appendStepSummary(getenv, stderr, render.MarkdownExit(res, v.code, v.meaning))
	fmt.Fprintf(stderr, "lpbench: results in %s\n", dir)
	return v, nil
}

// recordRun appends a finished run to the history, if any, and returns the verdict the command
// ends with (verdict.withHistory: a failed append never hides the run's own 1, 3, 4 or 130).
func recordRun(db *history.DB, res *report.Result, v verdict, resultPath string, stderr io.Writer) verdict {
	if db == nil {
		return v
	}
	r, err := history.FromResult(res, int(v.code), resultPath)
	if err != nil {
		return v.withHistory(fmt.Errorf("the run is not in the history: %w", err), stderr)
	}
	return v.withHistory(appendHistory(db, r, v.err, resultPath, stderr), stderr)
}

// resultVerdict returns the verdict of a finished run (report.Result.Exit decides it).
func resultVerdict(res *report.Result) verdict {
	code, meaning := exitcode.Run(res)
	return newVerdict(code, meaning, res.End == report.EndFailed)
}

// runVerdict returns the exit of a finished run, as an error for main (nil for exit 0).
func runVerdict(res *report.Result) error { return resultVerdict(res).err }

// confirmLive refuses a profile that drives LivePerson itself unless --live confirms it, its
// credentials are set and it closes its conversations (or --leave-open says they are to stay
// open), and prints the plan of a confirmed one.
func confirmLive(p profiles.Profile, live, leaveOpen bool, stderr io.Writer) error {
	if !p.HasLive() {
		return nil
	}
	if !live {
		return usageError("profile %s drives LivePerson itself (targets: %s); add --live to confirm. Nothing was sent.", p.Name, liveNames(p))
	}
	if err := checkLeaveOpen(p, leaveOpen); err != nil {
		return err
	}
	if err := p.CheckLive(os.Getenv); err != nil {
		return &exitError{code: exitcode.Usage, err: err}
	}
	printPlan(stderr, p)
	return nil
}

// progressMode is the display of the run's progress the flags ask for.
func (f *runFlags) progressMode() progress.Mode {
	if f.noProgress {
		return progress.Off
	}
	return progress.Auto
}

// apply puts the command-line overrides into the profile and the run options.
func (f *runFlags) apply(p *profiles.Profile, o *engine.Options) error {
	if err := f.check(); err != nil {
		return err
	}
	if f.rate > 0 || f.duration > 0 {
		rate, d := f.rate, f.duration
		if rate == 0 {
			rate = p.Load.Plan(0, 1).PeakRate()
		}
		if d == 0 {
			d = p.Load.Plan(0, 1).Duration()
		}
		p.Load.Stages = []profiles.Stage{{Duration: d, Rate: profiles.Rate{From: rate, To: rate}}}
	}
	if f.maxInFlight > 0 {
		p.Load.MaxInFlight = f.maxInFlight
	}
	if f.window > 0 {
		p.Window = f.window
	}
	for _, name := range f.relax {
		if !p.Checks.Relaxed(name) {
			p.Checks.Relax = append(p.Checks.Relax, name)
		}
	}
	o.SimURL, o.SimCA = f.simURL, f.simCA
	if f.simCA != "" && f.simURL == "" {
		return errors.New("-sim-ca goes with -sim-url")
	}
	if err := f.applyRelay(p); err != nil {
		return err
	}
	if f.shard != "" || f.set["shard"] {
		k, n, err := parseShard(f.shard)
		if err != nil {
			return err
		}
		o.Shard, o.Shards = k, n
	}
	now := time.Now()
	if err := f.applyRun(o, now); err != nil {
		return err
	}
	if !o.StartAt.IsZero() && now.Sub(o.StartAt) > p.Duration() {
		return fmt.Errorf("-start-at %s lies %s back, more than the plan's %s: no arrival could be sent on time; give the run a new start",
			o.StartAt.UTC().Format(time.RFC3339), now.Sub(o.StartAt).Round(time.Second), p.Duration())
	}
	return nil
}

// check refuses every flag value a run cannot use, naming the flag. A flag given explicitly is
// judged even when its value is the zero that otherwise means "the profile's".
func (f *runFlags) check() error {
	switch {
	case f.rate < 0 || (f.set["rate"] && f.rate == 0):
		return fmt.Errorf("-rate must be > 0 journeys/s, got %g", f.rate)
	case f.duration < 0 || (f.set["duration"] && f.duration == 0):
		return fmt.Errorf("-duration must be > 0, got %v", f.duration)
	case f.maxInFlight < 0 || (f.set["max-in-flight"] && f.maxInFlight == 0):
		return fmt.Errorf("-max-in-flight must be ≥ 1, got %d", f.maxInFlight)
	case f.window < 0 || (f.set["window"] && f.window == 0):
		return fmt.Errorf("-window must be > 0, got %v", f.window)
	case f.grace < 0:
		return fmt.Errorf("-grace must be ≥ 0, got %v", f.grace)
	}
	return nil
}

// applyRelay puts -webhook-relay into the profile's webhooks.relay, refusing what the profile
// would refuse there.
func (f *runFlags) applyRelay(p *profiles.Profile) error {
	if !f.set["webhook-relay"] {
		return nil
	}
	switch {
	case f.relay == "":
		return errors.New("-webhook-relay wants the relay's base URL, e.g. http://lpbench-relay:8080, got \"\"")
	case !p.Webhooks.Enabled:
		return fmt.Errorf("-webhook-relay: profile %s has webhooks.enabled false: no receiver to subscribe", p.Name)
	case p.Webhooks.PublicURL != "":
		return fmt.Errorf("-webhook-relay: profile %s sets webhooks.public_url: with a relay, LivePerson's webhook URL is the relay's; remove public_url", p.Name)
	}
	if err := profiles.CheckRelayURL(f.relay); err != nil {
		return fmt.Errorf("-webhook-relay: %v", err)
	}
	p.Webhooks.Relay = f.relay
	return nil
}

// applyRun sets the run id (flag, else $LPBENCH_RUN_ID) and the start barrier, read at now.
func (f *runFlags) applyRun(o *engine.Options, now time.Time) error {
	id := f.runID
	if !f.set["run-id"] {
		id = os.Getenv("LPBENCH_RUN_ID")
	}
	if f.set["run-id"] || id != "" {
		if err := checkRunID(id); err != nil {
			return err
		}
	}
	o.RunID = id
	if f.startAt != "" || f.set["start-at"] {
		t, err := parseStartAt(f.startAt, now)
		if err != nil {
			return err
		}
		o.StartAt = t
	}
	return nil
}

// checkRunID accepts 1 to 64 letters, digits, '.', '_' and '-': the id goes into every
// consumer id and into file paths.
func checkRunID(id string) error {
	ok := id != "" && len(id) <= 64
	for _, r := range id {
		ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}
	if !ok {
		return fmt.Errorf("-run-id (or $LPBENCH_RUN_ID) wants 1 to 64 letters, digits, '.', '_' or '-', got %q", id)
	}
	return nil
}

// parseStartAt reads the -start-at instant: RFC 3339, or +DURATION after now.
func parseStartAt(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil || dur < 0 {
			return time.Time{}, fmt.Errorf("-start-at wants an RFC 3339 time or +DURATION (e.g. +2m), got %q", s)
		}
		return now.Add(dur), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("-start-at wants an RFC 3339 time (e.g. 2026-12-01T10:00:00Z) or +DURATION, got %q", s)
	}
	return t, nil
}

// parseShard reads "K/N".
func parseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 0 || k >= n {
		return 0, 0, fmt.Errorf("-shard wants K/N with 0 ≤ K < N, got %q", s)
	}
	return k, n, nil
}

func liveNames(p profiles.Profile) string {
	var names []string
	for _, t := range p.Targets {
		if t.Kind() == profiles.KindLive {
			names = append(names, t.Name)
		}
	}
	return strings.Join(names, ", ")
}

// printPlan tells, before a live run starts, what it will do to the accounts.
func printPlan(w io.Writer, p profiles.Profile) {
	fmt.Fprintf(w, "lpbench: live run of profile %s\n", p.Name)
	for _, t := range p.Targets {
		fmt.Fprintf(w, "  target %-12s account %-12s %s (%s)\n", t.Name, t.Account, t.CSDSURL(), t.Kind())
	}
	closing := "and closes each one at the end of its journey"
	if !p.Journey.Close {
		closing = "and leaves them OPEN (journey.close is false)"
	}
	fmt.Fprintf(w, "  peak rate %s/s for %s: about %.0f conversations, %s\n",
		strconv.FormatFloat(p.PeakRate(), 'g', -1, 64), p.Duration(), p.ExpectedArrivals(), closing)
}

// registerLeaveOpen defines --leave-open, which run and capacity share.
func registerLeaveOpen(fs *flag.FlagSet, leaveOpen *bool) {
	fs.BoolVar(leaveOpen, "leave-open", false, "on LivePerson itself, accept journey.close: false: every conversation the run opens stays open (lpbench cleanup DIR closes them later)")
}

// checkLeaveOpen refuses journey.close: false on LivePerson itself unless --leave-open says the
// conversations are to stay open.
func checkLeaveOpen(p profiles.Profile, leaveOpen bool) error {
	if p.Journey.Close || leaveOpen {
		return nil
	}
	return usageError("profile %s: journey.close is false on LivePerson itself (targets: %s): every conversation would stay open in the account; set journey.close: true, or add --leave-open to confirm. Nothing was sent.", p.Name, liveNames(p))
}

// openJournal creates the journal of a run in dir and hands it to the run's options. It refuses
// to replace a journal whose conversations may still be open (a killed run's, not cleaned up).
func openJournal(dir string, o *engine.Options) (*journal.Journal, error) {
	path := filepath.Join(dir, journal.FileName)
	// A journal that does not read (no header: the run died before sending) has nothing to lose.
	if n, err := cleanup.LeftOpen(path); err == nil && n > 0 {
		return nil, usageError("%s records %d conversations an earlier run may have left open: run lpbench cleanup %s first, or give another -out", path, n, dir)
	}
	jl, err := journal.Create(path)
	if err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	o.Journal = jl
	return jl, nil
}

// closeJournal closes a run's journal, and says so when entries could not be written: what the
// run left open may then be unknown to lpbench cleanup.
func closeJournal(jl *journal.Journal, stderr io.Writer) {
	if err := jl.Close(); err != nil {
		fmt.Fprintf(stderr, "lpbench: the journal %s is incomplete (%v): had the run been killed, lpbench cleanup could not have found every conversation\n", jl.Path(), err)
	}
}

// openOutputs creates the output directory and the interval log, which is written as the run
// goes.
func openOutputs(dir string, p profiles.Profile) (string, *os.File, error) {
	if dir == "" {
		dir = p.Outputs.Dir
	}
	if dir == "" {
		dir = filepath.Join("results", time.Now().Format("20060102-150405")+"-"+p.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("output directory: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "run.hlog"))
	if err != nil {
		return "", nil, fmt.Errorf("output directory: %w", err)
	}
	return dir, f, nil
}

// interruptible returns two contexts: stop ends at the first SIGINT or SIGTERM (no new arrivals);
// work ends grace later, or at a second signal (journeys in flight are cancelled). release stops
// listening for signals; calling it again does nothing.
func interruptible(grace time.Duration, stderr io.Writer) (stop, work context.Context, release func()) {
	stop, stopArrivals := context.WithCancel(context.Background())
	work, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintf(stderr, "\nlpbench: stopping arrivals; journeys in flight have %s to finish (interrupt again to cancel them)\n", grace)
		stopArrivals()
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-sigs:
		case <-t.C:
		case <-done:
			return
		}
		cancel()
	}()
	return stop, work, sync.OnceFunc(func() {
		signal.Stop(sigs)
		close(done)
		stopArrivals()
		cancel()
	})
}

// engineError sorts an error the engine returned with its result: the profile's or the options'
// fault (an *engine.InputError) is a usage error, exit 2; without a result it is the command's
// error; with one, it is reported on stderr and the result stands.
func engineError(cmd string, err error, noResult bool, stderr io.Writer) error {
	var in *engine.InputError
	switch {
	case errors.As(err, &in):
		return &exitError{code: exitcode.Usage, err: err}
	case err != nil && noResult:
		return err
	case err != nil:
		fmt.Fprintf(stderr, "lpbench %s: %v\n", cmd, err)
	}
	return nil
}
