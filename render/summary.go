package render

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// SummaryPercentiles are the percentiles of the terminal summary.
var SummaryPercentiles = []float64{50, 90, 99, 99.9}

// writeSummary renders the run's terminal summary: arrivals and outcomes that add up, the window
// verdicts, the latency of every step, the gap and the journey at percentiles, and the failures.
func writeSummary(w io.Writer, r *report.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "lpbench %s: %d target(s), %s/s for %s, max in flight %d, window %s\n",
		r.Profile, len(r.Targets), report.TrimFloat(r.Rate), r.Duration, r.MaxInFlight, r.Window)
	if r.MaxInFlightAsked > r.MaxInFlight {
		fmt.Fprintf(&b, "max in flight cut from %d to %d: the process's file descriptor limit allows no more connections (raise ulimit -n)\n", r.MaxInFlightAsked, r.MaxInFlight)
	}
	fmt.Fprintf(&b, "ran %s (%s), started %s\n", r.Elapsed.Round(time.Millisecond), r.End, r.Start.Format(time.RFC3339))
	if r.Reason != "" {
		fmt.Fprintf(&b, "why it ended: %s\n", r.Reason)
	}
	writeRunLines(&b, r)
	writeChecks(&b, r.Checks)
	b.WriteString("\n")

	a := r.Arrivals
	fmt.Fprintf(&b, "arrivals  planned %d = started %d + dropped %d + not started %d", a.Planned, a.Started, a.Dropped, a.NotStarted)
	if a.Late > 0 {
		fmt.Fprintf(&b, " (dropped: pool full %d, generator late %d)", a.Dropped-a.Late, a.Late)
	}
	b.WriteString("\n")
	for i, m := range r.PerTarget {
		if len(r.Targets) > 1 {
			if i == 0 {
				writeHeadline(&b, r.Overall)
			}
			t := r.Targets[i]
			region := ""
			if t.Region != "" {
				region = ", region " + t.Region
			}
			fmt.Fprintf(&b, "\n== target %s (account %s, %s%s)\n", t.Name, t.Account, t.Kind, region)
		}
		writeMetrics(&b, m, r.Window)
		t := r.Targets[i]
		fmt.Fprintf(&b, "shared fetches: AppJWT %d, domain lookups (cached) %d\n", t.AppJWTFetches, t.DomainLookups)
		for _, l := range webhookLines(r.Relay, t) {
			b.WriteString(l + "\n")
		}
		if l := routingLine(t.Skill, m); l != "" {
			b.WriteString(l + "\n")
		}
		if t.Insecure {
			fmt.Fprintf(&b, "WARNING: target %s was run without TLS certificate verification (insecure: true)\n", t.Name)
		}
	}
	if len(r.Targets) > 1 {
		b.WriteString("\n== all targets\n")
		writeMetrics(&b, r.Overall, r.Window)
		writeSideBySide(&b, r)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if len(r.Thresholds) > 0 {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
		return writeThresholds(w, r.Thresholds)
	}
	return nil
}

// routingLine says where the conversations of a target that asked for skill went: "routed to
// skill 1234: N of M", with those on another skill and those whose skill was never seen.
func routingLine(skill string, m *report.Metrics) string {
	checked, matched, mismatched := m.RoutingChecked()
	switch {
	case skill == "":
		return ""
	case checked == 0:
		return fmt.Sprintf("routed to skill %s: not verified (the skill shows only in conversation-change webhooks, which this run did not receive)", skill)
	}
	l := fmt.Sprintf("routed to skill %s: %d of %d", skill, matched, checked)
	if mismatched > 0 {
		l += fmt.Sprintf(", %d to another skill (routing.mismatched)", mismatched)
	}
	if unseen := checked - matched - mismatched; unseen > 0 {
		l += fmt.Sprintf(", %d with no conversation change seen", unseen)
	}
	return l
}

