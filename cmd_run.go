package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/ui/progress"
)

// runFlags are the flags of lpbench run.
type runFlags struct {
	commonFlags
	rate                  float64
	duration              time.Duration
	shard, runID, startAt string
	relay                 string
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.rate, "rate", 0, "replace the profile's load by this constant rate (journeys/s); with --duration, or over the profile's duration")
	fs.DurationVar(&f.duration, "duration", 0, "replace the profile's load by one stage this long; with --rate, or at the profile's peak rate")
	fs.StringVar(&f.shard, "shard", "", "run shard K of N of the arrivals, written K/N (0 ≤ K < N)")
	fs.StringVar(&f.runID, "run-id", "", "the id of the distributed run this shard belongs to: the {run} of consumer ids and the result's run_id, the same for every shard (default: $LPBENCH_RUN_ID, else a random id)")
	fs.StringVar(&f.startAt, "start-at", "", "start barrier: do the set-up, then wait and start the plan at this instant, RFC 3339 (2026-12-01T10:00:00Z) or +DURATION from now; shards with one barrier start together")
	fs.StringVar(&f.relay, "webhook-relay", "", "subscribe the webhook receivers to this relay (lpbench relay, e.g. http://lpbench-relay:8080) instead of listening: webhooks.relay; with --sim-url the relay's URL is registered with the simulator")
	f.commonFlags.register(fs, "directory for result.json, summary.txt, report.html, run.hlog, junit.xml (default: outputs.dir of the profile, else results/<time>-<profile>)")
}

// cmdRun runs a profile (lifecycle), prints the summary and thresholds, and decides the exit.
func cmdRun(args []string, stdout, stderr io.Writer) error {
	var f runFlags
	fs := newFlags("run", "run [PROFILE|FILE] [flags]\n\nPROFILE is a shipped profile (lpbench profiles) or a YAML file; default smoke.\n", stderr)
	f.register(fs)
	p, err := openProfile(fs, args, &f.commonFlags)
	if err != nil {
		return err
	}
	j := &runJob{p: p, o: engine.Options{Getenv: os.Getenv}, labels: f.labels, stdout: stdout, stderr: stderr}
	if err := f.apply(&j.p, &j.o); err != nil {
		return &exitError{code: exitcode.Usage, err: err}
	}
	j.o.Events = progress.NewConsole(stderr, f.progressMode()).Event
	dir := filepath.Join("results", time.Now().Format("20060102-150405")+"-"+p.Name)
	return lifecycle("run", &f.commonFlags, j.p, &j.o, j, cmp.Or(p.Outputs.Dir, dir), stdout, stderr)
}

// openProfile parses a run's or a search's command line and opens its profile (default smoke).
func openProfile(fs *flag.FlagSet, args []string, c *commonFlags) (profiles.Profile, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return profiles.Profile{}, err
	}
	c.visited(fs)
	name := "smoke"
	switch len(pos) {
	case 0:
	case 1:
		name = pos[0]
	default:
		return profiles.Profile{}, flagError(fs, "unexpected argument %q (one profile at a time)", pos[1])
	}
	p, err := profiles.Open(name)
	if err != nil {
		return p, &exitError{code: exitcode.Usage, err: err}
	}
	return p, nil
}

// runJob is lpbench run inside the lifecycle.
type runJob struct {
	p              profiles.Profile
	o              engine.Options
	labels         labelFlag
	dir            string
	stdout, stderr io.Writer
}

func (j *runJob) plan() (profiles.RunPlan, error) { return j.p.Plan(), nil }

func (j *runJob) confirmLive() error { return nil }

func (j *runJob) open(dir string) (func(), error) {
	j.dir = dir
	closeFiles, err := openRunFiles(dir, &j.o)
	if err != nil {
		return nil, err
	}
	return func() {
		if err := closeFiles(); err != nil {
			fmt.Fprintf(j.stderr, "lpbench: %v\n", err)
		}
	}, nil
}

func (j *runJob) run(stop, work context.Context) (*outcome, error) {
	stderr := j.stderr
	j.o.OnFail = func(err error) { fmt.Fprintf(stderr, "\nlpbench: %v\nlpbench: stopping the run\n", err) }
	j.o.OnAbort = func() {
		fmt.Fprintln(stderr, "\nlpbench: a threshold with abort_on_fail failed: stopping the arrivals")
	}
	res, err := engine.Run(stop, work, j.p, j.o)
	if err := engineError("run", err, res == nil, stderr); err != nil {
		return nil, err
	}
	if len(j.labels) > 0 {
		res.Labels = j.labels
	}
	return finishRun(res, j.dir, j.stdout)
}

