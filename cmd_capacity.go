package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lpbench/lpbench/capacity"
	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/ui/progress"
)

// capacityFlags are the flags of lpbench capacity.
type capacityFlags struct {
	from, max, resolution float64
	step, coolDown, grace time.Duration
	window                time.Duration
	maxInFlight, maxSteps int
	maxConversations      float64
	slo                   sloFlag
	live                  bool
	leaveOpen             bool
	simURL, simCA, out    string
	metrics               metricsFlags
	history               string
	labels                labelFlag
	// set holds the names of the flags given on the command line.
	set map[string]bool
}

// sloFlag collects the repeatable --slo flag, each a threshold expression.
type sloFlag []report.Threshold

func (s *sloFlag) String() string {
	var es []string
	for _, t := range *s {
		es = append(es, t.Expr)
	}
	return strings.Join(es, ", ")
}

// Set adds one threshold.
func (s *sloFlag) Set(expr string) error {
	t, err := report.ParseThreshold(expr)
	if err != nil {
		return err
	}
	*s = append(*s, t)
	return nil
}

func (f *capacityFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.from, "from", 0, "first rate tried, journeys/s (default: a quarter of the profile's peak rate, at least 10)")
	fs.Float64Var(&f.max, "max", 0, "highest rate tried, journeys/s (default: no cap; required with --live)")
	fs.Float64Var(&f.resolution, "resolution", 0.05, "stop bisecting when (high − low)/low ≤ this")
	fs.DurationVar(&f.step, "step", 0, "length of each step (default: 2 × window + 5s, at least 7s; a shorter step is refused: its growth could not be judged)")
	fs.DurationVar(&f.coolDown, "cool-down", 5*time.Second, "pause between steps so the target's queues empty (skipped with the embedded simulator, which starts afresh each step)")
	fs.Var(&f.slo, "slo", "a step's service level, threshold syntax (repeatable; replaces the default automsg.missing < 0.1% — window.not_in < 0.1% without verification — and errors < 0.1%)")
	fs.IntVar(&f.maxSteps, "max-steps", capacity.DefaultMaxSteps, "end the search after this many steps (a search it ends before it converged finds no rate)")
	fs.Float64Var(&f.maxConversations, "max-conversations", 100_000, "cap on the conversations of the whole search: a step that would pass it is not run")
	fs.DurationVar(&f.window, "window", 0, "override the AUTO_MESSAGES window")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 0, "override load.max_in_flight")
	fs.BoolVar(&f.live, "live", false, "allow targets on LivePerson itself (required for them; needs --max)")
	registerLeaveOpen(fs, &f.leaveOpen)
	fs.StringVar(&f.simURL, "sim-url", "", "drive the profile's simulator targets on this standalone simulator (lpbench sim)")
	fs.StringVar(&f.simCA, "sim-ca", "", "CA file (PEM) of a -sim-url simulator over TLS (lpbench sim -tls prints it)")
	fs.DurationVar(&f.grace, "grace", 15*time.Second, "on interrupt, how long journeys in flight may finish before they are cancelled")
	f.metrics.register(fs)
	fs.StringVar(&f.out, "out", "", "directory for capacity.json, capacity.html, summary.txt and a directory per step (default: results/<time>-capacity-<profile>)")
	registerHistory(fs, &f.history, &f.labels)
}

// cmdCapacity searches the highest sustainable rate of a profile and reports it.
func cmdCapacity(args []string, stdout, stderr io.Writer) error {
	var f capacityFlags
	fs := newFlags("capacity", "capacity [PROFILE|FILE] [flags]\n\nSearches the highest arrival rate the profile's targets sustain. PROFILE is a shipped profile or a YAML file; default smoke.\n", stderr)
	f.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if len(pos) > 1 {
		return usageError("unexpected argument %q (one profile at a time)", pos[1])
	}
	name := "smoke"
	if len(pos) == 1 {
		name = pos[0]
	}
	p, err := profiles.Open(name)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	o, err := f.options(&p)
	if err == nil {
		err = o.Validate(p)
	}
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	ep, err := f.metrics.endpoint(p.Outputs, f.set)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if err := confirmLiveSearch(p, f, o, stderr); err != nil {
		return err
	}
	db, err := openHistory(historyPath(f.history, f.set["history"], p.Outputs.History))
	if err != nil {
		return err
	}
	defer db.Close()
	dir := f.out
	if dir == "" {
		dir = filepath.Join("results", time.Now().Format("20060102-150405")+"-capacity-"+p.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError("output directory: %v", err)
	}
	o.Prepare = stepOutputs(dir, f.labels)
	o.Events = progress.CapacitySteps(stderr)
	live, err := startMetrics(ep, p.Window, &o.Run, stderr)
	if err != nil {
		return err
	}
	defer live.close()
	stop, work, release := interruptible(f.grace, stderr)
	defer release()
	c, err := capacity.Search(stop, work, p, o)
	if err := engineError("capacity", err, c == nil, stderr); err != nil {
		return err
	}
	if len(f.labels) > 0 {
		c.Labels = f.labels
	}
	if err := writeCapacity(dir, c, stdout); err != nil {
		return err
	}
	v := capacityVerdict(c)
	if db != nil {
		path := filepath.Join(dir, "capacity.json")
		v = v.withHistory(appendHistory(db, history.FromCapacity(c, engine.Version(), v.code, path), v.err, path, stderr), stderr)
	}
	// The job summary once the exit is known: it tells the one the command ends with.
	appendStepSummary(o.Run.Getenv, stderr, func(w io.Writer) error { return report.WriteCapacityMarkdownExit(w, c, v.code, v.meaning) })
	fmt.Fprintf(stderr, "lpbench: results in %s\n", dir)
	release() // an interrupt now ends the metrics' linger, not the search
	live.finish(stderr)
	return v.err
}

// options applies the flags to the profile and returns the search's options.
func (f *capacityFlags) options(p *profiles.Profile) (capacity.Options, error) {
	rf := runFlags{window: f.window, maxInFlight: f.maxInFlight, simURL: f.simURL, simCA: f.simCA}
	ro := engine.Options{Getenv: os.Getenv}
	if err := rf.apply(p, &ro); err != nil {
		return capacity.Options{}, err
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"-from", f.from}, {"-max", f.max}, {"-max-conversations", f.maxConversations}} {
		if v.v < 0 || math.IsNaN(v.v) || math.IsInf(v.v, 0) {
			return capacity.Options{}, fmt.Errorf("%s must be a finite number ≥ 0, got %g", v.name, v.v)
		}
	}
	if f.maxSteps < 1 {
		return capacity.Options{}, fmt.Errorf("-max-steps must be ≥ 1, got %d", f.maxSteps)
	}
	cool := f.coolDown
	if cool == 0 {
		cool = -1 // a zero cool-down asked for: none (the engine's zero means its default)
	}
	o := capacity.Options{From: f.from, Max: f.max, Resolution: f.resolution, Step: f.step, CoolDown: cool,
		SLO: f.slo, MaxSteps: f.maxSteps, MaxConversations: f.maxConversations, Run: ro}
	return o, nil
}

