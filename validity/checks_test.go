package validity

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// lagMetrics returns metrics of n journeys whose lag is lag, and a series whose per-second lag
// p99 is each of perSecond.
func lagMetrics(n int, lag time.Duration, perSecond ...time.Duration) *report.Metrics {
	m := report.NewMetrics()
	for range n {
		_ = m.Lag.RecordValue(int64(lag))
	}
	for i, d := range perSecond {
		m.Series = append(m.Series, report.Point{Unix: int64(i), LagP99: d})
	}
	return m
}

func TestLagCheck(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		m    *report.Metrics
		ok   bool
	}{
		// On time throughout.
		{"on time", lagMetrics(2000, ms, ms, ms, ms), true},
		// Late overall: the p99 is beyond the limit.
		{"late", lagMetrics(2000, 40*ms, 40*ms, 40*ms), false},
		// Two seconds above the limit in a row are a hiccup.
		{"short burst", lagMetrics(2000, ms, ms, 30*ms, 30*ms, ms, 30*ms), true},
		// Three in a row are a generator that fell behind, though the p99 of the run holds.
		{"sustained", lagMetrics(2000, ms, ms, 30*ms, 30*ms, 30*ms, ms), false},
		// A short run is judged by its 10th-latest arrival: nine late ones are not enough...
		{"few late of 30", func() *report.Metrics {
			m := lagMetrics(21, ms)
			for range 9 {
				_ = m.Lag.RecordValue(int64(50 * ms))
			}
			return m
		}(), true},
		// ...but ten are.
		{"ten late of 30", func() *report.Metrics {
			m := lagMetrics(20, ms)
			for range 10 {
				_ = m.Lag.RecordValue(int64(50 * ms))
			}
			return m
		}(), false},
		// Nothing ran: nothing to judge.
		{"empty", report.NewMetrics(), true},
	} {
		c := lagCheck(tc.m, 10*ms)
		if got, want := c.OK, tc.ok; got != want {
			t.Errorf("%s: OK = %v, want %v (%s)", tc.name, got, want, c.Measured)
		}
		if !c.OK && !strings.Contains(c.Message, "the generator, not the target") {
			t.Errorf("%s: message %q does not name the generator", tc.name, c.Message)
		}
	}
}

// fitOf returns the fit of a runner that dispatched plan's arrivals at their intended times
// plus late(i, intended), dropping those drop(i) says.
func fitOf(plan loadgen.Plan, late func(i int64, at time.Duration) time.Duration, drop func(i int64) bool) Runner {
	f := newFit(plan)
	rf := Runner{Plan: plan, Fit: f}
	for k, at := range plan.Arrivals() {
		f.dispatch(loadgen.Arrival{Index: k, Intended: at}, at+late(k, at))
		rf.Counts.Planned++
		if drop(k) {
			f.drop()
			rf.Counts.Dropped++
		} else {
			rf.Counts.Started++
		}
	}
	return rf
}

func onTime(int64, time.Duration) time.Duration { return 0 }
func never(int64) bool                          { return false }

// late marks every drop of rf as a late one (the dispatcher was behind max_lag).
func late(rf Runner) Runner {
	rf.Counts.Late = rf.Counts.Dropped
	return rf
}

// cut gives rf a bound of 7 where the profile asked for asked.
func cut(rf Runner, asked int) Runner {
	rf.MaxInFlight, rf.Asked = 7, asked
	return rf
}

