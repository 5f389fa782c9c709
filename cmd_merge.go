package main

import (
	"io"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/report"
)

// cmdMerge adds up the results of shards and evaluates the profile's thresholds on the sum. The
// shards' measurement checks are kept, each naming its shard: one that failed exits 4.
func cmdMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge", "merge SHARD.json... -o MERGED.json", stderr)
	out := fs.String("o", "", "write the merged result file here")
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
	m, err := report.Merge(rs)
	if err != nil {
		return usageError("%v", err)
	}
	if err := engine.JudgeMerged(m, files[0]); err != nil {
		return usageError("%v", err)
	}
	if err := report.WriteFileAtomic(*out, func(w io.Writer) error { return report.WriteJSON(w, m) }); err != nil {
		return err
	}
	if err := report.WriteSummary(stdout, m); err != nil {
		return err
	}
	if report.ChecksFailed(m.Checks) {
		return exitCode(exitNotValid)
	}
	if report.Breached(m.Thresholds) {
		return exitCode(exitThresholds)
	}
	return nil
}
