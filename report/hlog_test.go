package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
)

func TestSplitTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag, scope, metric string
	}{
		{"all.lag", "all", "lag"},                         // the whole run
		{"va.journey", "va", "journey"},                   // a target
		{"va.gap", "va", "gap"},                           // gap, not a prefix of gap_min
		{"va.gap_min", "va", "gap_min"},                   // gap_min, not gap
		{"all.automsg", "all", "automsg"},                 // the auto-message latency
		{"all.step.automsg", "all", "step.automsg"},       // the step, not scope "all.step"
		{"eu.west.step.create", "eu.west", "step.create"}, // a target name with dots
		{"lag", "", "lag"},                                // no scope: all metric
		{"all.step.unknown", "", "all.step.unknown"},      // no known metric
		{"", "", ""}, // nothing
	}
	for _, tt := range tests {
		scope, metric := report.SplitTag(tt.tag)
		if scope != tt.scope || metric != tt.metric {
			t.Errorf("SplitTag(%q) = %q, %q; want %q, %q", tt.tag, scope, metric, tt.scope, tt.metric)
		}
	}
}

// TestHlogRoundTrip: the interval log the recorder writes reads back, tag by tag, to the
// recorder's totals; a log cut short yields what came before the damage, and an error.
func TestHlogRoundTrip(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	rec := report.NewRecorder(report.RecorderOptions{Targets: []string{"va", "lo"}, Hlog: &log})
	for i := range 4 * report.NumKinds {
		j := report.JourneyAt(i)
		rec.Record(&j)
	}
	targets, overall := rec.Close()
	if err := rec.HlogErr(); err != nil {
		t.Fatal(err)
	}
	tags, err := report.ReadHlog(bytes.NewReader(log.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	scopes := map[string]*report.Metrics{"va": targets[0], "lo": targets[1], "all": overall}
	for scope, m := range scopes {
		for _, nh := range m.Histograms() {
			h, ok := tags[scope+"."+nh.Name]
			if n := nh.H.TotalCount(); !ok && n > 0 {
				t.Errorf("%s.%s: not in the log, want %d values", scope, nh.Name, n)
			} else if ok && (h.TotalCount() != n || hdr.Percentile(h, 50) != hdr.Percentile(nh.H, 50)) {
				t.Errorf("%s.%s: log holds %d values, p50 %v; totals %d, %v",
					scope, nh.Name, h.TotalCount(), hdr.Percentile(h, 50), n, hdr.Percentile(nh.H, 50))
			}
		}
	}
	var want strings.Builder
	if err := render.HlogSummary(tags)(&want); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(want.String(), "all.step.create") {
		t.Errorf("summary lacks all.step.create:\n%s", want.String())
	}

	cut := log.Bytes()[:log.Len()-10] // the last line damaged
	partial, err := report.ReadHlog(bytes.NewReader(cut))
	if err == nil {
		t.Errorf("reading a damaged log: no error")
	}
	if len(partial) == 0 {
		t.Errorf("reading a damaged log: nothing kept of the lines before the damage")
	}
}