// stepOutputs gives each step a directory step-KK with its interval log, and writes its
// reports, with the search's labels, when it ends.
func stepOutputs(dir string, labels labelFlag) func(int, float64, *engine.Options) (func(*report.Result) (string, error), error) {
	return func(k int, _ float64, o *engine.Options) (func(*report.Result) (string, error), error) {
		rel := fmt.Sprintf("step-%02d", k)
		sdir := filepath.Join(dir, rel)
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			return nil, fmt.Errorf("output directory: %w", err)
		}
		hlog, err := os.Create(filepath.Join(sdir, "run.hlog"))
		if err != nil {
			return nil, fmt.Errorf("output directory: %w", err)
		}
		o.Hlog = hlog
		jl, err := openJournal(sdir, o)
		if err != nil {
			hlog.Close()
			return nil, err
		}
		return func(res *report.Result) (string, error) {
			if err := jl.Close(); err != nil {
				return "", fmt.Errorf("the journal: %w", err)
			}
			if err := hlog.Close(); err != nil {
				return "", err
			}
			if len(labels) > 0 {
				res.Labels = labels
			}
			if err := report.WriteRunOutputs(sdir, res); err != nil {
				return "", err
			}
			return filepath.ToSlash(filepath.Join(rel, "result.json")), nil
		}, nil
	}
}

// writeCapacity writes capacity.json, capacity.html and summary.txt into dir, and the summary
// to stdout.
func writeCapacity(dir string, c *report.Capacity, stdout io.Writer) error {
	for _, out := range []struct {
		name  string
		write func(io.Writer, *report.Capacity) error
	}{
		{"capacity.json", report.WriteCapacityJSON},
		{"capacity.html", report.WriteCapacityHTML},
		{"summary.txt", report.WriteCapacitySummary},
	} {
		if err := report.WriteFileAtomic(filepath.Join(dir, out.name), func(w io.Writer) error { return out.write(w, c) }); err != nil {
			return err
		}
	}
	return report.WriteCapacitySummary(stdout, c)
}

// capacityVerdict returns the verdict of a search (report.Capacity.Exit decides it); a step that
// could not run was printed already.
func capacityVerdict(c *report.Capacity) verdict {
	code, meaning := c.Exit()
	return newVerdict(code, meaning, c.Error != "")
}

// confirmLiveSearch refuses a search on LivePerson itself unless --live confirms it, --max caps
// it and the credentials are set, and prints the worst case of the search's plan.
func confirmLiveSearch(p profiles.Profile, f capacityFlags, o capacity.Options, stderr io.Writer) error {
	if !p.HasLive() {
		return nil
	}
	if !f.live {
		return usageError("profile %s drives LivePerson itself (targets: %s); add --live to confirm. Nothing was sent.", p.Name, liveNames(p))
	}
	if err := checkLeaveOpen(p, f.leaveOpen); err != nil {
		return err
	}
	if f.max == 0 {
		return usageError("a capacity search on LivePerson itself needs --max, the highest rate it may try. Nothing was sent.")
	}
	if err := p.CheckLive(os.Getenv); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	steps, conv, d := capacity.WorstCase(p, o)
	fmt.Fprintf(stderr, "lpbench: live capacity search of profile %s\n", p.Name)
	for _, t := range p.Targets {
		fmt.Fprintf(stderr, "  target %-12s account %-12s %s (%s)\n", t.Name, t.Account, t.CSDSURL(), t.Kind())
	}
	fmt.Fprintf(stderr, "  worst case: %d steps, about %.0f conversations (cap %.0f), %s\n", steps, conv, f.maxConversations, d.Round(time.Second))
	return nil
}
