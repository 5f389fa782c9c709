package profiles

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp"
)

// TestShippedProfilesValidate: every embedded profile parses and checks.
func TestShippedProfilesValidate(t *testing.T) {
	t.Parallel()
	list := List()
	if len(list) < 6 {
		t.Errorf("%d shipped profiles, want at least 6", len(list))
	}
	for _, in := range list {
		p, err := Builtin(in.Name)
		if err != nil {
			t.Errorf("%s: %v", in.Name, err)
			continue
		}
		if p.Description == "" || strings.HasPrefix(in.Description, "(invalid") {
			t.Errorf("%s: no description", in.Name)
		}
		if got, want := p.Name, in.Name; got != want {
			t.Errorf("profile in %s.yaml is named %q", want, got)
		}
	}
	for _, name := range []string{"smoke", "capacity", "nightly", "regions", "window-edge", "live-example"} {
		if _, err := Builtin(name); err != nil {
			t.Errorf("shipped profile %s: %v", name, err)
		}
	}
}

// TestParseFull reads every kind of value the schema has.
func TestParseFull(t *testing.T) {
	t.Parallel()
	src := `
name: full
description: every key
targets:
  - name: va
    account: "12345678"
    weight: 3
  - name: lo
    account: "23456789"
    request_timeout: 5s
  - name: own
    account: "34567890"
    load:
      stages:
        - {duration: 2s, rate: 4}
  - name: brand
    account: "999"
    csds: api.liveperson.net
    client_id_env: ID_VAR
    client_secret_env: SECRET_VAR
    max_request_rate: 7.5
    routing: {skill_id: "1234"}
load:
  stages:
    - duration: 1m30s
      rate: 10 -> 100
    - duration: 750ms
      rate: 2.5
  arrivals: poisson
  seed: 42
  max_in_flight: 64
  when_full: queue
journey:
  lookup: per_consumer
  consumer_id: "x-{run}-{shard}-{target}-{n}"
  send_delay: {dist: normal, mean: 9s, stddev: 500ms}
  message: hello
  auto_messages: false
  close: false
  request_timeout: 3s
  retry:
    steps: [create]
    on:
      rate_limited: {retries: 3, backoff: 2s}
window: 8s
thresholds:
  - "gap.p99 < 10s"
  - expr: "errors < 1%"
    target: va
    abort_on_fail: true
    abort_delay: 5s
outputs:
  dir: out/x
  metrics_listen: 127.0.0.1:9464
  metrics_linger: 45s
  history: nightly.db
`
	p, err := Parse("full.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"targets", len(p.Targets), 4},
		{"va weight", p.Targets[0].Weight, 3},
		{"lo weight (default)", p.Targets[1].Weight, 1},
		{"lo region (from the simulator)", p.Targets[1].Region, "lo"},
		{"lo timeout", p.Targets[1].RequestTimeout, 5 * time.Second},
		{"own load", p.Targets[2].Load.Stages[0].Rate, Rate{4, 4}},
		{"own load keeps no default stage", len(p.Targets[2].Load.Stages), 1},
		{"brand kind", p.Targets[3].Kind(), KindLive},
		{"brand CSDS", p.Targets[3].CSDSURL(), "https://api.liveperson.net"},
		{"brand cap", p.Targets[3].MaxRequestRate, 7.5},
		{"va kind", p.Targets[0].Kind(), KindSim},
		{"ramp", p.Load.Stages[0], Stage{90 * time.Second, Rate{10, 100}}},
		{"constant", p.Load.Stages[1], Stage{750 * time.Millisecond, Rate{2.5, 2.5}}},
		{"arrivals", p.Load.Arrivals, ArrivalsPoisson},
		{"seed", p.Load.Seed, int64(42)},
		{"max in flight", p.Load.MaxInFlight, 64},
		{"when full", p.Load.WhenFull, WhenFullQueue},
		{"lookup", p.Journey.Lookup, LookupPerConsumer},
		{"delay", p.Journey.SendDelay, Delay{Dist: "normal", Mean: 9 * time.Second, StdDev: 500 * time.Millisecond}},
		{"auto messages", p.Journey.AutoMessages, false},
		{"close", p.Journey.Close, false},
		{"retry steps", strings.Join(p.Journey.Retry.Steps, ","), "create"},
		// A map in the file adds to (and overrides) the default rules.
		{"retry 429", p.Journey.Retry.On["rate_limited"], RetryRule{3, 2 * time.Second}},
		{"retry 5xx kept", p.Journey.Retry.On["http_5xx"].Retries, 2},
		{"window", p.Window, 8 * time.Second},
		{"threshold 0", p.Thresholds[0].Parsed.Metric, "gap.p99"},
		{"threshold 1 target", p.Thresholds[1].Target, "va"},
		{"threshold 1 abort", p.Thresholds[1].AbortOnFail, true},
		{"threshold 1 delay", p.Thresholds[1].AbortDelay, 5 * time.Second},
		{"outputs", p.Outputs.Dir, "out/x"},
		{"metrics listen", p.Outputs.MetricsListen, "127.0.0.1:9464"},
		{"metrics linger", p.Outputs.MetricsLinger, 45 * time.Second},
		{"outputs.history", p.Outputs.History, "nightly.db"},
		{"live", p.HasLive(), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

// TestDefaults: a minimal file gets a whole, runnable profile.
func TestDefaults(t *testing.T) {
	t.Parallel()
	p, err := Parse("min.yaml", []byte("description: minimal\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Name, "min"; got != want {
		t.Errorf("name = %q, want %q (from the file name)", got, want)
	}
	if got, want := len(p.Targets), 1; got != want {
		t.Fatalf("targets = %d, want %d", got, want)
	}
	if got, want := p.Targets[0].Kind(), KindSim; got != want {
		t.Errorf("default target kind = %s, want %s", got, want)
	}
	if got, want := p.Window, 10*time.Second; got != want {
		t.Errorf("window = %v, want %v", got, want)
	}
	if !p.Journey.AutoMessages || !p.Journey.Close {
		t.Error("auto messages and close must be on by default")
	}
	if p.Journey.SendDelay.Sampler() != nil {
		t.Error("the default send delay is not zero")
	}
	if p.Outputs.MetricsListen != "" || p.Outputs.MetricsLinger != 30*time.Second {
		t.Errorf("metrics endpoint %q lingering %v, want none and 30s", p.Outputs.MetricsListen, p.Outputs.MetricsLinger)
	}
}

// TestMaxLagDefaults: load.max_lag is a second with when_full: drop, none with queue (whose waits
// are lag by design), and what the file says when it says it.
func TestMaxLagDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		want       time.Duration
	}{
		// No load section: the default load drops, with the default limit.
		{"no load", "description: x\n", DefaultMaxLag},
		// when_full: drop by default.
		{"drop default", "load:\n  max_in_flight: 10\n", DefaultMaxLag},
		// A queue's waits are lag by design: no limit unless the file sets one.
		{"queue default", "load:\n  when_full: queue\n", 0},
		// A queue bounded by the file.
		{"queue bounded", "load:\n  when_full: queue\n  max_lag: 2s\n", 2 * time.Second},
		// 0 turns the limit off.
		{"drop off", "load:\n  max_lag: 0s\n", 0},
		// Any limit of 10 ms or more.
		{"drop set", "load:\n  max_lag: 250ms\n", 250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse("lag.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.Load.MaxLag, tc.want; got != want {
				t.Errorf("load.max_lag = %v, want %v", got, want)
			}
		})
	}
}

func TestDelaySampler(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		d      Delay
		lo, hi time.Duration
	}{
		// Fixed: always the value.
		{"fixed", Delay{Dist: "fixed", Value: 3 * time.Second}, 3 * time.Second, 3 * time.Second},
		// Uniform: inside the bounds, both ends reachable.
		{"uniform", Delay{Dist: "uniform", Min: 7 * time.Second, Max: 13 * time.Second}, 7 * time.Second, 13 * time.Second},
		// Normal: truncated at 0.
		{"normal", Delay{Dist: "normal", Mean: 10 * time.Millisecond, StdDev: 50 * time.Millisecond}, 0, time.Hour},
	} {
		f := tc.d.Sampler()
		var sum time.Duration
		for range 2000 {
			v := f()
			if v < tc.lo || v > tc.hi {
				t.Fatalf("%s: %v outside [%v, %v]", tc.name, v, tc.lo, tc.hi)
			}
			sum += v
		}
		if tc.name == "uniform" {
			if mean := sum / 2000; mean < 9500*time.Millisecond || mean > 10500*time.Millisecond {
				t.Errorf("uniform mean %v, want about 10s", mean)
			}
		}
	}
}

