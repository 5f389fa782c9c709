package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/report"
)

// writeHistoryList writes one line per run of a history: its number, start, kind, profile,
// shard, labels, exit code, whether its measurement was valid, and run id. filter is the
// filter the runs were chosen by, named when no run matched it.
func writeHistoryList(w io.Writer, runs []*history.Run, filter string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tstart\tkind\tprofile\tshard\tlabels\texit\tmeasurement\trun id")
	for _, r := range runs {
		valid := "valid"
		if ok, why := r.Judged(); !ok {
			valid = "excluded: " + why
		} else if rel := r.RelaxedFailures(); len(rel) > 0 {
			var names []string
			for _, c := range rel {
				names = append(names, c.Label())
			}
			valid += " (relaxed, failed: " + strings.Join(names, ", ") + ")"
		}
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%d/%d\t%s\t%d\t%s\t%s\n", r.Seq, r.Start.UTC().Format(time.RFC3339), r.Kind, r.Profile,
			r.Shard.Index, r.Shard.Count, history.FormatLabels(r.Labels), r.ExitCode, valid, r.RunID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(runs) == 0 {
		if filter != "" {
			fmt.Fprintf(w, "(no run matches the filter %s)\n", filter)
		} else {
			fmt.Fprintln(w, "(no run in the file)")
		}
	}
	return nil
}

// writeHistoryRun writes one run of a history: its facts, its checks and its metrics.
func writeHistoryRun(w io.Writer, r *history.Run) error {
	fmt.Fprintf(w, "run #%d (%s) of profile %s, shard %d/%d, labels %s\n", r.Seq, r.Kind, r.Profile, r.Shard.Index, r.Shard.Count, history.FormatLabels(r.Labels))
	fmt.Fprintf(w, "  run id %s, lpbench %s, %s → %s, ended %s, exit %d\n", r.RunID, r.Version,
		r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), r.EndReason, r.ExitCode)
	for _, c := range r.Checks {
		fmt.Fprintf(w, "  check %s: %s\n", checkWords.history[stateOf(c)], c.Line())
	}
	fmt.Fprintf(w, "  result %s (sha256 %s)\n", r.ResultPath, r.ResultSHA256)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tmetric\tvalue\tsamples\t")
	for _, m := range r.Metrics {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t\n", m.Target, m.Name, report.FormatValue(m.Kind, m.Value), m.Samples)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return nil
}

// writeHistoryVerdict writes a history check's verdict: the run judged, then why it was not
// judged, or its baseline, warnings, the flagged judgments (every one when verbose) and the
// count of regressions. The exit code is exitcode.HistoryCheck's.
func writeHistoryVerdict(w io.Writer, v *history.RunJudgment, verbose bool) error {
	r := v.Run
	fmt.Fprintf(w, "history check of run #%d (%s %s, labels %s, run id %s)\n", r.Seq, r.Kind, r.Profile, history.FormatLabels(r.Labels), r.RunID)
	switch v.Reason {
	case history.NotValid, history.NotComparable:
		_, err := fmt.Fprintln(w, v.NotJudged)
		return err
	case history.TooFewRuns:
		_, err := fmt.Fprintln(w, v.NotJudged+" (a young history, which has to grow: exit 0)")
		return err
	}
	var seqs []string
	for _, b := range v.Baseline {
		seqs = append(seqs, "#"+strconv.FormatInt(b.Seq, 10))
	}
	fmt.Fprintf(w, "baseline: %d runs (%s; up to %d), minimum effect %s\n", len(v.Baseline), strings.Join(seqs, " "), v.Options.Baseline,
		v.Options.MinEffectString())
	for _, s := range v.Warnings {
		fmt.Fprintln(w, s)
	}
	if d := detectRange(v.Judgments); d != "" {
		more := ""
		if !verbose {
			more = " (-v: each metric)"
		}
		fmt.Fprintf(w, "smallest change for the worse this baseline of %d runs can flag: %s%s\n", len(v.Baseline), d, more)
	}
	regs := v.Regressions()
	for _, j := range v.Judgments {
		if j.Flag != "" || verbose {
			fmt.Fprintln(w, j.String())
		}
	}
	if verbose || v.Reason == history.NoMetric {
		for _, s := range v.Skipped {
			fmt.Fprintln(w, "not judged: "+s)
		}
	}
	if v.Reason == history.NoMetric {
		_, err := fmt.Fprintln(w, v.NotJudged+": the run could not be judged (exit 4)")
		return err
	}
	_, err := fmt.Fprintf(w, "%d metrics judged, %d regression(s); %d not judged\n", len(v.Judgments), len(regs), len(v.Skipped))
	return err
}