func TestDeliveredCheck(t *testing.T) {
	t.Parallel()
	plan := loadgen.Constant(100, 10*time.Second)
	limits := profiles.Defaults().Checks
	for _, tc := range []struct {
		name    string
		rf      Runner
		ok      bool
		message string
	}{
		// Every arrival on time, none dropped.
		{"delivered", fitOf(plan, onTime, never), true, "delivered"},
		// 0.5 % dropped, spread evenly: within 1 %, and no second short by 5 %.
		{"few drops", fitOf(plan, onTime, func(i int64) bool { return i%200 == 0 }), true, "delivered"},
		// 10 % dropped: the pool was full.
		{"pool full", fitOf(plan, onTime, func(i int64) bool { return i%10 == 0 }), false, "max_in_flight 7 reached"},
		// 0.8 % dropped, all in one second: the run's share holds, that second does not.
		{"drops in one second", fitOf(plan, onTime, func(i int64) bool { return i >= 500 && i < 508 }), false, "max_in_flight"},
		// Nothing dropped, but the dispatcher stalled from 4.8 s to 5.1 s and then caught up:
		// second 4 delivered 80 of its 100.
		{"stalled", fitOf(plan, func(i int64, _ time.Duration) time.Duration {
			if i >= 480 && i < 510 {
				return time.Duration(510-i) * 10 * time.Millisecond
			}
			return 0
		}, never), false, "could not keep the planned rate"},
		// 10 % dropped because the dispatcher was more than max_lag behind: the generator's.
		{"late", late(fitOf(plan, onTime, func(i int64) bool { return i%10 == 0 })), false, "fell behind its schedule (max_lag) and dropped 100"},
		// A pool full whose bound the descriptor limit cut: the message says so.
		{"cut", cut(fitOf(plan, onTime, func(i int64) bool { return i%10 == 0 }), 50000), false, "cut from 50000"},
	} {
		tc.rf.MaxInFlight = max(tc.rf.MaxInFlight, 7)
		c := deliveredCheck(tc.rf, limits)
		if got, want := c.OK, tc.ok; got != want {
			t.Errorf("%s: OK = %v, want %v (%s)", tc.name, got, want, c.Measured)
		}
		if !strings.Contains(c.Message, tc.message) {
			t.Errorf("%s: message %q lacks %q", tc.name, c.Message, tc.message)
		}
	}
}

func TestCPUCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		u     CPUUse
		sim   bool
		ok    bool
		share float64
	}{
		// 1 s of CPU in 10 s on 2 cores: 5 %.
		{"idle", CPUUse{CPU: time.Second, Wall: 10 * time.Second, Cores: 2}, false, true, 0.05},
		// 19 s in 10 s on 2 cores: 95 %, saturated.
		{"saturated", CPUUse{CPU: 19 * time.Second, Wall: 10 * time.Second, Cores: 2}, false, false, 0.95},
		// The same CPU on a 1.5-core quota is beyond it, and the simulator is said to share it.
		{"quota", CPUUse{CPU: 14 * time.Second, Wall: 10 * time.Second, Cores: 1.5}, true, false, 14.0 / 15},
		// Nothing measured.
		{"none", CPUUse{}, false, true, 0},
		// 10 % over 50 s, but 1.9 of 2 cores in its busiest 5 s (a saturated spell, then a quiet
		// drain): saturated.
		{"spell", CPUUse{CPU: 10 * time.Second, Wall: 50 * time.Second, Cores: 2, Busiest: 9500 * time.Millisecond, BusiestWall: 5 * time.Second}, false, false, 0.95},
	} {
		c := cpuCheck(tc.u, 0.9, tc.sim)
		if got, want := c.OK, tc.ok; got != want {
			t.Errorf("%s: OK = %v, want %v (%s)", tc.name, got, want, c.Measured)
		}
		if got, want := c.Value, tc.share; math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: share = %v, want %v", tc.name, got, want)
		}
		if got, want := strings.Contains(c.Message, "embedded simulator runs in this process"), tc.sim; got != want {
			t.Errorf("%s: message %q: names the embedded simulator = %v, want %v", tc.name, c.Message, got, want)
		}
	}
}

// TestBusiest: the busiest window of per-second samples, and shorter runs.
func TestBusiest(t *testing.T) {
	t.Parallel()
	s := time.Second
	for _, tc := range []struct {
		per       []time.Duration
		n         int
		cpu, wall time.Duration
	}{
		{[]time.Duration{s / 10, s, 2 * s, 2 * s, s / 10}, 3, 5 * s, 3 * s}, // seconds 1–3
		{[]time.Duration{s, s / 2}, 5, 3 * s / 2, 2 * s},                    // shorter than the window
		{nil, 5, 0, 0}, // under a second
	} {
		if cpu, wall := busiest(tc.per, tc.n); cpu != tc.cpu || wall != tc.wall {
			t.Errorf("busiest(%v, %d) = %v over %v, want %v over %v", tc.per, tc.n, cpu, wall, tc.cpu, tc.wall)
		}
	}
}

