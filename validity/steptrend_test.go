package validity

import (
	"testing"
	"time"

	"github.com/lpbench/lpbench/report"
)

// TestShortestStepJudged: a step of ShortestStep is judged wherever it starts within its second,
// and one a second shorter is not, from any offset: the shortest step a capacity search accepts
// can be judged.
func TestShortestStepJudged(t *testing.T) {
	t.Parallel()
	base := time.Unix(1_700_000_000, 0)
	var s report.Series
	for i := range 20 {
		s = append(s, report.Point{Unix: base.Unix() + int64(i), Completions: 20, GapP99: 100 * time.Millisecond})
	}
	for _, offset := range []time.Duration{0, time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond} {
		start := base.Add(offset)
		if g := StepGrowth(s, start, ShortestStep); !g.Judged || g.Grows {
			t.Errorf("step of %v from +%v: judged %v, grows %v (%s); want judged, steady", ShortestStep, offset, g.Judged, g.Grows, g.Line)
		}
		if g := StepGrowth(s, start, ShortestStep-time.Second-time.Nanosecond); g.Judged {
			t.Errorf("step of %v from +%v judged: %s", ShortestStep-time.Second-time.Nanosecond, offset, g.Line)
		}
	}
}
