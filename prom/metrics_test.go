package prom

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

var update = flag.Bool("update", false, "rewrite names.txt from the metrics a run exports")

// faultyRun runs two simulator targets (weights 3 and 1) for a second at 60 journeys/s, a fifth
// of CONVERSATIONs answered 500, with s following it, and returns the result.
func faultyRun(t *testing.T, s *Set) *report.Result {
	t.Helper()
	p, err := profiles.Builtin("smoke")
	if err != nil {
		t.Fatal(err)
	}
	p.Load.Stages = []profiles.Stage{{Duration: time.Second, Rate: profiles.Rate{From: 60, To: 60}}}
	p.Journey.AwaitAutoMessage = 500 * time.Millisecond
	p.Webhooks.Grace = 200 * time.Millisecond
	p.Targets = []profiles.Target{{Name: "va", Account: "12345678", Weight: 3}, {Name: "lo", Account: "23456789", Weight: 1}}
	p.Sim.Latency = nil
	p.Sim.Seed = 1
	p.Sim.Faults = map[lpsim.Endpoint]lpsim.Faults{lpsim.EndpointCreate: {Error500: 0.2}}
	res, err := engine.Run(context.Background(), context.Background(), p, engine.Options{Live: s})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// series is one gathered sample: its labels and its value (a histogram's: its count).
type series map[string]float64

// gather returns every family of s by name, each series keyed by its labels ("k=v,k=v", sorted).
func gather(t *testing.T, s *Set) (map[string]series, map[string]dto.MetricType) {
	t.Helper()
	fams, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out, types := map[string]series{}, map[string]dto.MetricType{}
	for _, f := range fams {
		ss := series{}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(ls)
			key := strings.Join(ls, ",")
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				ss[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				ss[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				ss[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
		out[f.GetName()], types[f.GetName()] = ss, f.GetType()
	}
	return out, types
}

// TestCountsEqualTheResult: after a run with failures, every counter and histogram count of the
// live metrics equals the result's figure of its target, series by series and label by label,
// and nothing else is exported.
func TestCountsEqualTheResult(t *testing.T) {
	s := New(10*time.Second, "")
	res := faultyRun(t, s)
	got, _ := gather(t, s)
	want := map[string]series{}
	put := func(name, labels string, v int64) {
		if want[name] == nil {
			want[name] = series{}
		}
		want[name][labels] = float64(v)
	}
	for i, tr := range res.Targets {
		m, tl := res.PerTarget[i], "target="+tr.Name
		a := m.Arrivals
		put("lpbench_arrivals_planned_total", tl, a.Planned)
		put("lpbench_arrivals_started_total", tl, a.Started)
		put("lpbench_arrivals_dropped_total", tl, a.Dropped)
		put("lpbench_arrivals_not_started_total", tl, a.NotStarted)
		put("lpbench_journeys_in_flight", tl, 0)
		for o := range sample.NumOutcomes {
			put("lpbench_journeys_total", "outcome="+o.String()+","+tl, m.Outcomes[o])
		}
		for v := range sample.NumVerdicts {
			put("lpbench_window_verdicts_total", tl+",verdict="+v.String(), m.Verdicts[v])
			put("lpbench_auto_messages_received_total", tl+",verdict="+v.String(), m.AutoMsgReceived[v])
			put("lpbench_auto_messages_missing_total", tl+",verdict="+v.String(), m.AutoMsgAwaited[v]-m.AutoMsgReceived[v])
		}
		for st := range sample.NumSteps {
			for c := range sample.NumClasses {
				if n := m.Failures[st][c]; n > 0 {
					put("lpbench_failures_total", "class="+c.String()+",step="+st.String()+","+tl, n)
				}
			}
		}
		for _, h := range m.Histograms() {
			if step, ok := strings.CutPrefix(h.Name, "step."); ok {
				put("lpbench_step_seconds", "step="+step+","+tl, h.H.TotalCount())
			} else {
				put("lpbench_"+h.Name+"_seconds", tl, h.H.TotalCount())
			}
		}
	}
	if res.Overall.Failures[sample.Create][sample.ClassHTTP5xx] == 0 || res.Overall.Outcomes[sample.OutcomeOK] == 0 {
		t.Fatalf("the run should have both ok journeys and failed CONVERSATIONs: %v", res.Overall.Outcomes)
	}
	for name, ws := range want {
		for labels, w := range ws {
			if g, ok := got[name][labels]; !ok || g != w {
				t.Errorf("%s{%s} = %v (exported: %t), want %v", name, labels, g, ok, w)
			}
		}
		for labels := range got[name] {
			if _, ok := ws[labels]; !ok {
				t.Errorf("%s{%s} exported, not in the result", name, labels)
			}
		}
	}
	for name := range got {
		if want[name] == nil {
			t.Errorf("%s exported, not checked", name)
		}
	}
}

// TestShardLabelAndSteps: with a shard, every series carries shard="K"; the counters of two runs
// one after the other (a capacity search's steps) add up.
func TestShardLabelAndSteps(t *testing.T) {
	s := New(10*time.Second, "3")
	a, b := faultyRun(t, s), faultyRun(t, s)
	got, _ := gather(t, s)
	for name, ss := range got {
		for labels := range ss {
			if !strings.Contains(","+labels+",", ",shard=3,") {
				t.Errorf("%s{%s} has no shard label", name, labels)
			}
		}
	}
	for i, tr := range a.Targets {
		key := "shard=3,target=" + tr.Name
		if g, w := got["lpbench_arrivals_planned_total"][key], float64(a.PerTarget[i].Arrivals.Planned+b.PerTarget[i].Arrivals.Planned); g != w {
			t.Errorf("planned arrivals of %s: %v, want %v over both runs", tr.Name, g, w)
		}
		ok := a.PerTarget[i].Outcomes[sample.OutcomeOK] + b.PerTarget[i].Outcomes[sample.OutcomeOK]
		if g := got["lpbench_journeys_total"]["outcome=ok,"+key]; g != float64(ok) {
			t.Errorf("ok journeys of %s: %v, want %v over both runs", tr.Name, g, ok)
		}
	}
}

// TestNamesListed: names.txt, which the Grafana dashboard's test reads (deploy/), lists exactly
// the metrics a run exports, with their types. -update rewrites it.
func TestNamesListed(t *testing.T) {
	s := New(10*time.Second, "")
	faultyRun(t, s)
	_, types := gather(t, s)
	var b strings.Builder
	b.WriteString("# The metrics lpbench exports (lpbench run/capacity --metrics-listen): name and type, one a line.\n")
	b.WriteString("# Written by go test ./prom -run TestNamesListed -update; deploy/'s dashboard test reads it.\n")
	var names []string
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", n, strings.ToLower(types[n].String()))
	}
	if *update {
		if err := os.WriteFile("names.txt", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("names.txt")
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("names.txt is not what a run exports (go test ./prom -run TestNamesListed -update rewrites it)\ngot:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestServe: the endpoint serves the text format with classic buckets, lingers until its
// context ends, and an address in use is refused with an error naming it.
func TestServe(t *testing.T) {
	s := New(10*time.Second, "")
	s.Start([]string{"va"}, nil)
	s.Observe(&sample.Record{Steps: [sample.NumSteps]sample.Span{sample.Create: {Ran: true, Begin: 0, End: 30 * time.Millisecond}}})
	srv, err := Serve("127.0.0.1:0", s)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`lpbench_step_seconds_bucket{step="create",target="va",le="0.05"} 1`,
		`lpbench_journeys_total{outcome="ok",target="va"} 1`,
		`lpbench_gap_seconds_bucket{target="va",le="10"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape has no %s:\n%s", want, body)
		}
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.URL(), "http://"), "/metrics")
	if _, err := Serve(addr, s); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("a second endpoint on %s: %v, want an error naming the address", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := srv.Linger(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("linger went on %v after its context ended", d)
	}
	if _, err := http.Get(srv.URL()); err == nil {
		t.Error("the endpoint still answers after the linger")
	}
}

// BenchmarkObserve: the cost on the recorder's goroutine of one ok journey's record (two
// counters and the twelve histogram observations of a journey whose every step succeeded).
func BenchmarkObserve(b *testing.B) {
	s := New(10*time.Second, "")
	s.Start([]string{"va"}, nil)
	var j sample.Record
	for st := range sample.NumSteps {
		j.Steps[st] = sample.Span{Ran: true, Begin: time.Duration(st) * 50 * time.Millisecond, End: time.Duration(st+1) * 50 * time.Millisecond}
	}
	j.End, j.Verdict = 350*time.Millisecond, sample.VerdictIn
	b.ReportAllocs()
	for b.Loop() {
		s.Observe(&j)
	}
}
