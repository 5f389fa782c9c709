package report

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"
)

// sampleChecks returns one check of each kind: generator_lag and load_delivered fail,
// stationary fails but is relaxed, the others hold.
func sampleChecks() []Check {
	return []Check{
		{Name: "generator_lag", OK: false, Measured: "lag p99 38ms, 5 s in a row above 10ms", Limit: "p99 ≤ 10ms, above it under 3 s in a row",
			Value: 0.038, LimitValue: 0.01, Message: "the generator, not the target, was late starting arrivals"},
		{Name: "load_delivered", OK: false, Measured: "dropped 94% (56400 of 60000), 8 of 8 s off the plan", Limit: "dropped ≤ 1%, each second within 5% of the plan",
			Value: 0.94, LimitValue: 0.01, Message: "the pool was full (max_in_flight 500 reached)"},
		{Name: "generator_cpu", OK: true, Measured: "CPU 40% of 2 cores (8.0 s in 10.0 s)", Limit: "≤ 90%", Value: 0.4, LimitValue: 0.9, Message: "the generator had CPU to spare"},
		{Name: "stationary", Target: "va", OK: false, Relaxed: true, Measured: "journey p99 grew 480ms/s over stage 1 (60/s)", Limit: "growth over a stage ≤ 50% of its median or ≤ 20ms",
			Value: 4.8, LimitValue: 0.02, Message: "a queue that only grows"},
		{Name: "percentile_support", OK: true, Measured: "gap.p99 from 1200 samples (12 above it; needs 1000)", Limit: "≥ 10 values above each thresholded percentile", Value: 12, LimitValue: 10},
		{Name: "arrivals", OK: true, Measured: "uniform arrivals: spacing error p99 0.8ms over 599 gaps", Limit: "spacing error p99 ≤ 2ms", Value: 0.0008, LimitValue: 0.002},
	}
}

