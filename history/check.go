package history

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/report"
)

// The regression check judges a run against the previous comparable runs, metric by metric, with
// the run as the unit of variation: a run's percentile is one value, and the baseline's spread
// is that of those values from run to run. (Requests within a run are correlated, by the
// target's state, the machine and the hour, so a test over requests would call every night's
// weather a change.)
//
// The band is a prediction interval for one more run drawn like the baseline's K runs:
// mean ± t(0.999, K−1) · s · √(1 + 1/K), s the runs' standard deviation. Student's t makes a
// short baseline's band wide (its s is itself uncertain: K = 3 gives ±25.8 s, K = 7 ±5.6 s,
// K = 30 ±3.5 s), and the one-sided 0.1 % per metric keeps the false alarms of some 30 metrics
// per target near one night in thirty even when each metric is exactly normal. A value outside
// the band on the bad side is a regression only if it also differs from the baseline's mean by
// the minimum effect (default 5 %) and by an absolute floor (default 5 ms for a duration, 0.1
// percentage point for a share): a baseline that never varied has a band of zero width, and a
// change too small to matter is no regression, however sure. The duration floor is what the
// machine itself moves a fast step by between runs: in an A/A series on the 2-core CI machine the
// p95 of a step the simulator answers in 1 ms moved 1.7 ms from a baseline of 5 runs whose spread
// was 0.2 ms (a false alarm at a 1 ms floor); no consumer sees a 5 ms change.
//
// A share where more is better (served, served.unverified, window.in) is judged by its complement (the unserved
// share), so that 5 % means 5 % more consumers unserved, not 5 % of all consumers.

// CheckOptions tune the regression check.
type CheckOptions struct {
	// Baseline is K, the number of previous comparable runs judged against (default 7; fewer
	// than MinBaseline can never judge, and the command line refuses it).
	Baseline int
	// MinEffect is the smallest relative change that can be a regression (default 0.05: 5 %).
	MinEffect float64
	// MinDuration is the smallest change of a duration that can be a regression (default 5 ms).
	MinDuration time.Duration
	// IgnoreLabels are labels that do not decide which runs are comparable (a commit id).
	IgnoreLabels []string
}

// Defaults of CheckOptions, and the fewest baseline runs that can judge.
const (
	DefaultBaseline  = 7
	DefaultMinEffect = 0.05
	MinBaseline      = 3
)

// The absolute floors of an effect, by kind: a duration's is CheckOptions.MinDuration.
const (
	DefaultMinDuration = 5 * time.Millisecond
	MinEffectShare     = 0.001
)

// MinEffectString is the minimum effect as the reports state it: "5.0% (5ms for a duration)".
func (o CheckOptions) MinEffectString() string {
	o = o.withDefaults()
	return strings.TrimPrefix(report.FormatRel(o.MinEffect), "+") + " (" + report.FormatDuration(o.MinDuration) + " for a duration)"
}

func (o CheckOptions) withDefaults() CheckOptions {
	if o.Baseline <= 0 {
		o.Baseline = DefaultBaseline
	}
	if o.MinEffect <= 0 {
		o.MinEffect = DefaultMinEffect
	}
	if o.MinDuration <= 0 {
		o.MinDuration = DefaultMinDuration
	}
	return o
}

// Judgment is one metric of one target of a run judged against its baseline.
type Judgment struct {
	Target, Metric string
	Kind           report.ValueKind
	Value          float64
	// Mean, Lo and Hi are the baseline runs' mean and the band, in the metric's own unit.
	Mean, Lo, Hi float64
	N            int    // baseline runs that measured it
	Flag         string // FlagRegression, FlagImprovement or ""
	// Detect is the smallest change for the worse from the baseline's mean that this baseline
	// flags, in the metric's unit (a duration's ns, a share's fraction, a rate): the band's half
	// width or the minimum effect, whichever is larger. Up for a latency or an error share, down
	// for served, window.in and a sustainable rate (see Worse).
	Detect float64
	// Missing: the run lacks the metric, which N ≥ MinBaseline baseline runs had: a regression
	// (Value, Mean, Lo and Hi are 0).
	Missing bool
}

