package main

import (
	"flag"
	"fmt"
	"io"
	"os"

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
		fs.Usage()
		return usageError("name the shards' result files and -o")
	}
	m, err := readShards(files, *partial)
	if err != nil {
		return err
	}
	histSet := false
	fs.Visit(func(fl *flag.Flag) { histSet = histSet || fl.Name == "history" })
	db, err := openHistory(historyPath(*hist, histSet, ""))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := report.WriteFileAtomic(*out, func(w io.Writer) error { return report.WriteJSON(w, m) }); err != nil {
		return err
	}
	if err := report.WriteSummary(stdout, m); err != nil {
		return err
	}
	for _, c := range m.Checks {
		if c.Failed() {
			fmt.Fprintf(stderr, "lpbench merge: measurement not valid: %s\n", c.Line())
		}
	}
	v := recordRun(db, m, resultVerdict(m), *out, stderr) // the exit the summary tells (report.Result.Exit)
	appendStepSummary(os.Getenv, stderr, func(w io.Writer) error { return report.WriteMarkdownExit(w, m, v.code, v.meaning) })
	return v.err
}

// readShards reads the shards' result files, checks they are the shards of one run, and
// returns their sum, judged (validity.JudgeMerged).
func readShards(files []string, partial bool) (*report.Result, error) {
	var rs []*report.Result
	for _, f := range files {
		r, err := report.ReadFile(f)
		if err != nil {
			return nil, usageError("%v", err)
		}
		rs = append(rs, r)
	}
	missing, err := report.CheckShards(files, rs, partial)
	if err != nil {
		return nil, usageError("%v", err)
	}
	m, err := report.MergeNamed(files, rs)
	if err != nil {
		return nil, usageError("%v", err)
	}
	m.MissingShards = missing
	if err := validity.JudgeMerged(m, files[0]); err != nil {
		return nil, usageError("%v", err)
	}
	return m, nil
}
