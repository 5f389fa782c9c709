package report

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// capacityFixture is a finished search: bracketed 50 → 200, bisected to 103.125–106.25,
// confirmed.
func capacityFixture() *Capacity {
	step := func(r float64, phase string, pass bool, gap, growth float64, why ...string) CapacityStep {
		st := CapacityStep{Rate: r, Duration: 4, Phase: phase, Pass: pass, Ended: int64(4 * r), Verified: true, Served: 1,
			GapP99: gap, CreateP99: gap * 0.8, GapGrowth: growth, Why: why}
		if !pass {
			st.Served = 0.9
			st.Failed = []string{CriterionSLO}
		}
		st.Result = "step-01/result.json"
		return st
	}
	return &Capacity{Schema: CapacitySchema, Profile: "cap100", Start: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Elapsed: 54,
		SustainableRate: 103.125, Interval: [2]float64{103.125, 106.25}, Bound: BoundTarget, Found: true, Resolution: 0.05,
		SLO: []string{"automsg.missing < 0.1%", "errors < 0.1%"}, Window: 0.2,
		Steps: []CapacityStep{
			step(50, "bracket", true, 0.004, 0),
			step(100, "bracket", true, 0.006, 0.0004),
			step(200, "bracket", false, 2.1, 0.52, "slo: automsg.missing < 0.1% measured 48.2%"),
			step(150, "bisect", false, 1.3, 0.33, "slo: automsg.missing < 0.1% measured 31%"),
			step(103.125, "bisect", true, 0.03, 0.006),
			step(106.25, "bisect", false, 0.21, 0.05, "slo: automsg.missing < 0.1% measured 0.4%"),
			step(103.125, "confirm", true, 0.03, 0.005),
			step(106.25, "above", false, 0.22, 0.052, "slo: automsg.missing < 0.1% measured 0.5%"),
		}}
}

// TestCapacitySummaryGolden: the summary of a search, byte for byte.
func TestCapacitySummaryGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteCapacitySummary(&b, capacityFixture()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "capacity_summary.golden", b.String())
}