// WriteThresholds renders the results as a table — the expression ("[target] " before it when
// writeThresholds renders the results as a table — the expression ("[target] " before it when
// scoped), the measured value ("no data" when there was none) and PASS or FAIL — followed by the
// line "thresholds: N passed, M failed".
func writeThresholds(w io.Writer, rs []report.ThresholdResult) error {
	var b strings.Builder
	passed := 0
	if len(rs) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprint(tw, "threshold\tmeasured\tresult\n")
		for _, r := range rs {
			expr := r.Expr
			if r.Target != "" {
				expr = "[" + r.Target + "] " + expr
			}
			result := "FAIL"
			if r.Pass {
				result = "PASS"
				passed++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", expr, measured(r), result)
		}
		tw.Flush()
	}
	fmt.Fprintf(&b, "thresholds: %d passed, %d failed\n", passed, len(rs)-passed)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHlogSummary prints, per tag, the count and percentiles of interval-log totals.
func writeHlogSummary(w io.Writer, tags map[string]*hdrhistogram.Histogram) error {
	names := make([]string, 0, len(tags))
	for t := range tags {
		names = append(names, t)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-28s\tcount\t", "tag")
	for _, p := range SummaryPercentiles {
		fmt.Fprintf(tw, "p%s\t", report.TrimFloat(p))
	}
	fmt.Fprint(tw, "max\t\n")
	for _, n := range names {
		h := tags[n]
		fmt.Fprintf(tw, "%-28s\t%d\t", n, h.TotalCount())
		for _, p := range SummaryPercentiles {
			fmt.Fprintf(tw, "%s\t", report.FormatDuration(hdr.Percentile(h, p)))
		}
		fmt.Fprintf(tw, "%s\t\n", report.FormatDuration(hdr.MaxOf(h)))
	}
	return tw.Flush()
}

// writeMetrics renders the figures of one set of journeys: outcomes, window verdicts, latency,
// requests and failures.
func writeMetrics(b *strings.Builder, m *report.Metrics, window time.Duration) {
	writeHeadline(b, m)
	o := m.Outcomes
	fmt.Fprintf(b, "journeys  started %d = ok %d + failed %d + interrupted %d\n\n",
		m.Started(), o[sample.OutcomeOK], o[sample.OutcomeFailed], o[sample.OutcomeInterrupted])
	writeVerdicts(b, m, window)
	b.WriteString("\n")
	writeLatency(b, m)
	b.WriteString("\n")
	writeRequests(b, m)
	writeFailures(b, "failed journeys", &m.Failures)
	if extra, found := m.OtherStepFailures(); found {
		writeFailures(b, "other failed steps", &extra)
	}
	var unsent, of int64
	for s := range sample.NumSteps {
		unsent += m.Unsent[s]
		of += m.StepFailures[s][sample.ClassTimeout] + m.StepFailures[s][sample.ClassNetwork]
	}
	if unsent > 0 {
		fmt.Fprintf(b, "%d of the %d timeouts/network failures happened before the request was sent (client side: connection set-up, pool wait)\n", unsent, of)
	}
}

// writeHeadline renders the number that matters: how many consumers were served. With auto
// messages verified that is the evidence (their first auto message came); without, timing alone
// (first SEND certainly inside the window), and the line says so.
func writeHeadline(b *strings.Builder, m *report.Metrics) {
	served, notes := headlineText(m.Headline())
	fmt.Fprintf(b, "served    %s\n", served)
	for _, n := range notes {
		if n.anomaly {
			fmt.Fprintf(b, "ANOMALY   %s\n", n.text)
		} else {
			fmt.Fprintf(b, "          %s\n", n.text)
		}
	}
}

// headlineNote is a sentence that follows the served line; an anomaly is one that should not
// happen at all.
type headlineNote struct {
	text    string
	anomaly bool
}

// headlineText words the headline once for every renderer: the served line and the notes that
// follow it (auto messages not verified, consumers never started, anomalies).
func headlineText(h report.Headline) (served string, notes []headlineNote) {
	switch {
	case h.Of == 0:
		served = "no journey ended"
	case h.Verified:
		served = fmt.Sprintf("first auto message received by %d of %d consumers (%s)", h.Served, h.Of, share(h.Served, h.Of))
	default:
		served = fmt.Sprintf("first SEND certainly inside the window for %d of %d consumers (%s); auto messages were NOT verified:",
			h.Served, h.Of, share(h.Served, h.Of))
		notes = append(notes, headlineNote{text: "timing alone cannot prove a consumer got its auto message, and uncertain journeys count as not served"})
	}
	if h.UnservedInWindow > 0 {
		notes = append(notes, headlineNote{text: fmt.Sprintf("no consumer got an auto message although %d first SENDs were certainly inside the window: "+
			"the set-up, not the load, is the likely cause: the app installation's webhooks do not reach lpbench (or lack the ContentEvent one), "+
			"AUTO_MESSAGES is not enabled for the account, the Controller Bot permission is missing, or no automatic message is configured "+
			"for a new conversation; run lpbench doctor on the profile (docs/live-account.md)", h.UnservedInWindow)})
	}
	if h.NeverStarted > 0 {
		notes = append(notes, headlineNote{text: fmt.Sprintf("and %d planned consumers were never started (dropped by the generator: see measurement)", h.NeverStarted)})
	}
	if h.Anomalies > 0 {
		notes = append(notes, headlineNote{anomaly: true, text: fmt.Sprintf("%d consumers got an auto message although their first SEND certainly missed the window: "+
			"the window is longer than configured, or the clocks lie", h.Anomalies)})
	}
	return served, notes
}

// writeVerdicts renders the window verdicts from the client's timing beside the evidence of the
// auto messages (received or not, per verdict), by send delay when it varied, the knee of a
// ramp and the gap's margin to the window.
func writeVerdicts(b *strings.Builder, m *report.Metrics, window time.Duration) {
	v := m.Verdicts
	n := report.Judged(m)
	awaited, _ := m.AutoMessages()
	fmt.Fprintf(b, "window %s (first SEND after CONVERSATION), %d journeys judged:\n", window, n)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, verdict sample.Verdict, rule string) {
		// Names are padded so that the right-aligning tabwriter leaves them aligned left.
		fmt.Fprintf(tw, "  %-10s\t%d\t%s\t  ", name, v[verdict], share(v[verdict], n))
		if awaited == 0 {
			fmt.Fprintf(tw, "%s\n", rule)
			return
		}
		got, of := m.AutoMsgReceived[verdict], m.AutoMsgAwaited[verdict]
		fmt.Fprintf(tw, "%-23s\t  auto message received %d of %d\n", rule, got, of)
	}
	row("in", sample.VerdictIn, "gap < window")
	row("uncertain", sample.VerdictUncertain, "gap_min < window ≤ gap")
	row("missed", sample.VerdictMissed, "gap_min ≥ window")
	tw.Flush()
	if awaited == 0 && n > 0 {
		fmt.Fprintf(b, "  not in the window for certain (window.not_in): %d (%s)\n",
			v[sample.VerdictMissed]+v[sample.VerdictUncertain], share(v[sample.VerdictMissed]+v[sample.VerdictUncertain], n))
	}
	writeByDelay(b, m)
	writeKnee(b, m.Series)
	if m.Gap.TotalCount() > 0 {
		p99 := hdr.Percentile(m.Gap, 99)
		fmt.Fprintf(b, "  gap p99 %s, max %s: %s of the window left at p99\n",
			report.FormatDuration(p99), report.FormatDuration(hdr.MaxOf(m.Gap)), report.FormatDuration(window-p99))
	}
}

// writeLatency renders the latency table: count, percentiles and max of every histogram.
func writeLatency(b *strings.Builder, m *report.Metrics) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-18s\tcount\t", "latency")
	for _, p := range SummaryPercentiles {
		fmt.Fprintf(tw, "p%s\t", report.TrimFloat(p))
	}
	fmt.Fprint(tw, "max\t\n")
	row := func(name string, h *hdrhistogram.Histogram) {
		fmt.Fprintf(tw, "%-18s\t%d\t", name, h.TotalCount())
		for _, p := range SummaryPercentiles {
			fmt.Fprintf(tw, "%s\t", report.FormatDuration(hdr.Percentile(h, p)))
		}
		fmt.Fprintf(tw, "%s\t\n", report.FormatDuration(hdr.MaxOf(h)))
	}
	for s := range sample.NumSteps {
		if m.Steps[s].TotalCount() == 0 && s == sample.AutoMsg {
			continue // not measured by this journey
		}
		h := m.Steps[s]
		fmt.Fprintf(tw, "%-18s\t%d\t", stepLabel(m, s), h.TotalCount())
		for _, p := range SummaryPercentiles {
			fmt.Fprintf(tw, "%s\t", stepDuration(m, s, hdr.Percentile(h, p)))
		}
		fmt.Fprintf(tw, "%s\t\n", stepDuration(m, s, hdr.MaxOf(h)))
	}
	row("gap", m.Gap)
	row("gap_min", m.GapMin)
	if m.AutoMsg.TotalCount() > 0 {
		row("automsg", m.AutoMsg)
	}
	row("journey", m.Journey)
	row("lag", m.Lag)
	tw.Flush()
	b.WriteString("  step.*: service time of successful steps; gap: SEND's first response byte − CONVERSATION written (upper bound of\n")
	b.WriteString("  the server's gap); gap_min: SEND written − CONVERSATION's first response byte (lower bound);\n")
	b.WriteString("  journey: intended start → last step end; lag: actual − intended start\n")
	if m.AutoMsg.TotalCount() > 0 {
		b.WriteString("  automsg: create begin → first auto message received by the webhook receiver\n")
	}
	if anyCached(m) {
		b.WriteString("  " + cachedNote + "\n")
	}
}

