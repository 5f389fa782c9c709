package profiles

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lpbench/lpbench/report"
)

// CheckLimits are the limits of the run's measurement checks (see report.Check), and the checks the
// profile relaxes: a relaxed check is computed and reported, but its failure does not make the
// run invalid.
type CheckLimits struct {
	LagP99    time.Duration `yaml:"lag_p99"`    // generator_lag: the arrivals' start lag p99 (default 10ms)
	Dropped   Percent       `yaml:"dropped"`    // load_delivered: dropped / planned (default 1%)
	RateError Percent       `yaml:"rate_error"` // load_delivered: a second's arrivals off its target rate (default 5%)
	CPU       Percent       `yaml:"cpu"`        // generator_cpu: busy share of the usable cores (default 90%)
	Relax     []string      `yaml:"relax"`      // names of checks whose failure does not invalidate the run
}

// defaultChecks are the checks' limits when a profile sets none.
func defaultChecks() CheckLimits {
	return CheckLimits{LagP99: 10 * time.Millisecond, Dropped: 0.01, RateError: 0.05, CPU: 0.90}
}

// Relaxed reports whether the profile relaxes check name.
func (c CheckLimits) Relaxed(name string) bool { return slices.Contains(c.Relax, name) }

// Percent is a share written as a percentage ("1%", "0.5%"); it holds the fraction (0.01).
type Percent float64

func (p *Percent) decodeYAML(d *decoder, n *yaml.Node, path string) {
	s, ok := strings.CutSuffix(strings.TrimSpace(n.Value), "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if n.Kind != yaml.ScalarNode || !ok || err != nil || f < 0 || f > 100 {
		d.errorf(n, path, `want a percentage between 0%% and 100%% (e.g. "1%%"), got %s`, kindName(n))
		return
	}
	*p = Percent(f / 100)
}

// MarshalYAML writes the share as the percentage a profile reads ("1%").
func (p Percent) MarshalYAML() (any, error) { return p.String(), nil }

// String returns the share as a percentage: "1%".
func (p Percent) String() string {
	return strconv.FormatFloat(float64(p)*100, 'f', -1, 64) + "%"
}

// checkChecks records the impossible limits and unknown check names of the checks section.
func (p *Profile) checkChecks(d *decoder) {
	c := &p.Checks
	if c.LagP99 <= 0 {
		d.errorf(nil, "checks.lag_p99", "must be > 0, got %v", c.LagP99)
	}
	for i, name := range c.Relax {
		if !slices.Contains(report.CheckNames, name) {
			d.errorf(nil, "checks.relax["+strconv.Itoa(i)+"]", "no check named %q (checks: %s)", name, strings.Join(report.CheckNames, ", "))
		}
	}
}
