package lifecycle

import (
	"context"
	"path/filepath"

	"github.com/lpbench/lpbench/capacity"
	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/rundir"
)

// Capacity is lpbench capacity inside the lifecycle: a search of the highest sustainable rate,
// each step a run with a directory of its own.
type Capacity struct {
	Options capacity.Options
	// Labels label the search and each step's result (--label).
	Labels map[string]string
}

func (j *Capacity) plan(c *Config) (profiles.RunPlan, error) {
	return capacity.Plan(c.Profile, j.Options)
}

func (j *Capacity) engine() *engine.Options { return &j.Options.Run }

func (j *Capacity) confirmLive() error {
	if j.Options.Max == 0 {
		return exitcode.Usagef("a capacity search on LivePerson itself needs --max, the highest rate it may try. Nothing was sent.")
	}
	return nil
}

// open makes the search's directory, refusing one whose steps' journals record conversations
// an earlier search may have left open; each step opens its own files (stepOutputs).
func (j *Capacity) open(c *Config) (func(), error) {
	if err := rundir.Prepare(c.Dir); err != nil {
		return nil, dirError(err)
	}
	j.Options.Prepare = j.stepOutputs(c.Dir)
	return func() {}, nil
}

func (j *Capacity) run(c *Config, stop, work context.Context) (*Outcome, error) {
	s, err := capacity.Search(stop, work, c.Profile, j.Options)
	if err := engineError("capacity", err, s == nil, c.Stderr); err != nil {
		return nil, err
	}
	if len(j.Labels) > 0 {
		s.Labels = j.Labels
	}
	// The files first: what was measured is kept even if stdout fails.
	if err := render.WriteCapacityOutputs(c.Dir, s); err != nil {
		return nil, err
	}
	if err := render.CapacitySummary(s)(c.Stdout); err != nil {
		return nil, err
	}
	code, meaning := exitcode.Capacity(s)
	path := filepath.Join(c.Dir, "capacity.json")
	return &Outcome{Verdict: exitcode.Decision{Code: code, Meaning: meaning, Said: s.Error != ""}, Result: path,
		Record: func(code exitcode.Code) (*history.Run, error) {
			return history.FromCapacity(s, engine.Version(), int(code), path), nil
		},
		Markdown: func(code exitcode.Code, meaning string) render.Reporter {
			return render.CapacityMarkdownExit(s, code, meaning)
		}}, nil
}

// stepOutputs gives step k of the search in dir a directory step-KK with its interval log and
// journal, and writes its reports, with the search's labels, when it ends.
func (j *Capacity) stepOutputs(dir string) func(int, float64, *engine.Options) (func(*report.Result) (string, error), error) {
	return func(k int, _ float64, o *engine.Options) (func(*report.Result) (string, error), error) {
		rel := rundir.Step(k)
		sdir := filepath.Join(dir, rel)
		closeFiles, err := openRunFiles(sdir, o)
		if err != nil {
			return nil, err
		}
		return func(res *report.Result) (string, error) {
			if err := closeFiles(); err != nil || res == nil {
				return "", err
			}
			if len(j.Labels) > 0 {
				res.Labels = j.Labels
			}
			if err := render.WriteRunOutputs(sdir, res); err != nil {
				return "", err
			}
			return filepath.ToSlash(filepath.Join(rel, "result.json")), nil
		}, nil
	}
}