// TestOpen reads a file by path and a shipped profile by name.
func TestOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(f, []byte("load:\n  stages:\n    - {duration: 1s, rate: 3}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Open(f)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Source, f; got != want {
		t.Errorf("source = %q, want %q", got, want)
	}
	if p, err := Open("smoke"); err != nil || p.Name != "smoke" {
		t.Errorf("Open(smoke) = %q, %v", p.Name, err)
	}
	if _, err := Open("no-such-profile"); err == nil || !strings.Contains(err.Error(), "lpbench profiles") {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file gave no error")
	}
}

// TestCheckLive: a live target's credential variables must be set to run it.
func TestCheckLive(t *testing.T) {
	t.Parallel()
	p, err := Builtin("live-example")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LP_CLIENT_ID": "id"}
	err = p.CheckLive(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "targets[0].client_secret_env: environment variable LP_CLIENT_SECRET is not set") {
		t.Errorf("err = %v", err)
	}
	env["LP_CLIENT_SECRET"] = "s"
	if err := p.CheckLive(func(k string) string { return env[k] }); err != nil {
		t.Errorf("with both set: %v", err)
	}
}

// FuzzParse: no input panics, and an accepted profile is whole.
func FuzzParse(f *testing.F) {
	for _, in := range List() {
		data, _ := builtin.ReadFile(in.Name + ".yaml")
		f.Add(data)
	}
	f.Add([]byte("load: {stages: [{duration: 1s, rate: \"1 -> 2\"}]}"))
	f.Add([]byte("targets: [{name: a, load: {stages: []}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if len(p.Targets) == 0 || p.Window <= 0 || p.Journey.RequestTimeout <= 0 {
			t.Fatalf("accepted an incomplete profile: %+v", p)
		}
	})
}

