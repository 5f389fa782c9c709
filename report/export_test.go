package report

import "github.com/lpbench/lpbench/sample"

// What the external tests (package report_test, which render what they check) reach inside.
var (
	JourneyAt = journeyAt
	NumKinds  = len(kinds) // the journeys JourneyAt cycles through
)

// AddForTest adds one journey's record to m, as the recorder does.
func (m *Metrics) AddForTest(j *sample.Record) { m.add(j) }
