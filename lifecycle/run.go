package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/rundir"
)

// Run is lpbench run inside the lifecycle: one run of the profile.
type Run struct {
	Options engine.Options
	// Labels label the result (--label); none leaves the result's as they are.
	Labels map[string]string
}

func (j *Run) plan(c *Config) (profiles.RunPlan, error) { return c.Profile.Plan(), nil }

func (j *Run) engine() *engine.Options { return &j.Options }

func (j *Run) confirmLive() error { return nil }

func (j *Run) open(c *Config) (func(), error) {
	closeFiles, err := openRunFiles(c.Dir, &j.Options)
	if err != nil {
		return nil, err
	}
	return func() {
		if err := closeFiles(); err != nil {
			fmt.Fprintf(c.Stderr, "lpbench: %v\n", err)
		}
	}, nil
}

func (j *Run) run(c *Config, stop, work context.Context) (*Outcome, error) {
	stderr := c.Stderr
	j.Options.OnFail = func(err error) { fmt.Fprintf(stderr, "\nlpbench: %v\nlpbench: stopping the run\n", err) }
	j.Options.OnAbort = func() {
		fmt.Fprintln(stderr, "\nlpbench: a threshold with abort_on_fail failed: stopping the arrivals")
	}
	res, err := engine.Run(stop, work, c.Profile, j.Options)
	if err := engineError("run", err, res == nil, stderr); err != nil {
		return nil, err
	}
	if len(j.Labels) > 0 {
		res.Labels = j.Labels
	}
	return finishRun(res, c.Dir, c.Stdout)
}

// finishRun writes the outputs of a finished run and its summary, and returns its outcome; its
// error is that of writing the outputs.
func finishRun(res *report.Result, dir string, stdout io.Writer) (*Outcome, error) {
	// The files first: what was measured is kept even if stdout fails.
	if err := render.WriteRunOutputs(dir, res); err != nil {
		return nil, err
	}
	if err := render.Summary(res)(stdout); err != nil {
		return nil, fmt.Errorf("writing the summary: %w", err)
	}
	return RunOutcome(res, filepath.Join(dir, "result.json")), nil
}

// openRunFiles opens a run's interval log and journal in dir (rundir.Open) for the engine's
// options o, and returns what closes them.
func openRunFiles(dir string, o *engine.Options) (close func() error, err error) {
	f, err := rundir.Open(dir)
	if err != nil {
		return nil, dirError(err)
	}
	o.Hlog, o.Journal = f.Hlog, f.Journal
	return f.Close, nil
}

// dirError is a directory rundir refused as a usage error (exit 2).
func dirError(err error) error {
	var ue *rundir.UsageError
	if errors.As(err, &ue) {
		return exitcode.AsUsage(err)
	}
	return err
}