// TestDefaultThresholds: a profile that lists no thresholds still judges its consumers —
// automsg.missing where auto messages are verified, window.not_in where they are not — and an
// explicit empty list opts out.
func TestDefaultThresholds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		// The embedded simulator: auto messages verified.
		{"sim", "description: x\n", []string{"automsg.missing < 1%"}},
		// Without the AUTO_MESSAGES header nothing can be verified: timing alone.
		{"no header", "journey: {auto_messages: false}\n", []string{"window.not_in < 1%"}},
		// Webhooks off: timing alone.
		{"webhooks off", "webhooks: {enabled: false}\n", []string{"window.not_in < 1%"}},
		// A live target without public_url beside a simulator one: both.
		{"mixed", "targets:\n  - {name: a, account: \"12345678\"}\n  - {name: b, account: \"1\", csds: api.liveperson.net, client_id_env: A, client_secret_env: B, routing: default}\n",
			[]string{"automsg.missing < 1%", "window.not_in < 1%"}},
		// A live target heard through a webhook relay: verified, as with public_url.
		{"live through a relay", "webhooks: {relay: \"http://lpbench-relay:8080\"}\ntargets:\n  - {name: b, account: \"1\", csds: api.liveperson.net, client_id_env: A, client_secret_env: B, routing: default}\n",
			[]string{"automsg.missing < 1%"}},
		// Listed, even empty: the profile's own.
		{"explicit empty", "thresholds: []\n", nil},
		{"own", "thresholds: [\"errors < 5%\"]\n", []string{"errors < 5%"}},
	} {
		p, err := Parse(tc.name+".yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, th := range p.Thresholds {
			got = append(got, th.Expr)
			if th.Parsed.Metric == "" {
				t.Errorf("%s: threshold %q not parsed", tc.name, th.Expr)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: thresholds %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestRoutingForms: each form of a target's routing reads as written, ids as strings or
// integers, and the effective profile writes it back in a form that reads the same; the consumer
// profile is plainly synthetic unless the file says otherwise.
func TestRoutingForms(t *testing.T) {
	t.Parallel()
	live := "    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B\n"
	for _, tc := range []struct {
		name, yaml string
		want       *Routing
	}{
		{"none on a simulator", "targets:\n  - name: s\n", nil}, // the account's default, unasked
		{"default", "targets:\n  - name: l\n    account: \"1\"\n" + live + "    routing: default\n", &Routing{Default: true}},
		{"skill", "targets:\n  - name: l\n    account: \"1\"\n" + live + "    routing: {skill_id: \"1234\"}\n", &Routing{SkillID: "1234"}},
		{"skill as a number", "targets:\n  - name: s\n    routing: {skill_id: 1234}\n", &Routing{SkillID: "1234"}},
		{"any skill", "targets:\n  - name: s\n    routing: {skill_id: \"-1\"}\n", &Routing{SkillID: "-1"}},
		{"campaign", "targets:\n  - name: l\n    account: \"1\"\n" + live + "    routing:\n      campaign_id: \"77\"\n      engagement_id: 88\n",
			&Routing{CampaignID: "77", EngagementID: "88"}},
	} {
		p, err := Parse("r.yaml", []byte(tc.yaml))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := p.Targets[0].Routing; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: routing %+v, want %+v", tc.name, got, tc.want)
		}
		eff, err := p.Effective()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseEffective("r.yaml", []byte(eff))
		if err != nil {
			t.Errorf("%s: the effective profile does not read back: %v\n%s", tc.name, err, eff)
			continue
		}
		if got := again.Targets[0].Routing; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: routing read back %+v, want %+v", tc.name, got, tc.want)
		}
		if got, want := again.Journey.ConsumerProfile, lp.DefaultConsumerProfile(); got != want {
			t.Errorf("%s: consumer profile read back %+v, want %+v", tc.name, got, want)
		}
	}
	p, err := Parse("c.yaml", []byte("journey:\n  consumer_profile: {first_name: Load, customer_type: test}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Journey.ConsumerProfile, (lp.ConsumerProfile{FirstName: "Load", LastName: "synthetic consumer", CustomerType: "test"}); got != want {
		t.Errorf("consumer profile %+v, want %+v (keys left out keep their defaults)", got, want)
	}
}