// Rel returns the change from the baseline's mean, relative to it (+0.15: 15 % higher).
func (j Judgment) Rel() float64 {
	if j.Mean == 0 {
		return math.Inf(int(math.Copysign(1, j.Value)))
	}
	return (j.Value - j.Mean) / math.Abs(j.Mean)
}

// Worse returns the sign of a change for the worse: +1 when a higher value is worse, −1 when a
// lower one is (served, served.unverified, window.in, a sustainable rate).
func (j Judgment) Worse() float64 { return orient(j.Metric, 1) - orient(j.Metric, 0) }

// Detectable says the smallest change for the worse the baseline can flag: relative to the mean
// ("+12.5%"), a share's in percentage points ("-0.80pp"), a duration from a mean of 0 in its
// unit; "" for a missing metric.
func (j Judgment) Detectable() string {
	if j.Missing {
		return ""
	}
	d := j.Worse() * j.Detect
	switch {
	case j.Kind == report.KindShare:
		s := strconv.FormatFloat(100*d, 'f', 2, 64) + "pp"
		if d >= 0 {
			s = "+" + s
		}
		return s
	case j.Mean == 0:
		return "+" + report.FormatValue(j.Kind, d)
	}
	return report.FormatRel(d / math.Abs(j.Mean))
}

// Outside returns how far the value lies outside the band (0 inside): value − Hi above it,
// Lo − value below.
func (j Judgment) Outside() float64 {
	switch {
	case j.Value > j.Hi:
		return j.Value - j.Hi
	case j.Value < j.Lo:
		return j.Lo - j.Value
	}
	return 0
}

// String says it in one line: metric, target, value, baseline band, how far outside.
func (j Judgment) String() string {
	if j.Missing {
		return fmt.Sprintf("%s: %s of target %s: missing: baseline had it in %d runs", j.Flag, j.Metric, j.Target, j.N)
	}
	f := func(v float64) string { return report.FormatValue(j.Kind, v) }
	s := fmt.Sprintf("%s of target %s: %s, baseline band %s – %s (mean %s of %d runs)", j.Metric, j.Target, f(j.Value), f(j.Lo), f(j.Hi), f(j.Mean), j.N)
	if out := j.Outside(); out > 0 {
		side := "above"
		if j.Value < j.Lo {
			side = "below"
		}
		s += fmt.Sprintf(", %s %s the band, %s on the mean", f(out), side, report.FormatRel(j.Rel()))
	}
	s += "; detects " + j.Detectable() + " or worse"
	if j.Flag != "" {
		s = j.Flag + ": " + s
	}
	return s
}

// Reason says why a run was not judged (RunJudgment.Reason).
type Reason int

// Why a run was not judged.
const (
	// Judged: the run was judged, at least one metric of it.
	Judged Reason = iota
	// NotValid: its own measurement is not valid (its checks failed, or it did not complete).
	NotValid
	// TooFewRuns: fewer than MinBaseline valid runs of its kind and profile came before it at
	// all: a young history, which has to grow.
	TooFewRuns
	// NotComparable: enough valid runs of its kind and profile came before it, but fewer than
	// MinBaseline comparable ones (their labels or shard differ: see Verdict.LabelsDiffer).
	NotComparable
	// NoMetric: it had a baseline, but not one of its metrics could be judged.
	NoMetric
)

// RunJudgment is the regression check of one run: its baseline, each metric's Judgment, or why it was
// not judged.
type RunJudgment struct {
	Run      *Run
	Baseline []*Run // the comparable runs it was judged against, oldest first
	// Options are the options it was judged with, defaults applied.
	Options CheckOptions
	// Reason says why the run was not judged (Judged when it was), NotJudged in a line that
	// begins "NOT JUDGED".
	Reason    Reason
	NotJudged string
	// LabelsDiffer are the label keys in which the earlier runs of its kind and profile differ
	// from it, when Reason is NotComparable (their shard may differ too: NotJudged says).
	LabelsDiffer []string
	Judgments    []Judgment // every metric judged, in the run's order, then those it lacks
	Skipped      []string   // metrics not judged, each with why
	// Warnings are facts the reader must weigh (the profile changed under the baseline).
	Warnings []string
}

