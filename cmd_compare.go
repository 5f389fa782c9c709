package main

import (
	"io"

	"github.com/lpbench/lpbench/compare"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/render"
)

const compareSynopsis = "compare BASE.json NEW.json... | lpbench compare RESULT.json --targets A,B,C " +
	"[--format text|html|markdown] [--fail-on-regression METRIC:PCT[,METRIC:PCT...]]"

// cmdCompare compares results, or targets of one result: each against the first, with one
// verdict for them all; a gate (--fail-on-regression) that a pair fails makes it exit 3.
func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", compareSynopsis, stderr)
	targets := fs.String("targets", "", "compare these targets of one result, each against the first, written A,B[,C...]")
	format := fs.String("format", "text", "text, html or markdown")
	failOn := fs.String("fail-on-regression", "", "exit 3 when METRIC worsens significantly by more than PCT: percent for a duration "+
		"(step.create.p95:10), percentage points for a share (served:1); several separated by commas")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	writers := map[string]func([]compare.Pair) render.Reporter{
		"text": render.CompareText, "html": render.CompareHTML, "markdown": render.CompareMarkdown,
	}
	write := writers[*format]
	if write == nil {
		return usageError("--format must be text, html or markdown, got %q", *format)
	}
	gates, err := compare.ParseGates(*failOn)
	if err != nil {
		return usageError("%v", err)
	}
	sides, percentiles, err := compare.ReadSides(files, *targets)
	if err != nil {
		return flagError(fs, "%v", err)
	}
	pairs := compare.Against(sides[0], sides[1:], compare.Options{Percentiles: compare.WithPercentiles(gates, percentiles)})
	if err := write(pairs)(stdout); err != nil {
		return err
	}
	breaches, err := compare.Breaches(pairs, gates)
	if werr := render.GateBreaches(breaches)(stderr); werr != nil {
		return werr
	}
	switch {
	case err != nil:
		return usageError("%v", err)
	case len(breaches) > 0:
		return exitCode(exitcode.Thresholds)
	}
	return nil
}
