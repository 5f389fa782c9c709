package render

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/lpbench/lpbench/compare"
	"github.com/lpbench/lpbench/compare/comparetest"
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/sample"
)

// compareGoldenChanges are the changes the golden files render: create 20 % slower, a missed
// share from 0, a few more errors, no lag in the base run, automsg measured in neither.
var compareGoldenChanges = sync.OnceValue(func() []compare.Change {
	base, newer := comparetest.Metrics(11, 2000, 1), comparetest.Metrics(12, 2000, 1.2)
	base.Lag = hdr.New()
	base.Verdicts = [sample.NumVerdicts]int64{sample.VerdictIn: 1990, sample.VerdictUncertain: 10}
	newer.Verdicts = [sample.NumVerdicts]int64{sample.VerdictIn: 1950, sample.VerdictUncertain: 10, sample.VerdictMissed: 40}
	base.Outcomes = [sample.NumOutcomes]int64{sample.OutcomeOK: 1990, sample.OutcomeFailed: 10}
	newer.Outcomes = [sample.NumOutcomes]int64{sample.OutcomeOK: 1988, sample.OutcomeFailed: 12}
	return compare.Runs(base, newer, compare.Options{Seed: 2025})
})

func TestWriteCompareTextGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeCompareText(&b, "nightly-0312.json", "nightly-0313.json", compareGoldenChanges()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "compare_text.golden", b.String())
}

func TestWriteCompareHTMLGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeCompareHTML(&b, "nightly-0312.json", "nightly-0313.json", compareGoldenChanges()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "compare_html.golden", b.String())
}

func TestWriteCompareContent(t *testing.T) {
	t.Parallel()
	cs := compareGoldenChanges()
	var text, page bytes.Buffer
	if err := writeCompareText(&text, "base.json", "<new & improved>", cs); err != nil {
		t.Fatal(err)
	}
	if err := writeCompareHTML(&page, "base.json", "<new & improved>", cs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		out  *bytes.Buffer
		want string // a substring that must appear
		not  bool   // must not appear instead
	}{
		// The text table: create worse at p50, its interval above 0.
		{"text create worse", &text, "step.create.p50", false},
		{"text header", &text, "lpbench compare: base base.json, new <new & improved>", false},
		// The first line answers: the largest significant change, worse first.
		{"text verdict first", &text, "<new & improved> is slower than base.json on step.create.p50 by +", false},
		{"text lag apart", &text, "\ngenerator (lag: the generator's own lateness", false},
		{"text interval header", &text, "95% CI", false},
		// A share rising from 0 has no relative change.
		{"text n/a", &text, "n/a", false},
		// The method is stated with its numbers.
		{"text adjustment", &text, "hold together with 95% confidence", false},
		// The HTML marks worse rows, escapes names and fetches nothing.
		{"html worse row", &page, `<tr class="worse"><td>step.create.p50</td>`, false},
		{"html escapes", &page, "&lt;new &amp; improved&gt;", false},
		{"html raw name", &page, "<new & improved>", true},
		{"html no script", &page, "<script", true},
		{"html no link", &page, "href=", true},
		{"html no source", &page, "src=", true},
		{"html no url", &page, "url(", true},
	}
	for _, tt := range tests {
		if got := strings.Contains(tt.out.String(), tt.want); got == tt.not {
			t.Errorf("%s: contains %q = %v, want %v", tt.name, tt.want, got, !tt.not)
		}
	}
	// Every row of the text table says its verdict; rows with no data have dashes.
	for _, line := range strings.Split(text.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "lag.") && strings.Contains(line, "worse") {
			t.Errorf("lag row %q: the generator's lag is never judged", line)
		}
		if strings.HasPrefix(strings.TrimSpace(line), "step.create.") && !strings.HasSuffix(line, "  worse") {
			t.Errorf("create row %q, want verdict worse", line)
		}
	}
}

func TestWriteCompareWriteError(t *testing.T) {
	t.Parallel()
	cs := compareGoldenChanges()
	if err := writeCompareText(failWriter{}, "a", "b", cs); err == nil {
		t.Error("writeCompareText to a failing writer: no error")
	}
	if err := writeCompareHTML(failWriter{}, "a", "b", cs); err == nil {
		t.Error("writeCompareHTML to a failing writer: no error")
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestWriteCompareBlocks: a comparison of runs with per-second series says that seconds were
// the unit and how long the blocks were, and marks no interval as resting on single values; one
// run without a series marks every interval it took part in.
func TestWriteCompareBlocks(t *testing.T) {
	t.Parallel()
	base := comparetest.SeriesRun{Seed: 12, Secs: 60, PerSec: 10, Phi: 0.5, Drift: 0.1, Scale: 1}.Metrics()
	newer := comparetest.SeriesRun{Seed: 13, Secs: 60, PerSec: 10, Phi: 0.5, Drift: 0.1, Scale: 1}.Metrics()
	var b bytes.Buffer
	if err := writeCompareText(&b, "a", "b", compare.Runs(base, newer, compare.Options{Seed: 1})); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "The unit is the run's second") || !regexp.MustCompile(`blocks of\s+consecutive\s+seconds\s+\(\d+(–\d+)? s,`).MatchString(out) {
		t.Errorf("the notes do not state the unit and the blocks:\n%s", out)
	}
	// window.not_in alone: a second holds no count of uncertain journeys.
	if strings.Count(out, "]*") != 1 || !regexp.MustCompile(`window\.not_in .*\]\*`).MatchString(out) || !strings.Contains(out, "*: 1 of the intervals") {
		t.Errorf("an interval but window.not_in's is marked as resting on single values:\n%s", out)
	}
	b.Reset()
	if err := writeCompareText(&b, "a", "b", compare.Runs(comparetest.WithoutSeries(base), newer, compare.Options{Seed: 1})); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Count(out, "]*") != 9 || !strings.Contains(out, "*: 9 of the intervals treat a run's requests as independent") {
		t.Errorf("want the 9 intervals with data marked (create and journey at 3 percentiles, the three shares with data):\n%s", out)
	}
}
