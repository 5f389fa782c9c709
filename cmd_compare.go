package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lpbench/lpbench/compare"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
)

const compareSynopsis = "compare BASE.json NEW.json... | lpbench compare RESULT.json --targets A,B,C " +
	"[--format text|html|markdown] [--fail-on-regression METRIC:PCT[,METRIC:PCT...]]"

// cmdCompare compares results, or targets of one result: each against the first, with one
// verdict for them all.
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
	gates, err := parseGates(*failOn)
	if err != nil {
		return err
	}
	sides, percentiles, err := compareSides(files, *targets)
	if err != nil {
		return flagError(fs, "%v", err)
	}
	o := compare.Options{Percentiles: slices.Clone(compare.DefaultPercentiles)}
	for _, g := range gates {
		percentiles = append(percentiles, g.percentile)
	}
	for _, p := range percentiles {
		if p > 0 && !slices.Contains(o.Percentiles, p) {
			o.Percentiles = append(o.Percentiles, p)
		}
	}
	slices.Sort(o.Percentiles)
	pairs := compare.Against(sides[0], sides[1:], o)
	if err := write(pairs)(stdout); err != nil {
		return err
	}
	return judgeGates(pairs, gates, stderr)
}

// gate is one --fail-on-regression METRIC:PCT.
type gate struct {
	metric     string
	pct        float64
	percentile float64 // the metric's percentile, 0 for a share
}

// parseGates reads --fail-on-regression: METRIC:PCT, several separated by commas.
func parseGates(s string) ([]gate, error) {
	if s == "" {
		return nil, nil
	}
	var gs []gate
	for _, one := range strings.Split(s, ",") {
		metric, pcts, ok := strings.Cut(strings.TrimSpace(one), ":")
		pct, err := strconv.ParseFloat(pcts, 64)
		if !ok || err != nil || pct < 0 || metric == "" {
			return nil, usageError("--fail-on-regression wants METRIC:PCT (e.g. step.create.p95:10, served:1), got %q", one)
		}
		gs = append(gs, gate{metric: metric, pct: pct, percentile: percentileOf(metric)})
	}
	return gs, nil
}

// percentileOf returns the percentile a metric name ends in (step.create.p95: 95), 0 for none.
func percentileOf(metric string) float64 {
	i := strings.LastIndex(metric, ".p")
	if i < 0 {
		return 0
	}
	p, err := strconv.ParseFloat(metric[i+2:], 64)
	if err != nil || p <= 0 || p > 100 {
		return 0
	}
	return p
}

// judgeGates returns exit 3 when a gated metric regressed in any pair, naming each on stderr.
func judgeGates(pairs []compare.Pair, gates []gate, stderr io.Writer) error {
	failed := false
	for _, g := range gates {
		unit := "%"
		if percentileOf(g.metric) == 0 {
			unit = " percentage points"
		}
		for _, p := range pairs {
			worse, err := compare.Regressed(p.Changes, g.metric, g.pct)
			if err != nil {
				return usageError("--fail-on-regression: %v", err)
			}
			if worse {
				fmt.Fprintf(stderr, "lpbench compare: %s of %s is significantly worse than %s's by more than %g%s\n", g.metric, p.New, p.Base, g.pct, unit)
				failed = true
			}
		}
	}
	if failed {
		return exitCode(exitcode.Thresholds)
	}
	return nil
}

// compareSides reads the sides, the first the base: result files, or targets of one. It returns
// too the percentiles the results' thresholds name, so that each is compared.
func compareSides(files []string, targets string) ([]compare.Named, []float64, error) {
	var out []compare.Named
	var ps []float64
	switch {
	case targets != "" && len(files) == 1:
		r, err := report.ReadFile(files[0])
		if err != nil {
			return nil, nil, err
		}
		names := strings.Split(targets, ",")
		if len(names) < 2 {
			return nil, nil, fmt.Errorf("--targets wants two names or more, A,B[,C...], got %q", targets)
		}
		byName := r.ByTarget()
		for _, name := range names {
			name = strings.TrimSpace(name)
			m := byName[name]
			if m == nil {
				return nil, nil, fmt.Errorf("%s has no target %q: it has %s", files[0], name, strings.Join(slices.Sorted(maps.Keys(byName)), ", "))
			}
			if slices.ContainsFunc(out, func(n compare.Named) bool { return n.Name == name }) {
				return nil, nil, fmt.Errorf("--targets names %q twice", name)
			}
			out = append(out, compare.Named{Name: name, Metrics: m})
		}
		ps = thresholdPercentiles(r, ps)
	case targets == "" && len(files) >= 2:
		for _, f := range files {
			r, err := report.ReadFile(f)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, compare.Named{Name: f, Metrics: r.Overall})
			ps = thresholdPercentiles(r, ps)
		}
	default:
		return nil, nil, fmt.Errorf("name two result files or more, or one with --targets")
	}
	return out, ps, nil
}

// thresholdPercentiles appends the percentiles r's thresholds name.
func thresholdPercentiles(r *report.Result, ps []float64) []float64 {
	for _, t := range r.Thresholds {
		if p := percentileOf(t.Metric); p > 0 {
			ps = append(ps, p)
		}
	}
	return ps
}
