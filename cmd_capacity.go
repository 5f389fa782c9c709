package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/lpbench/lpbench/capacity"
	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/lifecycle"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/ui/progress"
)

// capacityFlags are the flags of lpbench capacity.
type capacityFlags struct {
	commonFlags
	from, max, resolution float64
	step, coolDown        time.Duration
	maxSteps              int
	maxConversations      float64
	slo                   report.ThresholdList
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
	f.commonFlags.register(fs, "directory for capacity.json, capacity.html, summary.txt and a directory per step (default: results/<time>-capacity-<profile>)")
}

// cmdCapacity searches the highest sustainable rate of a profile (lifecycle) and reports it.
func cmdCapacity(args []string, stdout, stderr io.Writer) error {
	var f capacityFlags
	fs := newFlags("capacity", "capacity [PROFILE|FILE] [flags]\n\nSearches the highest arrival rate the profile's targets sustain. PROFILE is a shipped profile or a YAML file; default smoke.\n", stderr)
	f.register(fs)
	p, err := openProfile(fs, args, &f.commonFlags)
	if err != nil {
		return err
	}
	j := &lifecycle.Capacity{Labels: f.labels}
	if j.Options, err = f.options(&p); err == nil {
		err = j.Options.Validate(p)
	}
	if err != nil {
		return usageErr(err)
	}
	if !f.noProgress {
		j.Options.Events = progress.CapacitySteps(stderr) // with --no-progress, the step table at the end
	}
	dir := filepath.Join("results", time.Now().Format("20060102-150405")+"-capacity-"+p.Name)
	c, err := f.config("capacity search", p, dir, stdout, stderr)
	if err != nil {
		return err
	}
	return lifecycle.Measure(c, j)
}

// options applies the flags to the profile and returns the search's options.
func (f *capacityFlags) options(p *profiles.Profile) (capacity.Options, error) {
	if err := f.check(); err != nil {
		return capacity.Options{}, err
	}
	if err := f.override().Apply(p, ""); err != nil {
		return capacity.Options{}, err
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"--from", f.from}, {"--max", f.max}, {"--max-conversations", f.maxConversations}} {
		if v.v < 0 || math.IsNaN(v.v) || math.IsInf(v.v, 0) {
			return capacity.Options{}, fmt.Errorf("%s must be a finite number ≥ 0, got %g", v.name, v.v)
		}
	}
	if f.maxSteps < 1 {
		return capacity.Options{}, fmt.Errorf("--max-steps must be ≥ 1, got %d", f.maxSteps)
	}
	cool := f.coolDown
	if cool == 0 {
		cool = -1 // a zero cool-down asked for: none (the engine's zero means its default)
	}
	ro := engine.Options{Getenv: os.Getenv, SimURL: f.simURL, SimCA: f.simCA}
	return capacity.Options{From: f.from, Max: f.max, Resolution: f.resolution, Step: f.step, CoolDown: cool,
		SLO: f.slo, MaxSteps: f.maxSteps, MaxConversations: f.maxConversations, Run: ro}, nil
}