// Invalid reports whether the run was not judged because its own measurement is not valid.
func (v *RunJudgment) Invalid() bool { return v.Reason == NotValid }

// Regressions returns the judgments flagged as regressions.
func (v *RunJudgment) Regressions() []Judgment {
	var out []Judgment
	for _, j := range v.Judgments {
		if j.Flag == FlagRegression {
			out = append(out, j)
		}
	}
	return out
}

// Series returns the runs of runs comparable with r (same kind, profile, shard and labels but
// those in ignore), oldest first, and r's index among them (-1 when r is not one of runs); r nil
// is the newest run. It is the series a trend draws and a check judges in.
func Series(runs []*Run, r *Run, ignore []string) ([]*Run, int) {
	if r == nil && len(runs) > 0 {
		r = runs[len(runs)-1]
	}
	if r == nil {
		return nil, -1
	}
	var out []*Run
	i := -1
	for _, x := range runs {
		if r.Comparable(x, ignore) {
			if x == r {
				i = len(out)
			}
			out = append(out, x)
		}
	}
	return out, i
}

// JudgeRun judges r, one of runs (every run of the history, oldest first), against its comparable
// runs as Judge does; when too few comparable valid runs came before it, it tells a young history
// (TooFewRuns) from one whose runs differ from r in labels or shard (NotComparable).
func JudgeRun(runs []*Run, r *Run, o CheckOptions) RunJudgment {
	series, i := Series(runs, r, o.IgnoreLabels)
	if i < 0 {
		return RunJudgment{Run: r, Options: o.withDefaults(), Reason: NotValid, NotJudged: fmt.Sprintf("NOT JUDGED: run #%d is not one of the runs", r.Seq)}
	}
	v := Judge(series, i, o)
	if v.Reason != TooFewRuns {
		return v
	}
	earlier, differ := 0, map[string]int{}
	for _, x := range runs {
		if x == r {
			break
		}
		if ok, _ := x.Judged(); !ok || x.Kind != r.Kind || x.Profile != r.Profile {
			continue
		}
		earlier++
		for _, k := range differences(r, x, o.IgnoreLabels) {
			differ[k]++
		}
	}
	if earlier < MinBaseline {
		return v
	}
	v.Reason = NotComparable
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(differ)) {
		if k != shardKey {
			v.LabelsDiffer = append(v.LabelsDiffer, k)
			parts = append(parts, fmt.Sprintf("label %s in %d", k, differ[k]))
		}
	}
	if n := differ[shardKey]; n > 0 {
		parts = append(parts, fmt.Sprintf("the shard in %d", n))
	}
	v.NotJudged = fmt.Sprintf("NOT JUDGED: run #%d: %d earlier valid runs of kind %s, profile %s, but only %d comparable with it: they differ in %s",
		r.Seq, earlier, r.Kind, r.Profile, len(v.Baseline), strings.Join(parts, ", "))
	return v
}

