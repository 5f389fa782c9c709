package main

import (
	"fmt"
	"io"
	"os"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
)

// renderers are the formats of lpbench report.
var renderers = map[string]func(*report.Result) render.Reporter{
	"text": render.Summary, "junit": render.JUnit, "html": render.HTML, "markdown": render.Markdown,
	"json": func(r *report.Result) render.Reporter {
		return func(w io.Writer) error { return report.WriteJSON(w, r) }
	},
}

// cmdReport renders a report again from a result file, or summarizes an interval log.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", "report RESULT.json [-format text|json|html|junit|markdown] | lpbench report -from-hlog run.hlog", stderr)
	format := fs.String("format", "text", "text, json, html, junit or markdown (GitHub-flavoured, as a CI job summary)")
	fromHlog := fs.String("from-hlog", "", "summarize this interval log instead of a result file")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *fromHlog != "" {
		return reportFromHlog(*fromHlog, stdout, stderr)
	}
	if len(pos) != 1 {
		return flagError(fs, "name one result file")
	}
	w, ok := renderers[*format]
	if !ok {
		return usageError("-format must be text, json, html, junit or markdown, got %q", *format)
	}
	res, err := report.ReadFile(pos[0])
	if err != nil {
		return usageError("%v", err)
	}
	return w(res)(stdout)
}

// reportFromHlog prints, per tag of an interval log, the count and percentiles of everything it
// holds: what a killed run had recorded up to its last whole second.
func reportFromHlog(path string, stdout, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return usageError("%v", err)
	}
	defer f.Close()
	tags, err := report.ReadHlog(f)
	if err != nil {
		fmt.Fprintf(stderr, "lpbench report: %s: %v (showing what was read before it)\n", path, err)
	}
	if len(tags) == 0 {
		return exitCode(exitcode.RunFailed)
	}
	return render.HlogSummary(tags)(stdout)
}
