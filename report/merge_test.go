package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
)

// record3 records the same journeys into one recorder, and split by index into three, and
// returns the single result and the three.
func record3(t *testing.T, n int) (*report.Result, []*report.Result) {
	t.Helper()
	epoch := time.Now()
	one := report.NewRecorder(report.RecorderOptions{Targets: []string{"a", "b"}, Epoch: epoch, Window: 10 * time.Second})
	var parts [3]*report.Recorder
	for i := range parts {
		parts[i] = report.NewRecorder(report.RecorderOptions{Targets: []string{"a", "b"}, Epoch: epoch, Window: 10 * time.Second})
	}
	for i := range n {
		j := report.JourneyAt(i)
		one.Record(&j)
		parts[i%3].Record(&j)
	}
	result := func(r *report.Recorder) *report.Result {
		per, all := r.Close()
		return &report.Result{Window: 10 * time.Second, Start: epoch, Targets: []report.TargetInfo{{Name: "a"}, {Name: "b"}}, PerTarget: per, Overall: all}
	}
	var rs []*report.Result
	for _, p := range parts {
		rs = append(rs, roundTrip(t, result(p)))
	}
	return roundTrip(t, result(one)), rs
}

// roundTrip writes r as a result file and reads it back, as merge does.
func roundTrip(t *testing.T, r *report.Result) *report.Result {
	t.Helper()
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestMergeExact: three shards' results merge into exactly the single recorder's: every count,
// every histogram (bucket by bucket), every series point's counts.
func TestMergeExact(t *testing.T) {
	t.Parallel()
	single, parts := record3(t, 3000)
	for i, p := range parts {
		p.Targets[0].AppJWTFetches = int64(i + 1)
	}
	merged, err := report.Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := merged.Targets[0].AppJWTFetches, int64(6); got != want {
		t.Errorf("merged AppJWT fetches %d, want %d (1+2+3)", got, want)
	}
	pairs := []struct {
		name      string
		got, want *report.Metrics
	}{{"all", merged.Overall, single.Overall}, {"a", merged.PerTarget[0], single.PerTarget[0]}, {"b", merged.PerTarget[1], single.PerTarget[1]}}
	for _, p := range pairs {
		if p.got.Outcomes != p.want.Outcomes || p.got.Verdicts != p.want.Verdicts || p.got.Failures != p.want.Failures ||
			p.got.StepFailures != p.want.StepFailures || p.got.Requests != p.want.Requests || p.got.ByDelay != p.want.ByDelay {
			t.Errorf("%s: counts differ", p.name)
		}
		gh, wh := p.got.Histograms(), p.want.Histograms()
		for i := range gh {
			if !gh[i].H.Equals(wh[i].H) {
				t.Errorf("%s.%s: merged histogram differs (count %d vs %d)", p.name, gh[i].Name, gh[i].H.TotalCount(), wh[i].H.TotalCount())
			}
		}
		var ga, wa, gc, wc int64
		for _, pt := range p.got.Series {
			ga, gc = ga+pt.Arrivals, gc+pt.Completions
		}
		for _, pt := range p.want.Series {
			wa, wc = wa+pt.Arrivals, wc+pt.Completions
		}
		if ga != wa || gc != wc {
			t.Errorf("%s: series arrivals %d/%d, completions %d/%d", p.name, ga, wa, gc, wc)
		}
	}
	// And the same summary.
	var a, b bytes.Buffer
	merged.Elapsed, single.Elapsed = 0, 0
	single.Targets[0].AppJWTFetches = 6
	render.Summary(merged)(&a)
	render.Summary(single)(&b)
	if a.String() != b.String() {
		t.Errorf("merged summary differs:\n%s\n---\n%s", a.String(), b.String())
	}
}

// TestMergeRefusesOtherGeometry: a histogram of another range or precision cannot be merged
// without loss, and is refused with a clear error.
func TestMergeRefusesOtherGeometry(t *testing.T) {
	t.Parallel()
	into := hdr.New()
	other := hdrhistogram.New(1, int64(time.Hour), 2)
	other.RecordValue(5000)
	err := hdr.Merge(into, other)
	if err == nil || !strings.Contains(err.Error(), "geometry differs") {
		t.Errorf("err = %v", err)
	}
	enc, _ := other.EncodeV2()
	if _, err := hdr.Decode(string(enc)); err == nil || !strings.Contains(err.Error(), "geometry differs") {
		t.Errorf("decode err = %v", err)
	}
	// Results of different windows are not parts of one run.
	single, parts := record3(t, 30)
	_ = single
	parts[1].Window = 5 * time.Second
	if _, err := report.Merge(parts); err == nil || !strings.Contains(err.Error(), "window") {
		t.Errorf("merge of different windows: %v", err)
	}
}

// FuzzReadJSON: no input makes the result-file reader panic, and whatever it accepts renders.
func FuzzReadJSON(f *testing.F) {
	_, parts := record3(&testing.T{}, 12)
	var b bytes.Buffer
	report.WriteJSON(&b, parts[0])
	f.Add(b.Bytes())
	f.Add([]byte(`{"schema":"lpbench.result/v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(r.Targets) != len(r.PerTarget) {
			t.Fatalf("%d targets, %d metrics", len(r.Targets), len(r.PerTarget))
		}
		var out bytes.Buffer
		if err := render.Summary(r)(&out); err != nil {
			t.Fatal(err)
		}
	})
}
