package report

import (
	"fmt"
	"maps"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/sample"
)

// Point is one wall-clock second of a run's time series, for the whole run or one target.
// Arrivals and drops count in the second they were intended for; everything else in the second
// the journey was recorded (it ended).
type Point struct {
	Unix        int64   `json:"unix"`        // the second the point covers (Unix time)
	TargetRate  float64 `json:"target_rate"` // arrivals the schedule asked for in this second
	Arrivals    int64   `json:"arrivals"`    // journeys started, by intended start
	Dropped     int64   `json:"dropped"`     // arrivals dropped because the pool was full
	Completions int64   `json:"completions"` // journeys that ended, whatever the outcome
	OK          int64   `json:"ok"`
	Failed      int64   `json:"failed"`
	Interrupted int64   `json:"interrupted"`
	Missed      int64   `json:"missed"`    // journeys whose window was missed
	InFlight    int64   `json:"in_flight"` // journeys running when the second closed

	// Percentiles of the journeys that ended in this second.
	LagP99     time.Duration `json:"lag_p99_ns"`
	GapP50     time.Duration `json:"gap_p50_ns"`
	GapP99     time.Duration `json:"gap_p99_ns"`
	JourneyP99 time.Duration `json:"journey_p99_ns"`

	// The second's histograms in HdrHistogram's compressed form, so that series of shards merge
	// exactly; empty when no value was recorded.
	LagHist     string `json:"lag_hist,omitempty"`
	GapHist     string `json:"gap_hist,omitempty"`
	JourneyHist string `json:"journey_hist,omitempty"`
	// StepHists are the second's histograms of each step's service time (as Metrics.Steps), by
	// step name, in the same form; a step without values this second is left out.
	StepHists map[string]string `json:"step_hists,omitempty"`
	// Judged counts the journeys that ended this second with a window verdict (in, uncertain or
	// missed): the population of Missed's share. Compare's block bootstrap reads it.
	Judged int64 `json:"judged,omitempty"`
}

// Series is a per-second time series: one point per wall-clock second, in order, without gaps.
type Series []Point

// at returns the point of second sec (Unix), growing the series from base as needed.
func (s *Series) at(base, sec int64) *Point {
	if sec < base {
		sec = base // a record from before the first second (clock granularity) counts in it
	}
	for i := int64(len(*s)); i <= sec-base; i++ {
		*s = append(*s, Point{Unix: base + i})
	}
	return &(*s)[sec-base]
}

// Fill sets the point's figures from the second's metrics.
func (p *Point) Fill(m *Metrics) {
	p.Completions = m.Started()
	p.OK = m.Outcomes[sample.OutcomeOK]
	p.Failed = m.Outcomes[sample.OutcomeFailed]
	p.Interrupted = m.Outcomes[sample.OutcomeInterrupted]
	p.Missed = m.Verdicts[sample.VerdictMissed]
	p.Judged = Judged(m)
	for st := range sample.NumSteps {
		if enc := encodeHist(m.Steps[st]); enc != "" {
			if p.StepHists == nil {
				p.StepHists = map[string]string{}
			}
			p.StepHists[st.String()] = enc
		}
	}
	p.LagP99, p.LagHist = percentileAndHist(m.Lag, 99)
	p.JourneyP99, p.JourneyHist = percentileAndHist(m.Journey, 99)
	p.GapP99, p.GapHist = percentileAndHist(m.Gap, 99)
	p.GapP50 = hdr.Percentile(m.Gap, 50)
}

func percentileAndHist(h *hdrhistogram.Histogram, p float64) (time.Duration, string) {
	if h.TotalCount() == 0 {
		return 0, ""
	}
	return hdr.Percentile(h, p), encodeHist(h)
}

// encodeHist returns h in HdrHistogram's compressed form, "" when it is empty.
func encodeHist(h *hdrhistogram.Histogram) string {
	if h.TotalCount() == 0 {
		return ""
	}
	enc, err := hdr.Encode(h)
	if err != nil {
		return ""
	}
	return enc
}

// maxSeriesSeconds bounds the span of a merged series (two days), so that results of unrelated
// runs, or a damaged file, cannot make a merge allocate without limit.
const maxSeriesSeconds = 2 * 24 * 3600

// MergeSeries adds series b into a, aligning their points on wall-clock seconds: counts and
// target rates add, and the percentiles are recomputed from the merged histograms of each second.
func MergeSeries(a, b Series) (Series, error) {
	if len(b) == 0 {
		return a, nil
	}
	if len(a) == 0 {
		return append(Series(nil), b...), nil
	}
	base := min(a[0].Unix, b[0].Unix)
	last := max(a[len(a)-1].Unix, b[len(b)-1].Unix)
	if last-base > maxSeriesSeconds {
		return nil, fmt.Errorf("the series span %d s (more than two days): these are not parts of one run", last-base)
	}
	var out Series
	for _, s := range []Series{a, b} {
		for _, p := range s {
			q := out.at(base, p.Unix)
			if err := q.add(p); err != nil {
				return nil, fmt.Errorf("second %d: %w", p.Unix, err)
			}
		}
	}
	return out, nil
}

// add merges point o (of the same second) into p.
func (p *Point) add(o Point) error {
	p.TargetRate += o.TargetRate
	p.Arrivals += o.Arrivals
	p.Dropped += o.Dropped
	p.Completions += o.Completions
	p.OK += o.OK
	p.Failed += o.Failed
	p.Interrupted += o.Interrupted
	p.Missed += o.Missed
	p.InFlight += o.InFlight
	p.Judged += o.Judged
	if len(o.StepHists) > 0 {
		// A new map: p's may be shared with the series it was copied from.
		hs := make(map[string]string, len(p.StepHists)+len(o.StepHists))
		maps.Copy(hs, p.StepHists)
		for name, h := range o.StepHists {
			merged, _, err := mergeEncoded(hs[name], h, 50)
			if err != nil {
				return fmt.Errorf("step %s: %w", name, err)
			}
			hs[name] = merged
		}
		p.StepHists = hs
	}
	var err error
	if p.LagHist, p.LagP99, err = mergeEncoded(p.LagHist, o.LagHist, 99); err != nil {
		return err
	}
	if p.JourneyHist, p.JourneyP99, err = mergeEncoded(p.JourneyHist, o.JourneyHist, 99); err != nil {
		return err
	}
	gap, gap99, err := mergeEncoded(p.GapHist, o.GapHist, 99)
	if err != nil {
		return err
	}
	p.GapHist, p.GapP99 = gap, gap99
	if gap != "" {
		h, _ := hdr.Decode(gap)
		p.GapP50 = hdr.Percentile(h, 50)
	}
	return nil
}

// mergeEncoded merges two encoded histograms and returns the result encoded with its percentile.
func mergeEncoded(a, b string, pct float64) (string, time.Duration, error) {
	if b == "" {
		if a == "" {
			return "", 0, nil
		}
		h, err := hdr.Decode(a)
		if err != nil {
			return "", 0, err
		}
		return a, hdr.Percentile(h, pct), nil
	}
	if a == "" {
		a, b = b, a
		return mergeEncoded(a, b, pct)
	}
	ha, err := hdr.Decode(a)
	if err != nil {
		return "", 0, err
	}
	hb, err := hdr.Decode(b)
	if err != nil {
		return "", 0, err
	}
	if err := hdr.Merge(ha, hb); err != nil {
		return "", 0, err
	}
	enc, err := hdr.Encode(ha)
	if err != nil {
		return "", 0, err
	}
	return enc, hdr.Percentile(ha, pct), nil
}