// differences returns the label keys (but those in ignore) in which o differs from r, and
// shardKey when their shards differ.
func differences(r, o *Run, ignore []string) []string {
	var out []string
	if r.Shard != o.Shard {
		out = append(out, shardKey)
	}
	keys := slices.Sorted(maps.Keys(r.Labels))
	for k := range o.Labels {
		if !hasKey(r.Labels, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		a, aok := r.Labels[k]
		b, bok := o.Labels[k]
		if !slices.Contains(ignore, k) && (aok != bok || a != b) {
			out = append(out, k)
		}
	}
	return out
}

// shardKey stands for the shard among label keys (no label key has parentheses).
const shardKey = "(shard)"

func hasKey(l map[string]string, k string) bool { _, ok := l[k]; return ok }

// Judge checks runs[i] against the previous o.Baseline runs of runs (oldest first) comparable
// with it (but for o.IgnoreLabels) whose own measurement was valid: each metric of the run, and
// each metric that at least MinBaseline baseline runs had and the run lacks (a regression).
func Judge(runs []*Run, i int, o CheckOptions) RunJudgment {
	o = o.withDefaults()
	r := runs[i]
	v := RunJudgment{Run: r, Options: o}
	if ok, why := r.Judged(); !ok {
		v.Reason, v.NotJudged = NotValid, "NOT JUDGED: run #"+strconv.FormatInt(r.Seq, 10)+": "+why
		return v
	}
	for j := i - 1; j >= 0 && len(v.Baseline) < o.Baseline; j-- {
		if ok, _ := runs[j].Judged(); ok && r.Comparable(runs[j], o.IgnoreLabels) {
			v.Baseline = append([]*Run{runs[j]}, v.Baseline...)
		}
	}
	if len(v.Baseline) < MinBaseline {
		v.Reason = TooFewRuns
		v.NotJudged = fmt.Sprintf("NOT JUDGED: run #%d: %d comparable valid run(s) before it, %d needed", r.Seq, len(v.Baseline), MinBaseline)
		return v
	}
	for _, m := range r.Metrics {
		jd, why := judgeMetric(m, v.Baseline, o)
		if why != "" {
			v.Skipped = append(v.Skipped, m.Target+" "+m.Name+": "+why)
			continue
		}
		v.Judgments = append(v.Judgments, jd)
	}
	v.judgeMissing()
	v.warnProfile()
	if len(v.Judgments) == 0 {
		v.Reason = NoMetric
		v.NotJudged = fmt.Sprintf("NOT JUDGED: run #%d: a baseline of %d runs, but not one of its %d metrics could be judged", r.Seq, len(v.Baseline), len(r.Metrics))
	}
	return v
}

// judgeMissing flags each metric that at least MinBaseline baseline runs had and the run lacks
// (a consumer-facing number that stopped being measured is no good news); one fewer baseline
// runs had is skipped, with why.
func (v *RunJudgment) judgeMissing() {
	type key struct{ target, metric string }
	var order []key
	count, kind := map[key]int{}, map[key]report.ValueKind{}
	for _, b := range v.Baseline {
		for _, m := range b.Metrics {
			k := key{m.Target, m.Name}
			if _, ok := v.Run.Metric(m.Target, m.Name); ok || strings.HasPrefix(m.Name, "lag.") {
				continue
			}
			if count[k] == 0 {
				order = append(order, k)
			}
			count[k]++
			kind[k] = m.Kind
		}
	}
	for _, k := range order {
		if count[k] < MinBaseline {
			v.Skipped = append(v.Skipped, fmt.Sprintf("%s %s: missing, and only %d baseline runs had it, %d needed", k.target, k.metric, count[k], MinBaseline))
			continue
		}
		v.Judgments = append(v.Judgments, Judgment{Target: k.target, Metric: k.metric, Kind: kind[k], N: count[k], Flag: FlagRegression, Missing: true})
	}
}

// warnProfile warns when the run's profile (its hash) differs from that of baseline runs.
func (v *RunJudgment) warnProfile() {
	var seqs []string
	for _, b := range v.Baseline {
		if b.ProfileHash != v.Run.ProfileHash {
			seqs = append(seqs, "#"+strconv.FormatInt(b.Seq, 10))
		}
	}
	if len(seqs) > 0 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("warning: the profile changed: run #%d has profile_hash %s, baseline runs %s another (judged all the same)",
			v.Run.Seq, shortHash(v.Run.ProfileHash), strings.Join(seqs, " ")))
	}
}

func shortHash(h string) string {
	if h == "" {
		return "(none)"
	}
	return h[:min(len(h), 12)]
}

