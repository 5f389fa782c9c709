package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lpbench/lpbench/compare"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
)

// cmdCompare compares two results, or two targets of one result.
func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", "compare BASE.json NEW.json | lpbench compare RESULT.json -targets A,B [-format text|html] [-fail-on-regression METRIC:PCT]", stderr)
	targets := fs.String("targets", "", "compare these two targets of one result, written A,B")
	format := fs.String("format", "text", "text or html")
	failOn := fs.String("fail-on-regression", "", "exit 3 when METRIC worsens significantly by more than PCT percent, written METRIC:PCT (e.g. step.create.p99:10)")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	write := render.CompareText
	switch *format {
	case "text":
	case "html":
		write = render.CompareHTML
	default:
		return usageError("-format must be text or html, got %q", *format)
	}
	sides, err := compareSides(files, *targets)
	if err != nil {
		return flagError(fs, "%v", err)
	}
	cs := compare.Runs(sides[0].m, sides[1].m, compare.Options{})
	if err := write(sides[0].name, sides[1].name, cs)(stdout); err != nil {
		return err
	}
	if *failOn == "" {
		return nil
	}
	metric, pcts, ok := strings.Cut(*failOn, ":")
	pct, err := strconv.ParseFloat(pcts, 64)
	if !ok || err != nil || pct < 0 {
		return usageError("-fail-on-regression wants METRIC:PCT, got %q", *failOn)
	}
	worse, err := compare.Regressed(cs, metric, pct)
	if err != nil {
		return usageError("%v", err)
	}
	if worse {
		fmt.Fprintf(stderr, "lpbench compare: %s is significantly worse by more than %g%%\n", metric, pct)
		return exitCode(exitcode.Thresholds)
	}
	return nil
}

// side is one side of a comparison.
type side struct {
	name string
	m    *report.Metrics
}

// compareSides reads the two sides: two result files, or two targets of one.
func compareSides(files []string, targets string) ([2]side, error) {
	var out [2]side
	switch {
	case targets != "" && len(files) == 1:
		r, err := report.ReadFile(files[0])
		if err != nil {
			return out, err
		}
		a, b, ok := strings.Cut(targets, ",")
		if !ok {
			return out, fmt.Errorf("-targets wants two names A,B, got %q", targets)
		}
		byName := r.ByTarget()
		for i, name := range []string{a, b} {
			if out[i].m = byName[name]; out[i].m == nil {
				return out, fmt.Errorf("%s has no target %q", files[0], name)
			}
			out[i].name = name
		}
	case targets == "" && len(files) == 2:
		for i, f := range files {
			r, err := report.ReadFile(f)
			if err != nil {
				return out, err
			}
			out[i] = side{f, r.Overall}
		}
	default:
		return out, fmt.Errorf("name two result files, or one with -targets")
	}
	return out, nil
}