// finishRun writes the outputs of a finished run (or merge) and its summary, and returns its
// outcome; its error is that of writing the outputs.
func finishRun(res *report.Result, dir string, stdout io.Writer) (*outcome, error) {
	// The files first: what was measured is kept even if stdout fails.
	if err := render.WriteRunOutputs(dir, res); err != nil {
		return nil, err
	}
	if err := render.Summary(res)(stdout); err != nil {
		return nil, fmt.Errorf("writing the summary: %w", err)
	}
	return runOutcome(res, filepath.Join(dir, "result.json")), nil
}

// runOutcome is the outcome of a finished run whose result file is path.
func runOutcome(res *report.Result, path string) *outcome {
	return &outcome{verdict: resultVerdict(res), result: path,
		record: func(code exitcode.Code) (*history.Run, error) { return history.FromResult(res, int(code), path) },
		markdown: func(code exitcode.Code, meaning string) render.Reporter {
			return render.MarkdownExit(res, code, meaning)
		}}
}

// resultVerdict returns the verdict of a finished run (exitcode.Run decides it).
func resultVerdict(res *report.Result) exitcode.Verdict {
	code, meaning := exitcode.Run(res)
	return exitcode.Verdict{Code: code, Meaning: meaning, Said: res.End == report.EndFailed}
}

// runVerdict returns the exit of a finished run, as an error for main (nil for exit 0).
func runVerdict(res *report.Result) error { return verdictError(resultVerdict(res)) }

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
	f.commonFlags.apply(p)
	o.SimURL, o.SimCA = f.simURL, f.simCA
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
		return fmt.Errorf("--start-at %s lies %s back, more than the plan's %s: no arrival could be sent on time; give the run a new start",
			o.StartAt.UTC().Format(time.RFC3339), now.Sub(o.StartAt).Round(time.Second), p.Duration())
	}
	return nil
}

// check refuses every flag value a run cannot use, naming the flag. A flag given explicitly is
// judged even when its value is the zero that otherwise means "the profile's".
func (f *runFlags) check() error {
	switch {
	case f.rate < 0 || (f.set["rate"] && f.rate == 0):
		return fmt.Errorf("--rate must be > 0 journeys/s, got %g", f.rate)
	case f.duration < 0 || (f.set["duration"] && f.duration == 0):
		return fmt.Errorf("--duration must be > 0, got %v", f.duration)
	}
	return f.commonFlags.check()
}

// applyRelay puts --webhook-relay into the profile's webhooks.relay, refusing what the profile
// would refuse there.
func (f *runFlags) applyRelay(p *profiles.Profile) error {
	if !f.set["webhook-relay"] {
		return nil
	}
	switch {
	case f.relay == "":
		return errors.New("--webhook-relay wants the relay's base URL, e.g. http://lpbench-relay:8080, got \"\"")
	case !p.Webhooks.Enabled:
		return fmt.Errorf("--webhook-relay: profile %s has webhooks.enabled false: no receiver to subscribe", p.Name)
	case p.Webhooks.PublicURL != "":
		return fmt.Errorf("--webhook-relay: profile %s sets webhooks.public_url: with a relay, LivePerson's webhook URL is the relay's; remove public_url", p.Name)
	}
	if err := profiles.CheckRelayURL(f.relay); err != nil {
		return fmt.Errorf("--webhook-relay: %v", err)
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

// parseStartAt reads the --start-at instant: RFC 3339, or +DURATION after now.
func parseStartAt(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil || dur < 0 {
			return time.Time{}, fmt.Errorf("--start-at wants an RFC 3339 time or +DURATION (e.g. +2m), got %q", s)
		}
		return now.Add(dur), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--start-at wants an RFC 3339 time (e.g. 2026-12-01T10:00:00Z) or +DURATION, got %q", s)
	}
	return t, nil
}

// parseShard reads "K/N".
func parseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 0 || k >= n {
		return 0, 0, fmt.Errorf("--shard wants K/N with 0 ≤ K < N, got %q", s)
	}
	return k, n, nil
}