// writeRequests renders the requests made per step and the retries.
func writeRequests(b *strings.Builder, m *report.Metrics) {
	var reqs []string
	for s := range sample.NumSteps {
		if s != sample.AutoMsg {
			reqs = append(reqs, fmt.Sprintf("%s %d", s, m.Requests[s]))
		}
	}
	fmt.Fprintf(b, "requests: %s\n", strings.Join(reqs, ", "))
	var retries []string
	for s := range sample.NumSteps {
		if n := m.Retries[s]; n > 0 {
			retries = append(retries, fmt.Sprintf("%s %d", s, n))
		}
	}
	if len(retries) > 0 {
		fmt.Fprintf(b, "retries: %s (their waits are in the step times, and for create and send in the gap)\n", strings.Join(retries, ", "))
	}
}

// writeSideBySide puts the targets' main figures in columns.
func writeSideBySide(b *strings.Builder, r *report.Result) {
	b.WriteString("\n== targets side by side\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-22s\t", "")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "%s\t", t.Name)
	}
	fmt.Fprint(tw, "\n")
	row := func(name string, cell func(m *report.Metrics) string) {
		fmt.Fprintf(tw, "%-22s\t", name)
		for _, m := range r.PerTarget {
			fmt.Fprintf(tw, "%s\t", cell(m))
		}
		fmt.Fprint(tw, "\n")
	}
	row("journeys ok", func(m *report.Metrics) string { return strconv.FormatInt(m.Outcomes[sample.OutcomeOK], 10) })
	row("failed", func(m *report.Metrics) string { return strconv.FormatInt(m.Outcomes[sample.OutcomeFailed], 10) })
	row("window missed", func(m *report.Metrics) string { return share(m.Verdicts[sample.VerdictMissed], report.Judged(m)) })
	for s := range sample.NumSteps {
		if r.Overall.Steps[s].TotalCount() == 0 {
			continue
		}
		for _, p := range []float64{50, 99} {
			row(fmt.Sprintf("step.%s p%g", s, p), func(m *report.Metrics) string { return stepDuration(m, s, hdr.Percentile(m.Steps[s], p)) })
		}
	}
	row("gap p99", func(m *report.Metrics) string { return report.FormatDuration(hdr.Percentile(m.Gap, 99)) })
	row("journey p99", func(m *report.Metrics) string { return report.FormatDuration(hdr.Percentile(m.Journey, 99)) })
	tw.Flush()
}

