package profiles

import (
	"slices"
	"testing"
	"time"
)

// TestChecksSection reads a checks section, keeps the defaults of what it does not set, and
// writes it back in the effective profile in a form that reads again.
func TestChecksSection(t *testing.T) {
	t.Parallel()
	p, err := Parse("c.yaml", []byte("checks:\n  lag_p99: 20ms\n  dropped: 2.5%\n  relax: [generator_cpu, stationary]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Checks
	if got, want := c.LagP99, 20*time.Millisecond; got != want {
		t.Errorf("lag_p99 = %v, want %v", got, want)
	}
	if got, want := float64(c.Dropped), 0.025; got != want {
		t.Errorf("dropped = %v, want %v", got, want)
	}
	if got, want := float64(c.RateError), 0.05; got != want {
		t.Errorf("rate_error = %v, want the default %v", got, want)
	}
	if got, want := float64(c.CPU), 0.90; got != want {
		t.Errorf("cpu = %v, want the default %v", got, want)
	}
	if !c.Relaxed("generator_cpu") || !c.Relaxed("stationary") || c.Relaxed("generator_lag") {
		t.Errorf("relax = %v, want generator_cpu and stationary only", c.Relax)
	}
	eff, err := p.Effective()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse("effective", []byte(eff))
	if err != nil {
		t.Fatalf("the effective profile does not read back: %v\n%s", err, eff)
	}
	if got, want := q.Checks, p.Checks; got.LagP99 != want.LagP99 || got.Dropped != want.Dropped || got.CPU != want.CPU || !slices.Equal(got.Relax, want.Relax) {
		t.Errorf("effective checks = %+v, want %+v", got, want)
	}
}

// TestChecksMalformed: impossible limits and unknown check names are errors at their line.
func TestChecksMalformed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, yaml, want string }{
		// A check that does not exist cannot be relaxed.
		{"unknown check", "checks:\n  relax:\n    - generator_lag\n    - speed", `bad.yaml:4: checks.relax[1]: no check named "speed" (checks: generator_lag, load_delivered, generator_cpu, stationary, percentile_support, arrivals, webhook_receiver, webhook_relay)`},
		// A share is written as a percentage.
		{"bare number", "checks:\n  dropped: 0.01", `bad.yaml:2: checks.dropped: want a percentage between 0% and 100% (e.g. "1%"), got "0.01"`},
		// More than everything.
		{"above 100", "checks:\n  cpu: 150%", `bad.yaml:2: checks.cpu: want a percentage between 0% and 100% (e.g. "1%"), got "150%"`},
		// A lag limit of nothing would fail every run.
		{"zero lag", "checks:\n  lag_p99: 0", "bad.yaml:2: checks.lag_p99: must be > 0, got 0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if got, want := err.Error(), tc.want; got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
		})
	}
}
