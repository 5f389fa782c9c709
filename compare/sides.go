package compare

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lpbench/lpbench/report"
)

// ReadSides reads the sides of a comparison, the first the base: the result files named, or,
// with targets (A,B[,C...]), those targets of the one result file. It returns too the
// percentiles the results' thresholds name, so that each is compared (WithPercentiles).
func ReadSides(files []string, targets string) ([]Named, []float64, error) {
	switch {
	case targets != "" && len(files) == 1:
		return readTargets(files[0], targets)
	case targets == "" && len(files) >= 2:
		var out []Named
		var ps []float64
		for _, f := range files {
			r, err := report.ReadFile(f)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, Named{Name: f, Metrics: r.Overall})
			ps = thresholdPercentiles(r, ps)
		}
		return out, ps, nil
	}
	return nil, nil, errors.New("name two result files or more, or one with --targets")
}

// readTargets reads the targets of the result file, each a side.
func readTargets(file, targets string) ([]Named, []float64, error) {
	r, err := report.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	names := strings.Split(targets, ",")
	if len(names) < 2 {
		return nil, nil, fmt.Errorf("--targets wants two names or more, A,B[,C...], got %q", targets)
	}
	var out []Named
	byName := r.ByTarget()
	for _, name := range names {
		name = strings.TrimSpace(name)
		m := byName[name]
		if m == nil {
			return nil, nil, fmt.Errorf("%s has no target %q: it has %s", file, name, strings.Join(slices.Sorted(maps.Keys(byName)), ", "))
		}
		if slices.ContainsFunc(out, func(n Named) bool { return n.Name == name }) {
			return nil, nil, fmt.Errorf("--targets names %q twice", name)
		}
		out = append(out, Named{Name: name, Metrics: m})
	}
	return out, thresholdPercentiles(r, nil), nil
}

// thresholdPercentiles appends the percentiles r's thresholds name.
func thresholdPercentiles(r *report.Result, ps []float64) []float64 {
	for _, t := range r.Thresholds {
		if p := PercentileOf(t.Metric); p > 0 {
			ps = append(ps, p)
		}
	}
	return ps
}
