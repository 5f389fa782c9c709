// Package lifecycle owns what the commands that measure (lpbench run, lpbench capacity) share
// around their engine: --plan, the live confirmation, the history opened before anything is
// sent and appended after, the output directory, the live metrics endpoint and its linger, the
// two-stage interrupt, the verdict, and the CI job summary, in that order (Measure). A Job is
// what differs: a run (Run) or a capacity search (Capacity).
//
// It knows neither the command line (a command parses its flags into a Config and a Job) nor
// how an error becomes the process's exit (it returns exitcode errors, which main turns into
// the exit). What it writes to the user, the plan, the summaries and the job summary, comes
// from render; its own lines are the "lpbench: …" notes on stderr.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/interrupt"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/prom"
	"github.com/lpbench/lpbench/render"
)

// Config is a measuring command's lifecycle as its command line asked for it.
type Config struct {
	// Name says what the job is in the plan's title: "run", "capacity search".
	Name    string
	Profile profiles.Profile
	// Plan prints the plan and sends nothing (--plan).
	Plan bool
	// Live confirms a profile that drives LivePerson itself; LeaveOpen accepts that its
	// journeys leave their conversations open.
	Live, LeaveOpen bool
	// History is the history file the job is appended to, "" for none (history.PathFor).
	History string
	// Dir is the output directory.
	Dir string
	// Grace is how long journeys in flight may finish after an interrupt.
	Grace   time.Duration
	Metrics prom.Endpoint
	Getenv  func(string) string
	Stdout  io.Writer
	Stderr  io.Writer
}

// Job is what a measuring command does inside the lifecycle: a *Run or a *Capacity.
type Job interface {
	// plan returns what the job will do, computed before anything is sent.
	plan(c *Config) (profiles.RunPlan, error)
	// engine returns the engine options of the job's runs.
	engine() *engine.Options
	// confirmLive refuses a live job for what it needs beyond --live (a search: --max).
	confirmLive() error
	// open prepares the outputs in c.Dir, refusing before any file is opened in it; close
	// closes what it opened.
	open(c *Config) (close func(), err error)
	// run runs the engine until stop (no new arrivals) and work (journeys cancelled) end, and
	// writes the outputs and the summary; nil outcome: the error is the command's.
	run(c *Config, stop, work context.Context) (*Outcome, error)
}

// Measure runs job j as c says: --plan, the live confirmation, the history, the outputs, the
// metrics endpoint, the signals, the job, its verdict, the history append, the job summary and
// the endpoint's linger. It returns the command's error (exitcode.Error carries its code).
func Measure(c *Config, j Job) error {
	o := j.engine()
	if c.Plan {
		rp, err := j.plan(c)
		if err != nil {
			return exitcode.AsUsage(err)
		}
		rp.SimAt(o.SimURL)
		return render.Plan(fmt.Sprintf("plan of %s of profile %s (--plan: nothing is sent)", c.Name, c.Profile.Name), rp)(c.Stdout)
	}
	if err := confirmLive(c, j); err != nil {
		return err
	}
	db, err := OpenHistory(c.History)
	if err != nil {
		return err
	}
	defer db.Close()
	closeOutputs, err := j.open(c)
	if err != nil {
		return err
	}
	defer closeOutputs()
	live, err := startMetrics(c.Metrics, c.Profile.Window, o, c.Stderr)
	if err != nil {
		return err
	}
	defer live.Close()
	stop, work, release := interrupt.Contexts(c.Grace, func() {
		fmt.Fprintf(c.Stderr, "\nlpbench: stopping arrivals; journeys in flight have %s to finish (interrupt again to cancel them)\n", c.Grace)
	})
	defer release()
	out, err := j.run(c, stop, work)
	if err != nil {
		return err
	}
	v := out.Recorded(db, c.Stderr)
	// The job summary once the exit is known: it tells the one the command ends with.
	AppendJobSummary(c.Getenv, c.Stderr, out.Markdown(v.Code, v.Meaning))
	fmt.Fprintf(c.Stderr, "lpbench: results in %s\n", c.Dir)
	release() // an interrupt now ends the metrics' linger, not the run
	finishMetrics(live, c.Stderr)
	return v.Exit()
}

// confirmLive refuses a profile that drives LivePerson itself unless --live confirms it, it
// closes its conversations (or --leave-open says they are to stay open), the job has what it
// needs and the credentials are set; and shows the plan of a confirmed one.
func confirmLive(c *Config, j Job) error {
	p := &c.Profile
	if !p.HasLive() {
		return nil
	}
	if err := p.ConfirmLive(c.Live, c.LeaveOpen); err != nil {
		return exitcode.AsUsage(err)
	}
	if err := j.confirmLive(); err != nil {
		return err
	}
	if err := p.CheckLive(c.Getenv); err != nil {
		return exitcode.AsUsage(err)
	}
	rp, err := j.plan(c)
	if err != nil {
		return exitcode.AsUsage(err)
	}
	return render.Plan(fmt.Sprintf("lpbench: live %s of profile %s", c.Name, p.Name), rp)(c.Stderr)
}

// engineError sorts an error the engine returned with its result: the profile's or the options'
// fault (an *engine.InputError) is a usage error, exit 2; without a result it is the command's
// error; with one, it is reported on stderr and the result stands.
func engineError(cmd string, err error, noResult bool, stderr io.Writer) error {
	var in *engine.InputError
	switch {
	case errors.As(err, &in):
		return exitcode.AsUsage(err)
	case err != nil && noResult:
		return err
	case err != nil:
		fmt.Fprintf(stderr, "lpbench %s: %v\n", cmd, err)
	}
	return nil
}