// TestCapacityHeadline: each outcome in one line.
func TestCapacityHeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Capacity)
		want string
	}{
		// Found: the rate, the interval, the growth at the lowest failing rate, the first failure.
		{"found", func(*Capacity) {}, "sustainable: 103.125 journeys/s (between 103.125 and 106.25); limited by the target: at 106.25/s the gap p99 grew 50.0ms/s; first step that failed: 200/s (slo)"},
		// The found rate failed one of its steps on the target: the edge is noisy, and the
		// headline says so. A step the search repeated for its generator checks (even if it
		// failed the SLO too) is no verdict; the retry that failed them alone is none either.
		{"noisy edge", func(c *Capacity) {
			c.Steps = append(c.Steps, CapacityStep{Rate: 103.125, Phase: "confirm", Failed: []string{CriterionGenerator, CriterionSLO}},
				CapacityStep{Rate: 103.125, Phase: "retry", Failed: []string{CriterionGenerator}},
				CapacityStep{Rate: 103.125, Phase: "confirm", Failed: []string{CriterionSLO}}, CapacityStep{Rate: 103.125, Phase: "above", Pass: true})
		}, "sustainable: 103.125 journeys/s (between 103.125 and 106.25); a noisy edge: it passed 3 of 4 steps at that rate; limited by the target: at 106.25/s the gap p99 grew 50.0ms/s; first step that failed: 200/s (slo)"},
		// A cap ended the search before it converged: what is known, and no rate as found.
		{"cut between", func(c *Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval = BoundBudget, false, 0, [2]float64{100, 150}
		}, "not converged: between 100 and 150 journeys/s, the search ended before it narrowed them; first step that failed: 200/s (slo)"},
		{"cut narrow", func(c *Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval = BoundBudget, false, 0, [2]float64{103.125, 106.25}
		}, "not converged: between 103.125 and 106.25 journeys/s, the search ended before its confirmation steps; first step that failed: 200/s (slo)"},
		{"cut before any verdict", func(c *Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval, c.Steps = BoundBudget, false, 0, [2]float64{0, 0}, nil
		}, "not converged: no step was judged"},
		{"cut rising", func(c *Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval, c.Steps = BoundBudget, false, 0, [2]float64{100, 0}, nil
		}, "not converged: at least 100 journeys/s, the search ended before a step failed"},
		// Generator-bound: no capacity figure.
		{"generator", func(c *Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval, c.Steps = BoundGenerator, false, 0, [2]float64{800, 1600}, nil
		}, "generator-bound at 1600/s: no capacity figure (the target sustained 800/s, the highest rate the generator delivered)"},
		// Every step passed up to the cap.
		{"max", func(c *Capacity) {
			c.Bound, c.Interval, c.Steps = BoundMax, [2]float64{300, 0}, nil
		}, "sustainable: at least 300 journeys/s: every step passed up to the --max cap"},
		// Nothing passed.
		{"none", func(c *Capacity) {
			c.Found, c.SustainableRate, c.Interval, c.Steps = false, 0, [2]float64{0, 10}, nil
		}, "no sustainable rate: the SLO fails even at 10/s, the lowest rate tried"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := capacityFixture()
			tc.edit(c)
			if got := CapacityHeadline(c); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestCapacityJSONRoundTrip: capacity.json reads back as written, and a wrong schema is refused.
func TestCapacityJSONRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "capacity.json")
	c := capacityFixture()
	if err := WriteFileAtomic(path, func(w io.Writer) error { return WriteCapacityJSON(w, c) }); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCapacityFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.SustainableRate != c.SustainableRate || got.Interval != c.Interval || got.Bound != c.Bound || len(got.Steps) != len(c.Steps) || got.Steps[2].Failed[0] != CriterionSLO {
		t.Errorf("read back %+v", got)
	}
	b, _ := os.ReadFile(path)
	for _, key := range []string{`"schema": "lpbench.capacity/v1"`, `"sustainable_rate": 103.125`, `"interval": [`, `"bound": "target"`, `"result": "step-01/result.json"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("capacity.json lacks %s", key)
		}
	}
	if err := os.WriteFile(path, []byte(`{"schema": "lpbench.result/v1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCapacityFile(path); err == nil || !strings.Contains(err.Error(), "lpbench.capacity/v1") {
		t.Errorf("a result file read as capacity.json: %v", err)
	}
}

// TestCapacityHTML: the page has its three charts, each with a mark per passed and failed step
// and the SLO line, and nothing that fetches.
func TestCapacityHTML(t *testing.T) {
	t.Parallel()
	page := renderCapacityHTML(t, capacityFixture())
	for _, want := range []string{`data-chart="served"`, `data-chart="gap-p99"`, `data-chart="create-p99"`, `data-series="pass"`, `data-series="fail"`,
		`SLO: automsg.missing &lt; 0.1%`, `href="step-01/report.html"`, "default-src &#39;none&#39;", "sustainable: 103.125 journeys/s"} {
		if !strings.Contains(page, want) && !strings.Contains(page, strings.ReplaceAll(want, "&#39;", "'")) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("page has a script")
	}
	if strings.Contains(page, `class="banner"`) {
		t.Error("a converged search has a banner")
	}
	cut := capacityFixture()
	cut.Bound, cut.Found, cut.SustainableRate = BoundBudget, false, 0
	if page := renderCapacityHTML(t, cut); !strings.Contains(page, `role="alert">Not converged: a cap`) || !strings.Contains(page, "not converged: between") {
		t.Error("the page of a search a cap ended lacks its banner or headline")
	}
}

func renderCapacityHTML(t *testing.T, c *Capacity) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteCapacityHTML(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestCapacityExit: the exit of a search, decided in one place: interrupted 130, generator-bound
// 4 (even with a rate found below), a step that could not run 1, a rate found 0, the SLO failing
// at the lowest rate 3, the conversation cap first 1.
func TestCapacityExit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		c       Capacity
		code    int
		meaning string
	}{
		{"interrupted", Capacity{Interrupted: true, Found: true}, ExitInterrupted, "interrupted"},
		{"generator-bound", Capacity{Bound: BoundGenerator, Interval: [2]float64{100, 200}}, ExitNotValid, "generator-bound"},
		{"a step could not run", Capacity{Error: "target sim: csds: network", Found: true, Bound: BoundTarget}, ExitRunFailed, "a step could not run: target sim: csds: network"},
		{"found", Capacity{Found: true, Bound: BoundTarget}, ExitOK, "a sustainable rate was found"},
		{"found at the cap", Capacity{Found: true, Bound: BoundMax}, ExitOK, "a sustainable rate was found"},
		{"SLO fails at the lowest rate", Capacity{Bound: BoundTarget}, ExitThresholds, "the SLO fails even at the lowest rate tried"},
		{"cut by a cap", Capacity{Bound: BoundBudget, Interval: [2]float64{40, 80}, Message: "the search ended at -max-steps 3 before it converged"}, ExitRunFailed, "not converged: the search ended at -max-steps 3"},
		{"no rate found", Capacity{Message: "so far: 40/s passed"}, ExitRunFailed, "no rate found: so far: 40/s passed"},
	} {
		code, meaning := tc.c.Exit()
		if code != tc.code || !strings.Contains(meaning, tc.meaning) {
			t.Errorf("%s: exit %d (%s), want %d (%s)", tc.name, code, meaning, tc.code, tc.meaning)
		}
	}
}
