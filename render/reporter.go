package render

import (
	"io"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/compare"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/report"
)

// Reporter writes one rendering of a model to w. Every human-readable output is one: a
// constructor below takes the model (and what the rendering needs besides), and the caller
// chooses where it goes (the terminal, a file written atomically, a CI job's summary).
type Reporter func(w io.Writer) error

// Summary is the run's terminal summary (summary.txt).
func Summary(r *report.Result) Reporter { return func(w io.Writer) error { return writeSummary(w, r) } }

// Markdown is the run's summary as GitHub-flavoured markdown, with the exit code exitcode.Run
// decides.
func Markdown(r *report.Result) Reporter {
	return func(w io.Writer) error { return writeMarkdown(w, r) }
}

// MarkdownExit is Markdown with the exit code and its meaning given: those of a command that
// decided more than the result did (lpbench run's, when the history append failed).
func MarkdownExit(r *report.Result, code exitcode.Code, meaning string) Reporter {
	return func(w io.Writer) error { return writeMarkdownExit(w, r, code, meaning) }
}

// JUnit is the run as junit.xml.
func JUnit(r *report.Result) Reporter { return func(w io.Writer) error { return writeJUnit(w, r) } }

// HTML is the run as report.html.
func HTML(r *report.Result) Reporter { return func(w io.Writer) error { return writeHTML(w, r) } }

// Thresholds is the threshold table of the terminal summary.
func Thresholds(rs []report.ThresholdResult) Reporter {
	return func(w io.Writer) error { return writeThresholds(w, rs) }
}

// HlogSummary is the summary of an interval log's histograms, by tag.
func HlogSummary(tags map[string]*hdrhistogram.Histogram) Reporter {
	return func(w io.Writer) error { return writeHlogSummary(w, tags) }
}

// CompareText is a comparison of pairs of runs (or targets) as text, its one-line verdict first.
func CompareText(pairs []compare.Pair) Reporter {
	return func(w io.Writer) error { return writeCompare(w, pairs) }
}

// CompareHTML is CompareText as an HTML page.
func CompareHTML(pairs []compare.Pair) Reporter {
	return func(w io.Writer) error { return writeCompareHTMLPairs(w, pairs) }
}

// CompareMarkdown is CompareText as GitHub-flavoured markdown.
func CompareMarkdown(pairs []compare.Pair) Reporter {
	return func(w io.Writer) error { return writeCompareMarkdown(w, pairs) }
}

// CapacitySummary is a capacity search's terminal summary (its summary.txt).
func CapacitySummary(c *report.Capacity) Reporter {
	return func(w io.Writer) error { return writeCapacitySummary(w, c) }
}

// CapacityHTML is a capacity search as capacity.html.
func CapacityHTML(c *report.Capacity) Reporter {
	return func(w io.Writer) error { return writeCapacityHTML(w, c) }
}

// CapacityMarkdown is a capacity search as markdown, with the exit code exitcode.Capacity
// decides.
func CapacityMarkdown(c *report.Capacity) Reporter {
	return func(w io.Writer) error { return writeCapacityMarkdown(w, c) }
}

// CapacityMarkdownExit is CapacityMarkdown with the exit code and its meaning given.
func CapacityMarkdownExit(c *report.Capacity, code exitcode.Code, meaning string) Reporter {
	return func(w io.Writer) error { return writeCapacityMarkdownExit(w, c, code, meaning) }
}

// TrendText is a history's trend as text.
func TrendText(t *history.Trend) Reporter {
	return func(w io.Writer) error { return writeTrendText(w, t) }
}

// TrendHTML is a history's trend as trend.html.
func TrendHTML(t *history.Trend) Reporter {
	return func(w io.Writer) error { return writeTrendHTML(w, t) }
}

// HistoryList is the runs of a history, a line each; filter names what chose them.
func HistoryList(runs []*history.Run, filter string) Reporter {
	return func(w io.Writer) error { return writeHistoryList(w, runs, filter) }
}

// HistoryRun is one run of a history: its facts, checks and metrics.
func HistoryRun(r *history.Run) Reporter {
	return func(w io.Writer) error { return writeHistoryRun(w, r) }
}

// HistoryVerdictMarkdown is a history check's verdict as markdown, for a job summary.
func HistoryVerdictMarkdown(v *history.RunJudgment) Reporter {
	return func(w io.Writer) error { return writeHistoryVerdictMarkdown(w, v) }
}

// HistoryVerdict is a history check's verdict; verbose lists every judgment.
func HistoryVerdict(v *history.RunJudgment, verbose bool) Reporter {
	return func(w io.Writer) error { return writeHistoryVerdict(w, v, verbose) }
}
