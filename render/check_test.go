package render

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
)

// TestWriteSummaryChecksGolden: a run whose measurement is not valid says so right under its
// header, one line per failing check, relaxed failures apart.
func TestWriteSummaryChecksGolden(t *testing.T) {
	t.Parallel()
	r := reporttest.SummaryResult()
	r.Checks = reporttest.SampleChecks()
	out := summary(t, r)
	checkGolden(t, "summary_checks.golden", out)
	lines := strings.Split(out, "\n")
	for i, want := range []string{
		"measurement NOT VALID: generator_lag: lag p99 38ms",
		"measurement NOT VALID: load_delivered: dropped 94%",
		"measurement, relaxed (does not invalidate the run): stationary [va]: journey p99 grew",
	} {
		if got := lines[2+i]; !strings.HasPrefix(got, want) {
			t.Errorf("summary line %d = %q, want it to start %q", 3+i, got, want)
		}
	}
}

// TestWriteSummaryChecksHold: when every check holds, one line says so.
func TestWriteSummaryChecksHold(t *testing.T) {
	t.Parallel()
	r := reporttest.SummaryResult()
	for _, c := range reporttest.SampleChecks() {
		c.OK = true
		r.Checks = append(r.Checks, c)
	}
	out := summary(t, r)
	if got, want := strings.Split(out, "\n")[2], "measurement: all 6 checks hold"; got != want {
		t.Errorf("summary line 3 = %q, want %q", got, want)
	}
	if strings.Contains(out, "NOT VALID") {
		t.Errorf("summary says NOT VALID though every check holds:\n%s", out)
	}
}

// TestJUnitChecks: one test case per check; failed (not relaxed) ones are failures.
func TestJUnitChecks(t *testing.T) {
	t.Parallel()
	r := reporttest.SummaryResult()
	r.Checks = reporttest.SampleChecks()
	var b bytes.Buffer
	if err := writeJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Class   string    `xml:"classname,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Suites[0].Failures, 2; got != want {
		t.Errorf("failures = %d, want %d (generator_lag, load_delivered; stationary is relaxed)", got, want)
	}
	var failed []string
	for _, c := range doc.Suites[0].Cases {
		if c.Class == "lpbench.measurement" && c.Failure != nil {
			failed = append(failed, c.Name)
		}
	}
	if got, want := failed, []string{"generator_lag", "load_delivered"}; !reflect.DeepEqual(got, want) {
		t.Errorf("failed cases %v, want %v", got, want)
	}
}

// TestHTMLBanner: the report opens with a banner naming every failed check, and has none when
// the measurement is valid.
func TestHTMLBanner(t *testing.T) {
	t.Parallel()
	render := func(cs []report.Check) string {
		r := reporttest.SummaryResult()
		r.Checks = cs
		var b bytes.Buffer
		if err := writeHTML(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	bad := render(reporttest.SampleChecks())
	i := strings.Index(bad, `<div class="banner" role="alert"><b>The measurement is not valid:</b>`)
	if i < 0 || i > strings.Index(bad, "<header>") {
		t.Fatalf("no banner before the header")
	}
	banner := bad[i : i+strings.Index(bad[i:], "</div>")]
	for _, want := range []string{"generator_lag: lag p99 38ms", "load_delivered: dropped 94%"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Contains(banner, "stationary") {
		t.Errorf("banner names the relaxed check:\n%s", banner)
	}
	if !strings.Contains(bad, "FAILED (relaxed)") {
		t.Error("checks table does not mark the relaxed failure")
	}
	// The measured and limit cells wrap (white-space:normal), so that the table fits the page
	// instead of scrolling sideways and hiding its limit column.
	if n := strings.Count(bad, `<td class="wrap">`); n != 2*len(reporttest.SampleChecks()) {
		t.Errorf("%d wrapping cells in the checks table, want measured and limit of %d checks", n, len(reporttest.SampleChecks()))
	}
	if !strings.Contains(bad, "td.wrap{white-space:normal;") {
		t.Error("the style sheet does not let the checks table's cells wrap")
	}
	var ok []report.Check
	for _, c := range reporttest.SampleChecks() {
		c.OK = true
		ok = append(ok, c)
	}
	if strings.Contains(render(ok), `class="banner"`) {
		t.Error("a banner although every check holds")
	}
}