// writeKnee says, for a ramp, from which arrival rate the gap grew and the window was missed.
func writeKnee(b *strings.Builder, s report.Series) {
	if len(s) < 3 || !report.Ramped(s) {
		return
	}
	if k := report.FindKnee(s); k.Found {
		fmt.Fprintf(b, "  knee: from %s s in (target %s journeys/s) the gap p99 stays above %g× its early %s (%s there)\n",
			strconv.Itoa(k.Second), report.TrimFloat(k.TargetRate), report.KneeFactor, report.FormatDuration(k.Baseline), report.FormatDuration(k.GapP99))
	} else {
		b.WriteString("  knee: none: the gap p99 kept its early level over the whole ramp\n")
	}
	if sec, rate, ok := report.FirstMisses(s); ok {
		fmt.Fprintf(b, "  first missed windows at %d s in (target %s journeys/s)\n", sec, report.TrimFloat(rate))
	}
}

// delayRow is one send-delay bucket of the window verdicts, as the summary and the HTML page
// show it.
type delayRow struct {
	span                          string
	judged, in, uncertain, missed int64
	missedShare                   string
}

// delayRows returns the buckets that judged journeys, in order.
func delayRows(m *report.Metrics) []delayRow {
	var rows []delayRow
	for i := range m.ByDelay {
		v := &m.ByDelay[i]
		n := report.JudgedOf(v)
		if n == 0 {
			continue
		}
		lo, hi := m.DelayBucketRange(i)
		span := report.FormatDuration(lo) + " – " + report.FormatDuration(hi)
		if hi == 0 {
			span = "≥ " + report.FormatDuration(lo)
		}
		rows = append(rows, delayRow{span, n, v[sample.VerdictIn], v[sample.VerdictUncertain], v[sample.VerdictMissed], share(v[sample.VerdictMissed], n)})
	}
	return rows
}

