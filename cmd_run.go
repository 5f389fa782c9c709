package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/lifecycle"
	"github.com/lpbench/lpbench/profiles"
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
	j := &lifecycle.Run{Options: engine.Options{Getenv: os.Getenv}, Labels: f.labels}
	if err := f.apply(&p, &j.Options); err != nil {
		return usageErr(err)
	}
	if !f.plan { // --plan shows the same predictions as notes of the plan
		for _, w := range p.SupportWarnings(j.Options.Shard, j.Options.Shards) {
			fmt.Fprintf(stderr, "lpbench: warning: %s\n", w)
		}
	}
	j.Options.Events = progress.NewConsole(stderr, f.progressMode()).Event
	dir := filepath.Join("results", time.Now().Format("20060102-150405")+"-"+p.Name)
	c, err := f.config("run", p, cmp.Or(p.Outputs.Dir, dir), stdout, stderr)
	if err != nil {
		return err
	}
	return lifecycle.Measure(c, j)
}

// openProfile parses a run's or a search's command line and opens its profile (default smoke).
func openProfile(fs *flag.FlagSet, args []string, c *commonFlags) (profiles.Profile, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return profiles.Profile{}, err
	}
	c.visited(fs)
	name, err := profileArg(fs, pos)
	if err != nil {
		return profiles.Profile{}, err
	}
	p, err := profiles.Open(name)
	if err != nil {
		return p, usageErr(err)
	}
	return p, nil
}

// apply puts the command-line overrides into the profile and the run options.
func (f *runFlags) apply(p *profiles.Profile, o *engine.Options) error {
	if err := f.check(); err != nil {
		return err
	}
	ov := f.override()
	ov.Rate, ov.Duration = f.rate, f.duration
	if f.set["webhook-relay"] {
		ov.Relay = &f.relay
	}
	if err := ov.Apply(p, "--webhook-relay"); err != nil {
		return err
	}
	o.SimURL, o.SimCA = f.simURL, f.simCA
	if f.shard != "" || f.set["shard"] {
		k, n, err := engine.ParseShard(f.shard)
		if err != nil {
			return fmt.Errorf("--shard %w", err)
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

// applyRun sets the run id (flag, else $LPBENCH_RUN_ID) and the start barrier, read at now.
func (f *runFlags) applyRun(o *engine.Options, now time.Time) error {
	id := f.runID
	if !f.set["run-id"] {
		id = os.Getenv("LPBENCH_RUN_ID")
	}
	if f.set["run-id"] || id != "" {
		if err := engine.CheckRunID(id); err != nil {
			return fmt.Errorf("--run-id (or $LPBENCH_RUN_ID) %w", err)
		}
	}
	o.RunID = id
	if f.startAt != "" || f.set["start-at"] {
		t, err := engine.ParseStartAt(f.startAt, now)
		if err != nil {
			return fmt.Errorf("--start-at %w", err)
		}
		o.StartAt = t
	}
	return nil
}
