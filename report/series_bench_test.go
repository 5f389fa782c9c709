package report

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/sample"
)

// BenchmarkPointFill fills a second's point from metrics with every histogram populated (100
// journeys): what the recorder does once a second per target and for the whole run.
func BenchmarkPointFill(b *testing.B) {
	m := NewMetrics()
	r := rand.New(rand.NewPCG(1, 1))
	logNormal := func(h *hdrhistogram.Histogram, median time.Duration) {
		for range 100 {
			hdr.Record(h, time.Duration(float64(median)*math.Exp(0.5*r.NormFloat64())))
		}
	}
	for s := range sample.NumSteps {
		logNormal(m.Steps[s], 50*time.Millisecond)
	}
	logNormal(m.Gap, 150*time.Millisecond)
	logNormal(m.Journey, 300*time.Millisecond)
	logNormal(m.Lag, 300*time.Microsecond)
	for b.Loop() {
		var p Point
		p.Fill(m)
	}
}
