package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/interrupt"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/rundir"
)

// job is what a command that runs a profile (run, capacity) does inside the lifecycle they
// share (lifecycle): the rest — the plan, the live confirmation, the history, the metrics
// endpoint, the signals, the verdict, the job summary, the linger — is the lifecycle's.
type job interface {
	// plan returns what the job will do, computed before anything is sent.
	plan() (profiles.RunPlan, error)
	// confirmLive refuses a live job for what it needs beyond --live (capacity: --max).
	confirmLive() error
	// open prepares the outputs in dir, refusing before any file is opened in it; close closes
	// what it opened.
	open(dir string) (close func(), err error)
	// run runs the engine until stop (no new arrivals) and work (journeys cancelled) end, and
	// writes the outputs and the summary; nil outcome: the error is the command's.
	run(stop, work context.Context) (*outcome, error)
}

// outcome is what a finished job tells the lifecycle.
type outcome struct {
	verdict  exitcode.Verdict
	result   string                                      // the result file (history)
	record   func(exitcode.Code) (*history.Run, error)   // the history's run
	markdown func(exitcode.Code, string) render.Reporter // the job summary
}

// lifecycle runs a parsed command that runs profile p: --plan, the live confirmation, the
// history, the outputs, the metrics endpoint, the signals, the job (j), its verdict, the
// history append, the job summary and the endpoint's linger. o are the engine options of the
// job's runs. It returns the command's error.
func lifecycle(name string, c *commonFlags, p profiles.Profile, o *engine.Options, j job, defaultDir string, stdout, stderr io.Writer) error {
	ep, err := c.metrics.endpoint(p.Outputs, c.set)
	if err != nil {
		return usageErr(err)
	}
	if c.plan {
		rp, err := j.plan()
		if err != nil {
			return usageErr(err)
		}
		rp.SimAt(o.SimURL)
		return render.Plan(fmt.Sprintf("plan of %s of profile %s (--plan: nothing is sent)", name, p.Name), rp)(stdout)
	}
	if err := confirmLive(name, p, c, j, stderr); err != nil {
		return err
	}
	db, err := openHistory(history.PathFor(c.history, c.set["history"], os.Getenv, p.Outputs.History))
	if err != nil {
		return err
	}
	defer db.Close()
	dir := cmp.Or(c.out, defaultDir)
	closeOutputs, err := j.open(dir)
	if err != nil {
		return err
	}
	defer closeOutputs()
	live, err := startMetrics(ep, p.Window, o, stderr)
	if err != nil {
		return err
	}
	defer live.Close()
	stop, work, release := interrupt.Contexts(c.grace, func() {
		fmt.Fprintf(stderr, "\nlpbench: stopping arrivals; journeys in flight have %s to finish (interrupt again to cancel them)\n", c.grace)
	})
	defer release()
	out, err := j.run(stop, work)
	if err != nil {
		return err
	}
	v := out.recorded(db, stderr)
	// The job summary once the exit is known: it tells the one the command ends with.
	appendStepSummary(o.Getenv, stderr, out.markdown(v.Code, v.Meaning))
	fmt.Fprintf(stderr, "lpbench: results in %s\n", dir)
	release() // an interrupt now ends the metrics' linger, not the run
	finishMetrics(live, stderr)
	return v.Exit()
}

// recorded appends the outcome to the history db, if any, and returns the verdict the command
// ends with: a failed append never hides the run's own 1, 3, 4 or 130 (exitcode.Verdict).
func (out *outcome) recorded(db *history.DB, stderr io.Writer) exitcode.Verdict {
	v := out.verdict
	if db == nil {
		return v
	}
	r, err := out.record(v.Code)
	if err == nil {
		err = appendHistory(db, r, out.result, stderr)
	} else {
		err = fmt.Errorf("the run is not in the history: %w", err)
	}
	v, warning := v.WithHistory(err)
	if warning != "" {
		fmt.Fprintf(stderr, "lpbench: %s\n", warning)
	}
	return v
}

// confirmLive refuses a profile that drives LivePerson itself unless --live confirms it, it
// closes its conversations (or --leave-open says they are to stay open), the job has what it
// needs and the credentials are set; and shows the plan of a confirmed one.
func confirmLive(name string, p profiles.Profile, c *commonFlags, j job, stderr io.Writer) error {
	if !p.HasLive() {
		return nil
	}
	if err := p.ConfirmLive(c.live, c.leaveOpen); err != nil {
		return usageErr(err)
	}
	if err := j.confirmLive(); err != nil {
		return err
	}
	if err := p.CheckLive(os.Getenv); err != nil {
		return usageErr(err)
	}
	rp, err := j.plan()
	if err != nil {
		return usageErr(err)
	}
	return render.Plan(fmt.Sprintf("lpbench: live %s of profile %s", name, p.Name), rp)(stderr)
}

// openHistory opens (creating) the history file of a run before it starts, so that a file that
// is not a history stops the run before anything is sent; nil for none.
func openHistory(path string) (*history.DB, error) {
	if path == "" {
		return nil, nil
	}
	db, err := history.Open(path, true)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return db, nil
}

// appendHistory adds a finished run (or search) to the history with its result file, and
// closes the history; its error says the run is not in the history.
func appendHistory(db *history.DB, r *history.Run, resultPath string, stderr io.Writer) error {
	defer db.Close()
	if err := db.AppendFile(context.Background(), r, resultPath); err != nil {
		return fmt.Errorf("the run is not in the history: %w", err)
	}
	fmt.Fprintf(stderr, "lpbench: appended to history %s as run #%d\n", db.Path(), r.Seq)
	return nil
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
		return usageErr(err)
	}
	return err
}

// engineError sorts an error the engine returned with its result: the profile's or the options'
// fault (an *engine.InputError) is a usage error, exit 2; without a result it is the command's
// error; with one, it is reported on stderr and the result stands.
func engineError(cmd string, err error, noResult bool, stderr io.Writer) error {
	var in *engine.InputError
	switch {
	case errors.As(err, &in):
		return usageErr(err)
	case err != nil && noResult:
		return err
	case err != nil:
		fmt.Fprintf(stderr, "lpbench %s: %v\n", cmd, err)
	}
	return nil
}

// appendStepSummary appends what write renders to the job summary $GITHUB_STEP_SUMMARY names,
// if any (render.AppendJobSummary). A failure is a warning: the command's own files are written
// already, and a summary for the CI page is not worth losing its exit code for.
func appendStepSummary(getenv func(string) string, stderr io.Writer, write render.Reporter) {
	if path, err := render.AppendJobSummary(getenv, write); err != nil {
		fmt.Fprintf(stderr, "lpbench: warning: the job summary was not written to $%s (%s): %v\n", render.StepSummaryEnv, path, err)
	}
}
