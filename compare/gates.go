package compare

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Gate is one regression gate (--fail-on-regression METRIC:PCT): METRIC may not worsen
// significantly by more than PCT, percent for a duration, percentage points for a share.
type Gate struct {
	Metric string
	Pct    float64
}

// ParseGates reads gates written METRIC:PCT, several separated by commas; "" is none.
func ParseGates(s string) ([]Gate, error) {
	if s == "" {
		return nil, nil
	}
	var gs []Gate
	for _, one := range strings.Split(s, ",") {
		metric, pcts, ok := strings.Cut(strings.TrimSpace(one), ":")
		pct, err := strconv.ParseFloat(pcts, 64)
		if !ok || err != nil || pct < 0 || metric == "" {
			return nil, fmt.Errorf("--fail-on-regression wants METRIC:PCT (e.g. step.create.p95:10, served:1), got %q", one)
		}
		gs = append(gs, Gate{Metric: metric, Pct: pct})
	}
	return gs, nil
}

// Share reports whether the gate's metric is a share (its PCT in percentage points), not a
// percentile of a duration.
func (g Gate) Share() bool { return PercentileOf(g.Metric) == 0 }

// PercentileOf returns the percentile a metric name ends in (step.create.p95: 95), 0 for none.
func PercentileOf(metric string) float64 {
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

// Breach is a gate that a pair failed: its metric is significantly worse in Pair.New.
type Breach struct {
	Gate Gate
	Pair *Pair
}

// Breaches returns, gate by gate, each pair whose gated metric regressed; an error names a
// gate's metric that the comparison does not have.
func Breaches(pairs []Pair, gates []Gate) ([]Breach, error) {
	var out []Breach
	for _, g := range gates {
		for i := range pairs {
			worse, err := Regressed(pairs[i].Changes, g.Metric, g.Pct)
			if err != nil {
				return out, fmt.Errorf("--fail-on-regression: %w", err)
			}
			if worse {
				out = append(out, Breach{Gate: g, Pair: &pairs[i]})
			}
		}
	}
	return out, nil
}

// WithPercentiles returns the default percentiles with those of the gates and ps added, sorted,
// so that every percentile a gate or a threshold names is compared.
func WithPercentiles(gates []Gate, ps []float64) []float64 {
	out := slices.Clone(DefaultPercentiles)
	for _, g := range gates {
		ps = append(ps, PercentileOf(g.Metric))
	}
	for _, p := range ps {
		if p > 0 && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
