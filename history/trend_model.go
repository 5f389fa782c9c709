package history

import (
	"time"

	"github.com/lpbench/lpbench/report"
)

// Trend is the history of a set of comparable runs, metric by metric, as lpbench history trend
// draws it: BuildTrend fills it, the renderers draw it.
type Trend struct {
	Title, Subtitle string
	Runs            []TrendRun   // oldest first: the x axis
	Charts          []TrendChart // one per target and metric
}

// TrendRun is one run of a Trend.
type TrendRun struct {
	Seq   int64 // the run's number in the history file
	RunID string
	Start time.Time
	// Excluded: its own measurement checks failed, so it is in no baseline and never judged.
	Excluded bool
}

// TrendChart is one metric of one target over the runs of a Trend.
type TrendChart struct {
	Target, Metric string
	Kind           report.ValueKind
	Points         []TrendPoint // one per run of Trend.Runs, in their order
}

// TrendPoint is a metric's value in one run, and its judgment against that run's baseline.
type TrendPoint struct {
	Value float64
	OK    bool // the run measured the metric
	// Band is the baseline band the value was judged against, [Lo, Hi]; false when the run was not
	// judged (too few baseline runs before it, or its checks failed).
	Band   bool
	Lo, Hi float64
	// Flag is "regression", "improvement" or "" (within the band or the minimum effect).
	Flag string
}

// Flag values of a TrendPoint.
const (
	FlagRegression  = "regression"
	FlagImprovement = "improvement"
)
