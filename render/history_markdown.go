package render

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/report"
)

// detectRange says, in one line, the smallest change for the worse the baseline flags, from the
// most sensitive metric to the least: durations relative to their mean, shares in points.
func detectRange(js []history.Judgment) string {
	type one struct {
		j    history.Judgment
		size float64
	}
	var durs, shares []one
	for _, j := range js {
		switch {
		case j.Missing:
		case j.Kind == report.KindShare:
			shares = append(shares, one{j, j.Detect})
		case j.Mean != 0:
			durs = append(durs, one{j, j.Detect / math.Abs(j.Mean)})
		}
	}
	span := func(os []one) string {
		slices.SortStableFunc(os, func(a, b one) int { return cmpFloat(a.size, b.size) })
		lo, hi := os[0].j, os[len(os)-1].j
		if len(os) == 1 {
			return lo.Detectable() + " (" + lo.Metric + " of " + lo.Target + ")"
		}
		return "from " + lo.Detectable() + " (" + lo.Metric + " of " + lo.Target + ") to " + hi.Detectable() + " (" + hi.Metric + " of " + hi.Target + ")"
	}
	var parts []string
	if len(durs) > 0 {
		parts = append(parts, span(durs))
	}
	if len(shares) > 0 {
		parts = append(parts, "shares "+span(shares))
	}
	return strings.Join(parts, "; ")
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// historyOutcome says what a check's exit code means, for a heading.
func historyOutcome(v *history.RunJudgment) string {
	switch code := exitcode.HistoryCheck(v); {
	case code == exitcode.Thresholds:
		return fmt.Sprintf("REGRESSION: %d metric(s) worse (exit 3)", len(v.Regressions()))
	case code == exitcode.NotValid:
		return "NOT JUDGED: the run could not be judged (exit 4)"
	case code == exitcode.Usage:
		return "NOT JUDGED: no comparable baseline (exit 2)"
	case v.Reason == history.TooFewRuns:
		return "NOT JUDGED: a young history, which has to grow (exit 0)"
	}
	return "no regression (exit 0)"
}

// writeHistoryVerdictMarkdown writes a history check's verdict as GitHub-flavoured markdown for
// a job summary: a heading with the outcome and exit code, why the run was not judged or its
// baseline (its size, its runs, the minimum effect), warnings, then a table of every metric
// judged — flagged ones first — with its value, baseline band and mean, the smallest change for
// the worse the baseline can flag, and the verdict; the metrics not judged are counted.
func writeHistoryVerdictMarkdown(w io.Writer, v *history.RunJudgment) error {
	r := v.Run
	var b strings.Builder
	fmt.Fprintf(&b, "### lpbench history check: %s\n\n", mdText(historyOutcome(v)))
	fmt.Fprintf(&b, "Run #%d (%s %s, labels %s, run id %s).\n", r.Seq, mdText(r.Kind), mdText(r.Profile),
		mdCode(history.FormatLabels(r.Labels)), mdCode(r.RunID))
	if v.NotJudged != "" {
		fmt.Fprintf(&b, "\n%s\n", mdText(v.NotJudged))
	}
	if len(v.Baseline) > 0 {
		var seqs []string
		for _, x := range v.Baseline {
			seqs = append(seqs, "#"+strconv.FormatInt(x.Seq, 10))
		}
		fmt.Fprintf(&b, "\nBaseline: **%d runs** (%s; up to %d), minimum effect %s.\n", len(v.Baseline), strings.Join(seqs, " "),
			v.Options.Baseline, v.Options.MinEffectString())
	}
	for _, s := range v.Warnings {
		fmt.Fprintf(&b, "\n%s\n", mdText(s))
	}
	if len(v.Judgments) > 0 {
		writeJudgmentTable(&b, v.Judgments)
		fmt.Fprintf(&b, "\n%d metrics judged, %d regression(s); %d not judged.\n", len(v.Judgments), len(v.Regressions()), len(v.Skipped))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJudgmentTable writes the judgments as a table, flagged ones first.
func writeJudgmentTable(b *strings.Builder, judgments []history.Judgment) {
	js := slices.Clone(judgments)
	slices.SortStableFunc(js, func(a, c history.Judgment) int {
		return cmpFloat(flagRank(a.Flag), flagRank(c.Flag))
	})
	fmt.Fprintf(b, "\nThe smallest change for the worse this baseline can flag: %s.\n\n", mdText(detectRange(js)))
	b.WriteString("| target | metric | value | baseline band | mean | detects | verdict |\n|:--|:--|--:|--:|--:|--:|:--|\n")
	for _, j := range js {
		f := func(x float64) string { return report.FormatValue(j.Kind, x) }
		verdict := "within"
		switch j.Flag {
		case history.FlagRegression:
			verdict = "**regression**"
		case history.FlagImprovement:
			verdict = "improvement"
		}
		if j.Missing {
			fmt.Fprintf(b, "| %s | %s | missing | - | - | - | %s (baseline had it in %d runs) |\n", mdText(j.Target), mdText(j.Metric), verdict, j.N)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s – %s | %s | %s | %s |\n", mdText(j.Target), mdText(j.Metric), f(j.Value), f(j.Lo), f(j.Hi),
			f(j.Mean), j.Detectable(), verdict)
	}
}

func flagRank(flag string) float64 {
	switch flag {
	case history.FlagRegression:
		return 0
	case history.FlagImprovement:
		return 1
	}
	return 2
}
