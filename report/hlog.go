package report

import (
	"errors"
	"fmt"
	"io"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
)

// The interval log (.hlog) is HdrHistogram's standard log: one line per second and histogram,
// tagged "<scope>.<metric>", values in nanoseconds (so its Interval_Max column reads in
// milliseconds), with a whole-second base time. Other HdrHistogram tools read it as it is.

// startHlog writes the log's header.
func (r *Recorder) startHlog() {
	r.hlog = hdrhistogram.NewHistogramLogWriter(r.o.Hlog)
	baseMs := r.base * 1000
	r.hlog.SetBaseTime(baseMs)
	r.hlogErr = errors.Join(
		r.hlog.OutputComment("lpbench interval log: one interval per second, tags <scope>.<metric>, values in ns"),
		r.hlog.OutputLogFormatVersion(),
		r.hlog.OutputStartTime(r.o.Epoch.UnixMilli()),
		r.hlog.OutputBaseTime(baseMs),
		r.hlog.OutputLegend(),
	)
}

// writeInterval writes the open interval's non-empty histograms of sc. Each line goes straight
// to the writer, so what is written survives the process.
func (r *Recorder) writeInterval(sc *scope) {
	if r.hlog == nil || r.hlogErr != nil {
		return
	}
	for _, nh := range sc.now.Histograms() {
		if nh.H.TotalCount() == 0 {
			continue
		}
		nh.H.SetTag(sc.tag + "." + nh.Name)
		nh.H.SetStartTimeMs(r.cur * 1000)
		nh.H.SetEndTimeMs((r.cur + 1) * 1000)
		if err := r.hlog.OutputIntervalHistogram(nh.H); err != nil {
			r.hlogErr = fmt.Errorf("writing the interval log: %w", err)
			return
		}
	}
}

// ReadHlog reads an interval log and adds up each tag's intervals. A log cut short (the process
// was killed while writing) yields the intervals before the damaged line, and the error.
func ReadHlog(rd io.Reader) (map[string]*hdrhistogram.Histogram, error) {
	lr := hdrhistogram.NewHistogramLogReader(rd)
	out := map[string]*hdrhistogram.Histogram{}
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return out, fmt.Errorf("reading the interval log: %w", err)
		}
		if h == nil {
			return out, nil
		}
		tag := h.Tag()
		tot, ok := out[tag]
		if !ok {
			tot = hdr.New()
			tot.SetTag(tag)
			out[tag] = tot
		}
		if err := hdr.Merge(tot, h); err != nil {
			return out, fmt.Errorf("interval log, tag %s: %w", tag, err)
		}
	}
}

// SplitTag splits an interval-log tag "<scope>.<metric>" into its scope and metric, one of the
// names of Metrics.Histograms (the longest that fits, so "all.step.automsg" is scope "all"). A tag
// that ends in no such name is all metric, with scope "".
func SplitTag(tag string) (scope, metric string) {
	for _, nh := range (&Metrics{}).Histograms() {
		if strings.HasSuffix(tag, "."+nh.Name) && len(nh.Name) > len(metric) {
			metric = nh.Name
		}
	}
	if metric == "" {
		return "", tag
	}
	return tag[:len(tag)-len(metric)-1], metric
}