// writeByDelay shows the verdicts by send delay when the journeys' delays spread over more than
// one bucket.
func writeByDelay(b *strings.Builder, m *report.Metrics) {
	rows := delayRows(m)
	if len(rows) < 2 {
		return
	}
	b.WriteString("  by send delay:\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "    %-16s\tjudged\tin\tuncertain\tmissed\tmissed share\t\n", "send delay")
	for _, r := range rows {
		fmt.Fprintf(tw, "    %-16s\t%d\t%d\t%d\t%d\t%s\t\n", r.span, r.judged, r.in, r.uncertain, r.missed, r.missedShare)
	}
	tw.Flush()
}

func writeFailures(b *strings.Builder, title string, f *[sample.NumSteps][sample.NumClasses]int64) {
	var rows []string
	for s := range sample.NumSteps {
		for c := range sample.NumClasses {
			if n := f[s][c]; n > 0 {
				rows = append(rows, fmt.Sprintf("  %-12s %-16s %d", s, sample.Class(c), n))
			}
		}
	}
	if len(rows) == 0 {
		fmt.Fprintf(b, "%s: none\n", title)
		return
	}
	fmt.Fprintf(b, "%s (step, class, count):\n%s\n", title, strings.Join(rows, "\n"))
}

// writeRunLines writes what identifies a distributed run and how it started: the run id, the
// barrier and the wait, a late join, the clock offset, and the shards a partial merge lacks.
func writeRunLines(b *strings.Builder, r *report.Result) {
	if !r.StartAt.IsZero() {
		fmt.Fprintf(b, "run %s: start barrier %s, waited %s", r.RunID, r.StartAt.UTC().Format(time.RFC3339Nano), r.Waited.Round(time.Millisecond))
		if r.JoinedLate > 0 {
			fmt.Fprintf(b, "; joined %s late: the arrivals intended before are not started", r.JoinedLate.Round(time.Millisecond))
		}
		b.WriteString("\n")
	}
	if c := r.Clock; c != nil {
		fmt.Fprintf(b, "clock offset from %s: between %s and %s (Date header, 1 s resolution)", c.Target, c.Min.Round(time.Millisecond), c.Max.Round(time.Millisecond))
		if c.Excludes(100 * time.Millisecond) {
			b.WriteString(" — MORE THAN 100 ms: synchronise the clocks (NTP)")
		}
		b.WriteString("\n")
	}
	if len(r.MissingShards) > 0 {
		ks := make([]string, len(r.MissingShards))
		for i, k := range r.MissingShards {
			ks[i] = strconv.Itoa(k)
		}
		fmt.Fprintf(b, "PARTIAL: shard(s) %s missing: the merged load is not the planned one\n", strings.Join(ks, ", "))
	}
}

// writeChecks writes the summary's measurement section: one line when every check holds, else
// one line per failing check (and per relaxed one that failed).
func writeChecks(b *strings.Builder, cs []report.Check) {
	if len(cs) == 0 {
		return
	}
	var bad, relaxed []report.Check
	for _, c := range cs {
		switch {
		case c.Failed():
			bad = append(bad, c)
		case !c.OK:
			relaxed = append(relaxed, c)
		}
	}
	if len(bad)+len(relaxed) == 0 {
		fmt.Fprintf(b, "measurement: all %d checks hold\n", len(cs))
		return
	}
	for _, c := range bad {
		fmt.Fprintf(b, "%s: %s\n", checkWords.summary[checkFailed], c.Line())
	}
	for _, c := range relaxed {
		fmt.Fprintf(b, "%s: %s\n", checkWords.summary[checkFailedRelaxed], c.Line())
	}
	if len(bad) == 0 {
		fmt.Fprintf(b, "measurement: the other %d checks hold\n", len(cs)-len(relaxed))
	}
}

// webhookLines are the lines, without their line break, that say what a target's webhook
// receiver got — received, first auto messages, duplicates, late, unmatched, echoes, bad
// signatures, and undecodable, dropped or reordered deliveries when there were any — and, when the
// run went through a relay, the relay's counters and its hop. None when the target had no
// receiver. The terminal summary and the markdown both show them.
func webhookLines(relayURL string, t report.TargetInfo) []string {
	w := t.Webhooks
	if w == nil {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "webhooks: received %d, first auto messages %d, duplicates %d, late %d, unmatched %d, consumer echoes %d, bad signatures %d",
		w.Received, w.AutoMessages, w.Duplicates, w.Late, w.Unmatched, w.Echoes, w.BadSignature)
	if w.Undecodable+w.Overflow > 0 {
		fmt.Fprintf(&b, ", undecodable %d, dropped (queue full) %d", w.Undecodable, w.Overflow)
	}
	if w.Reordered > 0 {
		fmt.Fprintf(&b, ", out of order %d", w.Reordered)
	}
	lines := []string{b.String()}
	if relayURL == "" {
		return lines
	}
	lines = append(lines, fmt.Sprintf("webhook relay %s: relayed %d, dropped by the relay %d (shard too slow), missed while not subscribed %d, resubscribed %d",
		relayURL, w.Relayed, w.RelayDropped, w.RelayMissed, w.RelayReconnects))
	if w.RelayUncertain > 0 {
		lines = append(lines, fmt.Sprintf("webhook relay: losses not known %d time(s) (the relay restarted during the run, or its final count could not be read)", w.RelayUncertain))
	}
	hop := t.RelayHop
	if hop == nil || hop.H.TotalCount() == 0 {
		return lines
	}
	h := hop.H
	b.Reset()
	fmt.Fprintf(&b, "relay hop (relay receive → shard receive, two clocks; part of automsg): p50 %s, p99 %s, max %s over %d deliveries",
		report.FormatDuration(hdr.Percentile(h, 50)), report.FormatDuration(hdr.Percentile(h, 99)), report.FormatDuration(hdr.MaxOf(h)), h.TotalCount())
	if hop.Behind > 0 {
		fmt.Fprintf(&b, "; %d negative (the relay's clock ahead), counted as 0", hop.Behind)
	}
	return append(lines, b.String())
}