// TestChecksFailed: a failed check invalidates the run unless it is relaxed.
func TestChecksFailed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cs   []Check
		want bool
	}{
		// No checks (an old result file): nothing failed.
		{"none", nil, false},
		// Every check holds.
		{"all ok", []Check{{Name: "a", OK: true}, {Name: "b", OK: true}}, false},
		// One failure is enough.
		{"one failed", []Check{{Name: "a", OK: true}, {Name: "b"}}, true},
		// A relaxed failure is reported but does not invalidate.
		{"relaxed", []Check{{Name: "a", OK: true}, {Name: "b", Relaxed: true}}, false},
	} {
		if got := ChecksFailed(tc.cs); got != tc.want {
			t.Errorf("%s: ChecksFailed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestWriteSummaryChecksGolden: a run whose measurement is not valid says so right under its
// header, one line per failing check, relaxed failures apart.
func TestWriteSummaryChecksGolden(t *testing.T) {
	t.Parallel()
	r := summaryResult()
	r.Checks = sampleChecks()
	out := summary(t, r)
	checkGolden(t, "summary_checks.golden", out)
	lines := strings.Split(out, "\n")
	for i, want := range []string{
		"measurement NOT VALID: generator_lag: lag p99 38ms",
		"measurement NOT VALID: load_delivered: dropped 94%",
		"measurement, relaxed (does not invalidate the run): stationary [va]: journey p99 grew",
	} {
		if got := lines[2+i]; !strings.HasPrefix(got, want) {
			t.Errorf("summary line %d = %q, want it to start %q", 3+i, got, want)
		}
	}
}

// TestWriteSummaryChecksHold: when every check holds, one line says so.
func TestWriteSummaryChecksHold(t *testing.T) {
	t.Parallel()
	r := summaryResult()
	for _, c := range sampleChecks() {
		c.OK = true
		r.Checks = append(r.Checks, c)
	}
	out := summary(t, r)
	if got, want := strings.Split(out, "\n")[2], "measurement: all 6 checks hold"; got != want {
		t.Errorf("summary line 3 = %q, want %q", got, want)
	}
	if strings.Contains(out, "NOT VALID") {
		t.Errorf("summary says NOT VALID though every check holds:\n%s", out)
	}
}

// TestChecksRoundTrip: checks[] is written to result.json and read back as it was.
func TestChecksRoundTrip(t *testing.T) {
	t.Parallel()
	r := summaryResult()
	r.Checks = sampleChecks()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"checks": [`) || !strings.Contains(b.String(), `"relaxed": true`) {
		t.Errorf("result.json lacks checks[] with a relaxed check")
	}
	back, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.Checks, r.Checks; !reflect.DeepEqual(got, want) {
		t.Errorf("checks read back:\n%+v\nwant\n%+v", got, want)
	}
}

// TestJUnitChecks: one test case per check; failed (not relaxed) ones are failures.
func TestJUnitChecks(t *testing.T) {
	t.Parallel()
	r := summaryResult()
	r.Checks = sampleChecks()
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Class   string    `xml:"classname,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Suites[0].Failures, 2; got != want {
		t.Errorf("failures = %d, want %d (generator_lag, load_delivered; stationary is relaxed)", got, want)
	}
	var failed []string
	for _, c := range doc.Suites[0].Cases {
		if c.Class == "lpbench.measurement" && c.Failure != nil {
			failed = append(failed, c.Name)
		}
	}
	if got, want := failed, []string{"generator_lag", "load_delivered"}; !reflect.DeepEqual(got, want) {
		t.Errorf("failed cases %v, want %v", got, want)
	}
}

// TestHTMLBanner: the report opens with a banner naming every failed check, and has none when
// the measurement is valid.
func TestHTMLBanner(t *testing.T) {
	t.Parallel()
	render := func(cs []Check) string {
		r := summaryResult()
		r.Checks = cs
		var b bytes.Buffer
		if err := WriteHTML(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	bad := render(sampleChecks())
	i := strings.Index(bad, `<div class="banner" role="alert"><b>The measurement is not valid:</b>`)
	if i < 0 || i > strings.Index(bad, "<header>") {
		t.Fatalf("no banner before the header")
	}
	banner := bad[i : i+strings.Index(bad[i:], "</div>")]
	for _, want := range []string{"generator_lag: lag p99 38ms", "load_delivered: dropped 94%"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Contains(banner, "stationary") {
		t.Errorf("banner names the relaxed check:\n%s", banner)
	}
	if !strings.Contains(bad, "FAILED (relaxed)") {
		t.Error("checks table does not mark the relaxed failure")
	}
	var ok []Check
	for _, c := range sampleChecks() {
		c.OK = true
		ok = append(ok, c)
	}
	if strings.Contains(render(ok), `class="banner"`) {
		t.Error("a banner although every check holds")
	}
}

// TestMergeKeepsShardChecks: a merged result keeps every shard's checks as they were, each
// naming its shard, so that a shard whose measurement was not valid invalidates the merge.
func TestMergeKeepsShardChecks(t *testing.T) {
	t.Parallel()
	a, b := summaryResult(), summaryResult()
	a.Shard, b.Shard = Shard{Index: 0, Count: 2}, Shard{Index: 1, Count: 2}
	a.Overall.Window, b.Overall.Window = a.Window, b.Window
	a.Checks = []Check{{Name: "generator_lag", OK: true}}
	b.Checks = []Check{{Name: "generator_lag", OK: false}, {Name: "stationary", Target: "va", OK: true}}
	m, err := Merge([]*Result{a, b})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range m.Checks {
		got = append(got, c.Label())
	}
	if want := []string{"generator_lag [shard 0/2]", "generator_lag [shard 1/2]", "stationary [shard 1/2 va]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("merged checks %v, want %v", got, want)
	}
	if !ChecksFailed(m.Checks) {
		t.Error("the merge hides shard 1's failed check")
	}
}
