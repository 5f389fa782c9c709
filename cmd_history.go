package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/lifecycle"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
)

const historyUsage = `history list|show|trend|check FILE [flags]

  list FILE                 the runs, oldest first
  show FILE [RUN]           one run (default the newest): its facts and metrics; -result writes its result file
  trend FILE                each metric per target over the last -n comparable runs, with the baseline
                            band each was judged against and every flagged change; -format text|html
  check FILE                judge the newest run (or -run RUN) against the previous -baseline comparable
                            valid runs: exit 3 on a regression (a metric worse, or missing), 4 when the
                            run's own checks failed or none of its metrics could be judged, 2 when the
                            runs before it differ in labels (-ignore-label); 0 also while the history is
                            too young to judge (it says NOT JUDGED)

RUN is a run's number (12 or #12) or its run id. Every command filters by -profile, -target and -label
(check: -label chooses the run judged; its baseline is the runs comparable with it). Runs are
comparable when they have the same kind, profile, shard and labels; -ignore-label KEY leaves out a
label that changes every run (a commit id).
`

// historyOptions are the flags of the history commands.
type historyOptions struct {
	profile, target, run, format, out, result string
	labels                                    history.Labels
	ignore                                    history.LabelKeys
	last, baseline                            int
	verbose                                   bool
	minEffect                                 history.Percent
	minDuration                               time.Duration
	// stderr and getenv are the command's: check appends its verdict to $GITHUB_STEP_SUMMARY.
	stderr io.Writer
	getenv func(string) string
}

func (o *historyOptions) register(fs *flag.FlagSet, sub string) {
	fs.StringVar(&o.profile, "profile", "", "only runs of this profile")
	fs.StringVar(&o.target, "target", "", "only this target's metrics")
	fs.Var(&o.labels, "label", "only runs with this label, key=value (repeatable)")
	switch sub {
	case "list":
		fs.IntVar(&o.last, "n", 0, "only the last N runs (default: all)")
	case "show":
		fs.StringVar(&o.result, "result", "", "write the run's result file (result.json or capacity.json), as appended, to this path")
	case "trend":
		fs.IntVar(&o.last, "n", 20, "the last N comparable runs")
		fs.StringVar(&o.format, "format", "text", "text or html")
		fs.StringVar(&o.out, "o", "", "write to this file instead of stdout")
	}
	if sub == "trend" || sub == "check" {
		o.minEffect = history.DefaultMinEffect
		fs.IntVar(&o.baseline, "baseline", history.DefaultBaseline, "judge against the previous K comparable valid runs")
		fs.Var(&o.minEffect, "min-effect", "the smallest change that can be a regression, a percentage")
		fs.DurationVar(&o.minDuration, "min-duration", history.DefaultMinDuration, "the smallest change of a duration that can be a regression")
	}
	if sub == "trend" || sub == "check" {
		fs.Var(&o.ignore, "ignore-label", "a label KEY that does not make runs different, e.g. a commit id (repeatable)")
	}
	if sub == "check" {
		fs.BoolVar(&o.verbose, "v", false, "list every metric judged, with its band, and every one not judged, with why")
		fs.StringVar(&o.run, "run", "", "judge this run (number or run id) instead of the newest")
	}
}

func (o *historyOptions) filter() history.Filter {
	return history.Filter{Profile: o.profile, Target: o.target, Labels: o.labels}
}

func (o *historyOptions) check() history.CheckOptions {
	return history.CheckOptions{Baseline: o.baseline, MinEffect: float64(o.minEffect), MinDuration: o.minDuration, IgnoreLabels: o.ignore}
}

// cmdHistory reads a history file: list, show, trend or check.
func cmdHistory(args []string, stdout, stderr io.Writer) error {
	subs := map[string]func(*history.DB, []*history.Run, *historyOptions, string, io.Writer) error{
		"list": historyList, "show": historyShow, "trend": historyTrend, "check": historyCheck,
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stderr, "usage: lpbench "+historyUsage)
		return nil
	}
	if len(args) == 0 || subs[args[0]] == nil {
		return usageError("want list, show, trend or check, then the history file\nrun 'lpbench history -h'")
	}
	sub := args[0]
	o := historyOptions{stderr: stderr, getenv: os.Getenv}
	fs := newFlags("history "+sub, "history "+sub+" FILE [flags]", stderr)
	o.register(fs, sub)
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return flagError(fs, "history %s: which history file?", sub)
	}
	if (sub == "trend" && o.last < 1) || o.last < 0 {
		return usageError("history %s: -n %d: want a number of runs, at least 1", sub, o.last)
	}
	if err := o.check().Validate(); err != nil && (sub == "trend" || sub == "check") {
		return usageError("history %s: %v", sub, err)
	}
	db, err := history.Open(pos[0], false)
	if err != nil {
		return usageError("%v", err)
	}
	defer db.Close()
	runs, err := db.Runs(context.Background(), o.filter())
	if err != nil {
		return err
	}
	takes, ref := 0, "" // show takes RUN after the file; the others nothing
	if sub == "show" {
		takes = 1
	}
	if extra := pos[1:]; len(extra) > takes {
		return usageError("history %s: unexpected argument %q", sub, extra[takes])
	} else if len(extra) == 1 {
		ref = extra[0]
	}
	return subs[sub](db, runs, &o, ref, stdout)
}

// historyList prints one line per run.
func historyList(_ *history.DB, runs []*history.Run, o *historyOptions, _ string, stdout io.Writer) error {
	if o.last > 0 && len(runs) > o.last {
		runs = runs[len(runs)-o.last:]
	}
	return render.HistoryList(runs, o.filter().String())(stdout)
}

// historyShow prints one run and its metrics; -result writes its result file.
func historyShow(db *history.DB, runs []*history.Run, o *historyOptions, ref string, stdout io.Writer) error {
	r, err := history.Find(runs, ref)
	if err != nil {
		return usageError("history show: %v", err)
	}
	if err := render.HistoryRun(r)(stdout); err != nil {
		return err
	}
	if o.result == "" {
		return nil
	}
	b, err := db.ResultFile(context.Background(), r.Seq)
	if err != nil {
		return err
	}
	return report.WriteFileAtomic(o.result, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// historyTrend writes the trend of the runs comparable with the newest one that matches.
func historyTrend(_ *history.DB, runs []*history.Run, o *historyOptions, _ string, stdout io.Writer) error {
	write := render.TrendText
	switch o.format {
	case "text":
	case "html":
		write = render.TrendHTML
	default:
		return usageError("history trend: -format wants text or html, got %q", o.format)
	}
	series, _ := history.Series(runs, nil, o.ignore)
	t := history.BuildTrend(series, o.last, o.check(), o.filter())
	if o.out == "" {
		return write(t)(stdout)
	}
	return report.WriteFileAtomic(o.out, write(t))
}

// historyCheck judges a run against its baseline (history.DB.CheckRun); with
// $GITHUB_STEP_SUMMARY set, the verdict is appended to that file as markdown (whatever the exit
// code), so that the job's page shows the gate.
func historyCheck(db *history.DB, _ []*history.Run, o *historyOptions, _ string, stdout io.Writer) error {
	v, err := db.CheckRun(context.Background(), o.filter(), o.run, o.check())
	if history.IsChoice(err) {
		return usageError("history check: %v", err)
	} else if err != nil {
		return err
	}
	if err = render.HistoryVerdict(&v, o.verbose)(stdout); err == nil {
		err = exitcode.HistoryCheckExit(&v)
	}
	lifecycle.AppendJobSummary(o.getenv, o.stderr, render.HistoryVerdictMarkdown(&v))
	return err
}
