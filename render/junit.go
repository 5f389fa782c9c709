package render

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/lpbench/lpbench/report"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes the threshold results as JUnit XML, one test case per threshold, so that CI
// systems show breached thresholds as failed tests with the measured value, then one per
// measurement check (class lpbench.measurement; a relaxed check does not fail).
func writeJUnit(w io.Writer, r *report.Result) error {
	suite := junitSuite{Name: "lpbench " + r.Profile, Time: r.Elapsed.Seconds()}
	for _, t := range r.Thresholds {
		name := t.Expr
		if t.Target != "" {
			name = "[" + t.Target + "] " + name
		}
		c := junitCase{Name: name, ClassName: "lpbench.thresholds", SystemOut: "measured " + measured(t)}
		if !t.Pass {
			suite.Failures++
			msg := fmt.Sprintf("%s: measured %s", name, measured(t))
			c.Failure = &junitFailure{Message: msg, Type: "threshold", Text: msg}
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, c := range r.Checks {
		tc := junitCase{Name: c.Label(), ClassName: "lpbench.measurement", SystemOut: c.Line()}
		if c.Relaxed {
			tc.SystemOut += checkWords.junitRelaxed
		}
		if c.Failed() {
			suite.Failures++
			tc.Failure = &junitFailure{Message: c.Line(), Type: "measurement", Text: c.Line()}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{suite}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
