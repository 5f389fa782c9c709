package main

import (
	"fmt"
	"io"
	"os"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/report"
)

// cmdMerge adds up the results of shards and evaluates the profile's thresholds on the sum. It
// refuses results that are not the shards of one run (report.CheckShards), and a missing shard
// unless --allow-partial. The shards' measurement checks are kept, each naming its shard, and
// those of the sum are added (engine.JudgeMerged). The exit is the merged result's, as for a run
// (report.Result.Exit): 130 when a shard was interrupted, 1 when no journey succeeded, 4 when a
// check failed, 3 when a threshold did.
func cmdMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge", "merge SHARD.json... -o MERGED.json [--allow-partial]", stderr)
	out := fs.String("o", "", "write the merged result file here")
	partial := fs.Bool("allow-partial", false, "merge even when shards are missing; the merged result says which (partial)")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 || *out == "" {
		fs.Usage()
		return usageError("name the shards' result files and -o")
	}
	var rs []*report.Result
	for _, f := range files {
		r, err := report.ReadFile(f)
		if err != nil {
			return usageError("%v", err)
		}
		rs = append(rs, r)
	}
	missing, err := report.CheckShards(files, rs, *partial)
	if err != nil {
		return usageError("%v", err)
	}
	m, err := report.MergeNamed(files, rs)
	if err != nil {
		return usageError("%v", err)
	}
	m.MissingShards = missing
	if err := engine.JudgeMerged(m, files[0]); err != nil {
		return usageError("%v", err)
	}
	if err := report.WriteFileAtomic(*out, func(w io.Writer) error { return report.WriteJSON(w, m) }); err != nil {
		return err
	}
	if err := report.WriteSummary(stdout, m); err != nil {
		return err
	}
	appendStepSummary(os.Getenv, stderr, func(w io.Writer) error { return report.WriteMarkdown(w, m) })
	for _, c := range m.Checks {
		if c.Failed() {
			fmt.Fprintf(stderr, "lpbench merge: measurement not valid: %s\n", c.Line())
		}
	}
	return runVerdict(m) // the exit the summary tells (report.Result.Exit)
}
