package render

import (
	"bytes"
	"encoding/xml"
	"testing"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
)

// junitResult is the summary's deterministic result with thresholds evaluated on it: one passes,
// one fails, one has no data.
func junitResult(t *testing.T) *report.Result {
	t.Helper()
	r := reporttest.SummaryResult()
	var ths []report.ScopedThreshold
	for _, e := range []struct{ expr, target string }{
		{"errors < 50%", ""},            // holds
		{"step.create.p95 < 1ms", "va"}, // cannot hold
		{"automsg.missing < 1%", ""},    // no journey waited: no data
	} {
		th, err := report.ParseThreshold(e.expr)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, report.ScopedThreshold{Threshold: th, Target: e.target})
	}
	r.Thresholds = report.EvalThresholds(ths, r.Overall, map[string]*report.Metrics{"va": r.PerTarget[0]})
	return r
}

// TestWriteJUnitGolden: one test case per threshold; failures carry the measured value.
func TestWriteJUnitGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeJUnit(&b, junitResult(t)); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "junit.golden", b.String())
	// It is well-formed, with the counts CI systems read.
	var doc struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Tests != 3 || doc.Suites[0].Failures != 2 {
		t.Errorf("suites %+v: want 3 tests, 2 failures", doc.Suites)
	}
}
