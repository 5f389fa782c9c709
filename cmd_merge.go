package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/lifecycle"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/validity"
)

// cmdMerge adds up the results of shards and evaluates the profile's thresholds on the sum. It
// refuses results that are not the shards of one run (report.CheckShards), and a missing shard
// unless --allow-partial. The shards' measurement checks are kept, each naming its shard, and
// those of the sum are added (validity.JudgeMerged). The exit is the merged result's, as for a run
// (report.Result.Exit): 130 when a shard was interrupted, 1 when no journey succeeded, 4 when a
// check failed, 3 when a threshold did. With --history (or $LPBENCH_HISTORY) the merged run is
// appended to the history as a whole run, as run appends its own.
func cmdMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge", "merge SHARD.json... -o MERGED.json [--allow-partial] [--history FILE]", stderr)
	out := fs.String("o", "", "write the merged result file here")
	partial := fs.Bool("allow-partial", false, "merge even when shards are missing; the merged result says which (partial)")
	hist := fs.String("history", "", "append the merged run to this history file, SQLite, created if need be (default: $LPBENCH_HISTORY)")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 || *out == "" {
		return flagError(fs, "name the shards' result files and -o")
	}
	m, err := report.MergeFiles(files, *partial)
	if err == nil {
		err = validity.JudgeMerged(m, files[0])
	}
	if err != nil {
		return usageError("%v", err)
	}
	histSet := false
	fs.Visit(func(fl *flag.Flag) { histSet = histSet || fl.Name == "history" })
	db, err := lifecycle.OpenHistory(history.PathFor(*hist, histSet, os.Getenv, ""))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := report.WriteFileAtomic(*out, func(w io.Writer) error { return report.WriteJSON(w, m) }); err != nil {
		return err
	}
	if err := render.Summary(m)(stdout); err != nil {
		return err
	}
	for _, c := range m.Checks {
		if c.Failed() {
			fmt.Fprintf(stderr, "lpbench merge: measurement not valid: %s\n", c.Line())
		}
	}
	o := lifecycle.RunOutcome(m, *out)
	v := o.Recorded(db, stderr) // the exit the summary tells (exitcode.Run)
	lifecycle.AppendJobSummary(os.Getenv, stderr, o.Markdown(v.Code, v.Meaning))
	return v.Exit()
}