// judgeMetric judges m against the baseline runs' values of the same metric and target; why
// says why it was not judged.
func judgeMetric(m Metric, baseline []*Run, o CheckOptions) (Judgment, string) {
	if strings.HasPrefix(m.Name, "lag.") {
		return Judgment{}, "the generator's own lateness, judged by the run's checks"
	}
	if !supported(m) {
		return Judgment{}, fmt.Sprintf("%d samples: too few for the percentile", m.Samples)
	}
	var xs []float64
	for _, b := range baseline {
		if bm, ok := b.Metric(m.Target, m.Name); ok && supported(bm) {
			xs = append(xs, orient(m.Name, bm.Value))
		}
	}
	if len(xs) < MinBaseline {
		return Judgment{}, fmt.Sprintf("%d baseline runs measured it, %d needed", len(xs), MinBaseline)
	}
	mean, sd := meanSD(xs)
	n := float64(len(xs))
	half := tQuantile(len(xs)-1) * sd * math.Sqrt(1+1/n)
	x := orient(m.Name, m.Value)
	effect := max(o.MinEffect*math.Abs(mean), o.floor(m.Kind))
	jd := Judgment{Target: m.Target, Metric: m.Name, Kind: m.Kind, Value: m.Value, N: len(xs), Detect: max(half, effect)}
	switch d := x - mean; {
	case d > half && d >= effect:
		jd.Flag = FlagRegression
	case -d > half && -d >= effect:
		jd.Flag = FlagImprovement
	}
	jd.Mean = orient(m.Name, mean)
	jd.Lo, jd.Hi = orient(m.Name, mean-half), orient(m.Name, mean+half)
	if jd.Lo > jd.Hi {
		jd.Lo, jd.Hi = jd.Hi, jd.Lo
	}
	if m.Kind == report.KindDuration || m.Kind == report.KindShare { // no value lies below 0 (nor a share above 1)
		jd.Lo = max(jd.Lo, 0)
	}
	if m.Kind == report.KindShare {
		jd.Hi = min(jd.Hi, 1)
	}
	return jd, ""
}

// orient maps a metric's value to one where higher is worse, and back (it is its own inverse):
// 1 − v for a share where more is better, −v for a rate found.
func orient(name string, v float64) float64 {
	switch name {
	case "served", "served.unverified", "window.in":
		return 1 - v
	case "sustainable_rate":
		return -v
	}
	return v
}

func (o CheckOptions) floor(k report.ValueKind) float64 {
	switch k {
	case report.KindDuration:
		return float64(o.MinDuration)
	case report.KindShare:
		return MinEffectShare
	}
	return 0
}

// supported reports whether a percentile metric has enough samples above it to be more than
// its run's few largest values (report.SupportAbove, as the percentile_support check asks).
func supported(m Metric) bool {
	i := strings.LastIndex(m.Name, ".p")
	if i < 0 || m.Kind != report.KindDuration {
		return m.Samples > 0
	}
	p, err := strconv.ParseFloat(m.Name[i+2:], 64)
	if err != nil {
		return m.Samples > 0
	}
	return float64(m.Samples)*(1-p/100) >= report.SupportAbove
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// tTable holds Student's t quantile at 0.999 for 1 … 30 degrees of freedom.
var tTable = [...]float64{318.31, 22.327, 10.215, 7.173, 5.893, 5.208, 4.785, 4.501, 4.297, 4.144,
	4.025, 3.930, 3.852, 3.787, 3.733, 3.686, 3.646, 3.610, 3.579, 3.552,
	3.527, 3.505, 3.485, 3.467, 3.450, 3.435, 3.421, 3.408, 3.396, 3.385}

// tQuantile returns Student's t quantile at 0.999 for df degrees of freedom (df ≥ 1); beyond
// the table it approaches the normal's 3.090 (within 0.01).
func tQuantile(df int) float64 {
	if df <= len(tTable) {
		return tTable[max(df, 1)-1]
	}
	return 3.090 + (tTable[len(tTable)-1]-3.090)*float64(len(tTable))/float64(df)
}
