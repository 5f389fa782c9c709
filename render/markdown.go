package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// writeMarkdown renders the run's summary as GitHub-flavoured markdown, for a CI job's summary
// ($GITHUB_STEP_SUMMARY) or a pull request: the headline first (the consumers served, worded as
// in the terminal summary), the exit code and what it means, why the run ended, the thresholds
// and the measurement checks with pass or fail, then a table per target of outcomes, window
// verdicts with their auto messages, the latency percentiles of every step, the gap, the
// journey and the lag, and what the webhook receiver got (the terminal summary's webhooks line,
// and the relay's with its hop). Every cell is escaped, so a pipe in a name cannot break a table.
func writeMarkdown(w io.Writer, r *report.Result) error {
	code, meaning := exitcode.Run(r)
	return writeMarkdownExit(w, r, code, meaning)
}

// writeMarkdownExit is writeMarkdown with the exit code and its meaning given: those of a
// command that decided more than the result did (lpbench run's, when the history append failed).
func writeMarkdownExit(w io.Writer, r *report.Result, code exitcode.Code, meaning string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## lpbench %s\n\n", mdText(r.Profile))
	if r.Overall != nil {
		mdHeadline(&b, r.Overall)
	}
	mdExit(&b, code, meaning)
	fmt.Fprintf(&b, "ended: %s", mdText(string(r.End)))
	if r.Reason != "" {
		fmt.Fprintf(&b, " (%s)", mdText(r.Reason))
	}
	fmt.Fprintf(&b, " · %d target(s), %s/s for %s, max in flight %d, window %s · ran %s, started %s\n\n",
		len(r.Targets), report.TrimFloat(r.Rate), r.Duration, r.MaxInFlight, r.Window, r.Elapsed.Round(time.Millisecond), r.Start.Format(time.RFC3339))
	mdRunLines(&b, r)
	mdThresholds(&b, r.Thresholds)
	mdChecks(&b, r.Checks)
	a := r.Arrivals
	fmt.Fprintf(&b, "arrivals: planned %d = started %d + dropped %d + not started %d", a.Planned, a.Started, a.Dropped, a.NotStarted)
	if a.Late > 0 {
		fmt.Fprintf(&b, " (dropped: pool full %d, generator late %d)", a.Dropped-a.Late, a.Late)
	}
	b.WriteString("\n\n")
	for i, m := range r.PerTarget {
		if i >= len(r.Targets) {
			break
		}
		t := r.Targets[i]
		title := fmt.Sprintf("Target %s (account %s, %s", t.Name, t.Account, t.Kind)
		if t.Region != "" {
			title += ", region " + t.Region
		}
		fmt.Fprintf(&b, "### %s)\n\n", mdText(title))
		if t.Insecure {
			fmt.Fprintf(&b, "> **WARNING**: target %s was run without TLS certificate verification (insecure: true)\n\n", mdText(t.Name))
		}
		mdMetrics(&b, m, r.Window, len(r.Targets) > 1)
		mdLines(&b, webhookLines(r.Relay, t))
	}
	if len(r.Targets) > 1 && r.Overall != nil {
		b.WriteString("### All targets\n\n")
		mdMetrics(&b, r.Overall, r.Window, false)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdHeadline writes the served line and the notes that follow it, as the terminal summary
// words them.
func mdHeadline(b *strings.Builder, m *report.Metrics) {
	served, notes := headlineText(m.Headline())
	fmt.Fprintf(b, "**served**: %s", mdText(served))
	for _, n := range notes {
		if !n.anomaly {
			fmt.Fprintf(b, "<br>\n%s", mdText(n.text))
		}
	}
	b.WriteString("\n\n")
	for _, n := range notes {
		if n.anomaly {
			fmt.Fprintf(b, "> **ANOMALY**: %s\n\n", mdText(n.text))
		}
	}
}

// mdExit writes the exit line: its sign, the exit code and what it means.
func mdExit(b *strings.Builder, code exitcode.Code, meaning string) {
	fmt.Fprintf(b, "%s **exit %d**: %s\n\n", exitMark(code), code, mdText(meaning))
}

// mdLines writes lines of the terminal summary as one paragraph, a line each.
func mdLines(b *strings.Builder, lines []string) {
	if len(lines) == 0 {
		return
	}
	for i, l := range lines {
		if i > 0 {
			b.WriteString("<br>\n")
		}
		b.WriteString(mdText(l))
	}
	b.WriteString("\n\n")
}

// exitMark is the sign of an exit code at a glance.
func exitMark(code exitcode.Code) string {
	switch code {
	case exitcode.OK:
		return "✅"
	case exitcode.Interrupted:
		return "⏹️"
	}
	return "❌"
}

// mdRunLines writes the lines that identify a distributed run, a cut pool or a partial merge,
// as a list, in the terminal summary's words.
func mdRunLines(b *strings.Builder, r *report.Result) {
	var s strings.Builder
	if r.MaxInFlightAsked > r.MaxInFlight {
		fmt.Fprintf(&s, "max in flight cut from %d to %d: the process's file descriptor limit allows no more connections (raise ulimit -n)\n", r.MaxInFlightAsked, r.MaxInFlight)
	}
	writeRunLines(&s, r)
	if s.Len() == 0 {
		return
	}
	for _, l := range strings.Split(strings.TrimSuffix(s.String(), "\n"), "\n") {
		fmt.Fprintf(b, "- %s\n", mdText(l))
	}
	b.WriteString("\n")
}

// mdThresholds writes the thresholds as a table with pass or fail.
func mdThresholds(b *strings.Builder, rs []report.ThresholdResult) {
	if len(rs) == 0 {
		return
	}
	passed := 0
	for _, r := range rs {
		if r.Pass {
			passed++
		}
	}
	fmt.Fprintf(b, "### Thresholds: %d passed, %d failed\n\n", passed, len(rs)-passed)
	b.WriteString("| threshold | target | measured | result |\n|---|---|--:|---|\n")
	for _, r := range rs {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdCode(r.Expr), mdText(r.Target), mdText(measured(r)), passFail(r.Pass))
	}
	b.WriteString("\n")
}

func passFail(pass bool) string {
	if pass {
		return "✅ pass"
	}
	return "❌ FAIL"
}

// mdChecks writes the measurement checks: a line when all hold, else a table of every check.
func mdChecks(b *strings.Builder, cs []report.Check) {
	if len(cs) == 0 {
		return
	}
	failed, relaxed := 0, 0
	for _, c := range cs {
		switch {
		case c.Failed():
			failed++
		case !c.OK:
			relaxed++
		}
	}
	switch {
	case failed > 0:
		fmt.Fprintf(b, "### Measurement NOT VALID: %d of %d checks failed\n\n", failed, len(cs))
	case relaxed > 0:
		fmt.Fprintf(b, "### Measurement: valid, %d relaxed check(s) failed\n\n", relaxed)
	default:
		fmt.Fprintf(b, "### Measurement: all %d checks hold\n\n", len(cs))
		return
	}
	b.WriteString("| check | measured | limit | result | what it means |\n|---|---|---|---|---|\n")
	for _, c := range cs {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", mdCode(c.Label()), mdText(c.Measured), mdText(c.Limit), checkWords.markdown[stateOf(c)], mdText(c.Message))
	}
	b.WriteString("\n")
}

// mdMetrics writes one set of journeys: its headline (when the section is one of several), the
// outcomes, the window verdicts with their auto messages, the latency and the failures.
func mdMetrics(b *strings.Builder, m *report.Metrics, window time.Duration, headline bool) {
	if headline {
		mdHeadline(b, m)
	}
	o, n := m.Outcomes, m.Started()
	b.WriteString("| journeys | count | share |\n|---|--:|--:|\n")
	fmt.Fprintf(b, "| started | %d | |\n", n)
	for _, row := range []struct {
		name string
		o    sample.Outcome
	}{{"ok", sample.OutcomeOK}, {"failed", sample.OutcomeFailed}, {"interrupted", sample.OutcomeInterrupted}} {
		fmt.Fprintf(b, "| %s | %d | %s |\n", row.name, o[row.o], share(o[row.o], n))
	}
	b.WriteString("\n")
	mdVerdicts(b, m, window)
	mdLatency(b, m)
	mdFailures(b, &m.Failures)
}

// mdVerdicts writes the window verdicts beside the evidence of the auto messages.
func mdVerdicts(b *strings.Builder, m *report.Metrics, window time.Duration) {
	v, n := m.Verdicts, report.Judged(m)
	awaited, _ := m.AutoMessages()
	fmt.Fprintf(b, "window %s (first SEND after CONVERSATION), %d journeys judged:\n\n", window, n)
	b.WriteString("| verdict | journeys | share | rule |")
	if awaited > 0 {
		b.WriteString(" auto message received |\n|---|--:|--:|---|--:|\n")
	} else {
		b.WriteString("\n|---|--:|--:|---|\n")
	}
	for _, row := range []struct {
		name, rule string
		v          sample.Verdict
	}{
		{"in", "gap < window", sample.VerdictIn},
		{"uncertain", "gap_min < window ≤ gap", sample.VerdictUncertain},
		{"missed", "gap_min ≥ window", sample.VerdictMissed},
	} {
		fmt.Fprintf(b, "| %s | %d | %s | %s |", row.name, v[row.v], share(v[row.v], n), mdText(row.rule))
		if awaited > 0 {
			fmt.Fprintf(b, " %d of %d |", m.AutoMsgReceived[row.v], m.AutoMsgAwaited[row.v])
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// mdLatency writes the latency table: count, percentiles and max of every histogram the
// terminal summary shows.
func mdLatency(b *strings.Builder, m *report.Metrics) {
	b.WriteString("| latency | count |")
	for _, p := range SummaryPercentiles {
		fmt.Fprintf(b, " p%s |", report.TrimFloat(p))
	}
	b.WriteString(" max |\n|---|--:|" + strings.Repeat("--:|", len(SummaryPercentiles)+1) + "\n")
	row := func(name string, h *hdrhistogram.Histogram) {
		fmt.Fprintf(b, "| %s | %d |", mdCode(name), hdr.CountOf(h))
		for _, p := range SummaryPercentiles {
			fmt.Fprintf(b, " %s |", report.FormatDuration(hdr.Percentile(h, p)))
		}
		fmt.Fprintf(b, " %s |\n", report.FormatDuration(hdr.MaxOf(h)))
	}
	for s := range sample.NumSteps {
		if hdr.CountOf(m.Steps[s]) == 0 && s == sample.AutoMsg {
			continue // not measured by this journey
		}
		h := m.Steps[s]
		fmt.Fprintf(b, "| %s | %d |", mdCode(stepLabel(m, s)), hdr.CountOf(h))
		for _, p := range SummaryPercentiles {
			fmt.Fprintf(b, " %s |", stepDuration(m, s, hdr.Percentile(h, p)))
		}
		fmt.Fprintf(b, " %s |\n", stepDuration(m, s, hdr.MaxOf(h)))
	}
	row("gap", m.Gap)
	row("gap_min", m.GapMin)
	if hdr.CountOf(m.AutoMsg) > 0 {
		row("automsg", m.AutoMsg)
	}
	row("journey", m.Journey)
	row("lag", m.Lag)
	if anyCached(m) {
		b.WriteString("\n" + mdText(cachedNote) + "\n")
	}
	b.WriteString("\n")
}

// mdFailures writes the failed journeys by step and class, if any.
func mdFailures(b *strings.Builder, f *[sample.NumSteps][sample.NumClasses]int64) {
	var rows []string
	for s := range sample.NumSteps {
		for c := range sample.NumClasses {
			if n := f[s][c]; n > 0 {
				rows = append(rows, fmt.Sprintf("| %s | %s | %d |", s, mdText(sample.Class(c).String()), n))
			}
		}
	}
	if len(rows) == 0 {
		b.WriteString("failed journeys: none\n\n")
		return
	}
	b.WriteString("| failed journeys: step | class | count |\n|---|---|--:|\n" + strings.Join(rows, "\n") + "\n\n")
}

// writeCapacityMarkdown renders a capacity search as GitHub-flavoured markdown: the headline,
// the exit code and what it means (Capacity.Exit), the search's message, the SLO and a table of
// the steps.
func writeCapacityMarkdown(w io.Writer, c *report.Capacity) error {
	code, meaning := exitcode.Capacity(c)
	return writeCapacityMarkdownExit(w, c, code, meaning)
}

// writeCapacityMarkdownExit is writeCapacityMarkdown with the exit code and its meaning given:
// those of a command that decided more than the search did (a failed history append).
func writeCapacityMarkdownExit(w io.Writer, c *report.Capacity, code exitcode.Code, meaning string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## lpbench capacity %s\n\n**%s**\n\n", mdText(c.Profile), mdText(CapacityHeadline(c)))
	mdExit(&b, code, meaning)
	if c.Interrupted {
		b.WriteString("interrupted: what is known so far\n\n")
	}
	if c.Message != "" {
		fmt.Fprintf(&b, "%s\n\n", mdText(c.Message))
	}
	slo := make([]string, len(c.SLO))
	for i, s := range c.SLO {
		slo[i] = mdCode(s)
	}
	fmt.Fprintf(&b, "%d steps in %s; SLO: %s\n\n", len(c.Steps), report.FormatDuration(time.Duration(c.Elapsed*float64(time.Second))), strings.Join(slo, ", "))
	b.WriteString("| step | phase | rate/s | verdict | served | gap p99 | create p99 | gap p99 growth | why |\n|--:|---|--:|---|--:|--:|--:|--:|---|\n")
	for i, st := range c.Steps {
		why := make([]string, len(st.Why))
		for j, y := range st.Why {
			why[j] = mdText(y)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s/s | %s |\n", i+1, mdText(st.Phase), rate(st.Rate), passFail(st.Pass),
			shareOf(st.Served, st.Ended), secs(st.GapP99), secs(st.CreateP99), report.FormatDuration(time.Duration(st.GapGrowth*float64(time.Second))), strings.Join(why, "<br>"))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mdSpecial are the characters that markdown (and the HTML it may contain) could read as
// syntax in running text or a table cell.
const mdSpecial = "\\`*_[]<>|#~"

// mdText escapes s for running text and table cells: markdown's punctuation is backslash-escaped
// (a pipe cannot end a cell, a < cannot open a tag) and a line break becomes a space.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case strings.ContainsRune(mdSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode renders s as a code span that is safe in a table cell: pipes escaped (GitHub reads
// \| in a cell's code span as a pipe), backticks fenced by a longer run, line breaks as spaces.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("\n", " ", "\r", " ", "|", `\|`).Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.Contains(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