func TestParseCPUMax(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		cores float64
		ok    bool
	}{
		{"max 100000\n", 0, false},    // no quota
		{"200000 100000\n", 2, true},  // two cores
		{"150000 100000", 1.5, true},  // a core and a half
		{"50000 100000\n", 0.5, true}, // half a core
		{"garbage", 0, false},         // not cpu.max
		{"-1 100000", 0, false},       // v1's "no limit"
	} {
		cores, ok := parseCPUMax(tc.in)
		if cores != tc.cores || ok != tc.ok {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v, %v", tc.in, cores, ok, tc.cores, tc.ok)
		}
	}
	// cgroup v1, when v2's file is absent.
	files := map[string]string{"/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "300000\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, errNoFile
	}
	if cores, ok := cgroupQuota(read); cores != 3 || !ok {
		t.Errorf("cgroup v1 quota = %v, %v; want 3, true", cores, ok)
	}
	if u := usableCores(); u <= 0 {
		t.Errorf("usableCores = %v, want > 0", u)
	}
}

// series returns a per-second series from unix second base whose journey p99 is f(i) and gap p99
// is a steady 100 ms.
func series(base int64, n int, f func(i int) time.Duration) report.Series {
	var s report.Series
	for i := range n {
		s = append(s, report.Point{Unix: base + int64(i), Completions: 10, JourneyP99: f(i), GapP99: 100 * time.Millisecond})
	}
	return s
}

func TestStationaryCheck(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	plan := loadgen.Constant(60, 20*time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name   string
		s      report.Series
		plan   loadgen.Plan
		ok     bool
		judged bool
	}{
		// Flat latency with noise: steady.
		{"steady", series(1000, 20, func(int) time.Duration { return 300*time.Millisecond + time.Duration(rng.IntN(40))*time.Millisecond }), plan, true, true},
		// A queue growing 100 ms a second: 1.7 s over the stage, far beyond half its median.
		{"growing", series(1000, 20, func(i int) time.Duration { return time.Second + time.Duration(i)*100*time.Millisecond }), plan, false, true},
		// Growth of 1 ms a second is beyond half the median of 10 ms but below the 20 ms floor.
		{"small growth", series(1000, 20, func(i int) time.Duration { return 10*time.Millisecond + time.Duration(i)*time.Millisecond }), plan, true, true},
		// Two outlying seconds do not make a trend (Theil–Sen is robust to them).
		{"outliers", series(1000, 20, func(i int) time.Duration {
			if i == 17 || i == 18 {
				return 5 * time.Second
			}
			return 300 * time.Millisecond
		}), plan, true, true},
		// A ramp is not judged, however it grows.
		{"ramp", series(1000, 20, func(i int) time.Duration { return time.Duration(i) * time.Second }), loadgen.Plan{Stages: []loadgen.Stage{{Duration: 20 * time.Second, From: 10, To: 100}}}, true, false},
		// A stage of 10 s leaves 8 after the warm-up: too short.
		{"short", series(1000, 10, func(i int) time.Duration { return time.Duration(i) * time.Second }), loadgen.Constant(60, 10*time.Second), true, false},
	} {
		c := stationaryCheck(tc.s, tc.plan, start, "va")
		if got, want := c.OK, tc.ok; got != want {
			t.Errorf("%s: OK = %v, want %v (%s)", tc.name, got, want, c.Measured)
		}
		if got, want := !strings.HasPrefix(c.Measured, "not judged"), tc.judged; got != want {
			t.Errorf("%s: judged = %v, want %v (%s)", tc.name, got, want, c.Measured)
		}
		if !c.OK && !strings.Contains(c.Message, "at 60/s (stage 1) the journey p99 grew") {
			t.Errorf("%s: message %q does not name the rate and the stage", tc.name, c.Message)
		}
	}
}

func TestSupportCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		journeys int
		expr     string
		ok       bool
	}{
		{"p99 on 1000", 1000, "journey.p99 < 1h", true},    // exactly 10 above it
		{"p99 on 999", 999, "journey.p99 < 1h", false},     // 9.99 above it
		{"p99.9 on 200", 200, "journey.p99.9 < 1h", false}, // 0.2 above it: one sample at best
		{"p95 on 200", 200, "journey.p95 < 1h", true},      // 10 above it
		{"p95 on 150", 150, "journey.p95 < 1h", false},     // 7.5 above it
		{"share", 5, "errors < 1%", true},                  // not a percentile: nothing to judge
	} {
		m := report.NewMetrics()
		for range tc.journeys {
			_ = m.Journey.RecordValue(int64(time.Second))
		}
		th, err := report.ParseThreshold(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		res := &report.Result{Overall: m, Thresholds: []report.ThresholdResult{{Threshold: th}}}
		c := supportCheck(res)
		if got, want := c.OK, tc.ok; got != want {
			t.Errorf("%s: OK = %v, want %v (%s)", tc.name, got, want, c.Measured)
		}
		// The plan's prediction (report.SupportNeeded) agrees with the check, and the check says
		// the numbers it judged, the same ones.
		if p, ok := report.ThresholdPercentile(th); ok {
			need := report.SupportNeeded(p)
			if got := int64(tc.journeys) >= need; got != tc.ok {
				t.Errorf("%s: %d journeys ≥ SupportNeeded(%g) = %d is %v, the check says %v", tc.name, tc.journeys, p, need, got, tc.ok)
			}
			above := report.ValuesAbove(p, int64(tc.journeys))
			want := fmt.Sprintf("%s from %d samples: %d above it (10 above needs %d samples)", th.Metric, tc.journeys, above, need)
			if c.Measured != want {
				t.Errorf("%s: measured %q, want %q", tc.name, c.Measured, want)
			}
		}
	}
}

// TestRelayChecks: with a relay, a target whose deliveries all reached the shard holds; one the
// relay dropped for it, or that it missed while resubscribing, fails and says why, as does one
// whose losses are not known (the relay restarted); without a relay there is no such check.
func TestRelayChecks(t *testing.T) {
	t.Parallel()
	res := &report.Result{Relay: "http://relay:8080", Targets: []report.TargetInfo{
		{Name: "a", Webhooks: &sample.WebhookStats{Relayed: 10}},
		{Name: "b", Webhooks: &sample.WebhookStats{Relayed: 8, RelayDropped: 2}},
		{Name: "c", Webhooks: &sample.WebhookStats{Relayed: 9, RelayMissed: 1}},
		{Name: "d", Webhooks: &sample.WebhookStats{Relayed: 10, RelayUncertain: 1}},
		{Name: "not verified"},
	}}
	cs := relayChecks(res)
	if len(cs) != 4 {
		t.Fatalf("%d checks, want 4: %+v", len(cs), cs)
	}
	if !cs[0].OK || cs[1].OK || cs[2].OK || cs[3].OK {
		t.Errorf("ok: %v %v %v %v, want true false false false", cs[0].OK, cs[1].OK, cs[2].OK, cs[3].OK)
	}
	if cs[3].Measured != "lost 0 (dropped 0, missed 0) of 10 relayed, losses not known 1 time(s)" || !strings.Contains(cs[3].Message, "relay restarted") {
		t.Errorf("an uncertain relay: %+v", cs[3])
	}
	if cs[1].Measured != "lost 2 (dropped 2, missed 0) of 10 relayed" || !strings.Contains(cs[1].Message, "read too slowly") ||
		!strings.Contains(cs[2].Message, "subscription to the relay was lost") {
		t.Errorf("checks %+v", cs)
	}
	res.Relay = ""
	if cs := relayChecks(res); len(cs) != 0 {
		t.Errorf("without a relay: %+v", cs)
	}
}

// TestReceiverChecks: for every target whose auto messages are verified, with a relay or without,
// a receiver whose queue overflowed fails webhook_receiver (the run exits 4): those deliveries were
// lost by lpbench, not the target. A target not verified has no such check.
func TestReceiverChecks(t *testing.T) {
	t.Parallel()
	for _, relayURL := range []string{"", "http://relay:8080"} {
		res := &report.Result{Relay: relayURL, Targets: []report.TargetInfo{
			{Name: "a", Webhooks: &sample.WebhookStats{Received: 10}},
			{Name: "b", Webhooks: &sample.WebhookStats{Received: 10, Overflow: 3}},
			{Name: "not verified"},
		}}
		cs := receiverChecks(res)
		if len(cs) != 2 || cs[0].Name != "webhook_receiver" || cs[0].Target != "a" || cs[1].Target != "b" {
			t.Fatalf("relay %q: checks %+v, want webhook_receiver for a and b", relayURL, cs)
		}
		if !cs[0].OK || cs[1].OK || cs[1].Measured != "overflow 3 of 10 received" || !strings.Contains(cs[1].Message, "no_auto_message because of the measurement") {
			t.Errorf("relay %q: checks %+v", relayURL, cs)
		}
		if !report.ChecksFailed(cs) {
			t.Errorf("relay %q: ChecksFailed = false: the run would not exit 4", relayURL)
		}
	}
}
