package profiles

import (
	"strings"
	"testing"
)

// TestMalformedProfiles: every malformed profile gets its exact messages, each naming the file,
// the line and the key path; no input panics.
func TestMalformedProfiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, want string
	}{
		// A misspelt section is named, with the keys that exist.
		{"unknown top key", "name: x\nlaod:\n  stages: []", "bad.yaml:2: laod: unknown key (known keys: name, description, targets, load, journey, window, thresholds, outputs, webhooks, sim, checks)"},
		// A webhook relay that is not a base URL.
		{"relay not a URL", "webhooks:\n  relay: lpbench-relay:8080", "bad.yaml:2: webhooks.relay: want the relay's base http(s) URL, e.g. http://lpbench-relay:8080, got \"lpbench-relay:8080\""},
		// A relay with a query: the run adds its own paths.
		{"relay with a query", "webhooks:\n  relay: http://r:8080/?x=1", "bad.yaml:2: webhooks.relay: want the relay's base http(s) URL, e.g. http://lpbench-relay:8080, got \"http://r:8080/?x=1\""},
		// A relay with a user and password: refused, the password not repeated (the URL goes to
		// every output); nor in a URL that does not even parse.
		{"relay with credentials", "webhooks:\n  relay: http://user:s3cret@r:8080", "bad.yaml:2: webhooks.relay: no user or password in the relay's URL (it is written to every output; the relay needs none), got \"http://user:xxxxx@r:8080\""},
		{"relay unparsable with credentials", "webhooks:\n  relay: http://user:s3cret@r:8080/%zz", "bad.yaml:2: webhooks.relay: want the relay's base http(s) URL, e.g. http://lpbench-relay:8080, got \"http://xxxxx@r:8080/%zz\""},
		// A relay and a public URL: LivePerson's webhook is one or the other.
		// A user and password in the receiver's public URL: refused, the password not echoed.
		{"public_url with password", "webhooks:\n  public_url: https://user:s3cret@x.example", `bad.yaml:2: webhooks.public_url: no user or password in the receiver's URL (it is written to every output), got "https://user:xxxxx@x.example"`},
		{"relay and public_url", "webhooks:\n  public_url: https://x.example\n  relay: http://r:8080", "bad.yaml:3: webhooks.relay: set with webhooks.public_url: with a relay, LivePerson's webhook URL is the relay's (<relay public URL>/webhook/<target>), set in the app installation; remove public_url"},
		// A misspelt key inside a list element.
		{"unknown nested key", "load:\n  stages:\n    - duration: 10s\n      rat: 5", "bad.yaml:4: load.stages[0].rat: unknown key (known keys: duration, rate)"},
		// The example of the issue: a negative rate in the second stage.
		{"negative rate", "load:\n  stages:\n    - duration: 10s\n      rate: 5\n    - duration: 10s\n      rate: -5", "bad.yaml:6: load.stages[1].rate: must be ≥ 0, got -5"},
		// A ramp that starts below zero.
		{"negative ramp", "load:\n  stages:\n    - duration: 10s\n      rate: \"-1 -> 5\"", "bad.yaml:4: load.stages[0].rate: must be ≥ 0, got -1 -> 5"},
		// A rate that is neither a number nor a ramp.
		{"bad ramp text", "load:\n  stages:\n    - duration: 10s\n      rate: \"fast\"", "bad.yaml:4: load.stages[0].rate: want a rate per second (e.g. 20) or a ramp (e.g. \"10 -> 100\"), got \"fast\""},
		// A stage of no length.
		{"zero duration", "load:\n  stages:\n    - duration: 0s\n      rate: 5", "bad.yaml:3: load.stages[0].duration: must be > 0, got 0s"},
		// A bare number is not a duration.
		{"duration without unit", "load:\n  stages:\n    - duration: 10\n      rate: 5", "bad.yaml:3: load.stages[0].duration: want a duration like \"750ms\" or \"10s\", got \"10\""},
		// Words are not durations.
		{"duration garbage", "load:\n  stages:\n    - duration: soon\n      rate: 5", "bad.yaml:3: load.stages[0].duration: want a duration like \"750ms\" or \"10s\", got \"soon\""},
		// A metrics endpoint that is no address, one with a port out of range, a negative linger.
		{"metrics_listen no port", "outputs:\n  metrics_listen: localhost", "bad.yaml:2: outputs.metrics_listen: want host:port (e.g. 127.0.0.1:9464 or :9464), got \"localhost\""},
		{"metrics_listen bad port", "outputs:\n  metrics_listen: \":99999\"", "bad.yaml:2: outputs.metrics_listen: want a port from 0 to 65535 in host:port, got \":99999\""},
		{"metrics_linger negative", "outputs:\n  metrics_linger: -1s", "bad.yaml:2: outputs.metrics_linger: must be ≥ 0, got -1s"},
		{"outputs unknown key", "outputs:\n  metrics: :9464", "bad.yaml:2: outputs.metrics: unknown key (known keys: dir, metrics_listen, metrics_linger, history)"},
		// An empty schedule.
		{"no stages", "load:\n  stages: []", "bad.yaml:2: load.stages: at least one stage is required"},
		// Stages whose rates plan no arrival at all.
		{"all zero rates", "load:\n  stages:\n    - duration: 10s\n      rate: 0", "bad.yaml:2: load.stages: the stages plan no arrival (their rates integrate to 0)"},
		// An arrival process that does not exist.
		{"arrivals unknown", "load:\n  arrivals: bursty", "bad.yaml:2: load.arrivals: must be one of uniform, poisson, got \"bursty\""},
		// A pool policy that does not exist.
		{"when_full unknown", "load:\n  when_full: wait", "bad.yaml:2: load.when_full: must be one of drop, queue, got \"wait\""},
		// No room for any journey.
		{"max_in_flight zero", "load:\n  max_in_flight: 0", "bad.yaml:2: load.max_in_flight: must be ≥ 1, got 0"},
		// A negative lag limit.
		{"max_lag negative", "load:\n  max_lag: -1s", "bad.yaml:2: load.max_lag: must be 0 (no limit) or ≥ 10ms, got -1s"},
		// A lag limit timer wake-ups alone would break.
		{"max_lag tiny", "load:\n  max_lag: 2ms", "bad.yaml:2: load.max_lag: must be 0 (no limit) or ≥ 10ms, got 2ms"},
		// A target's own load is checked the same way.
		{"target max_lag tiny", "targets:\n  - name: a\n    load:\n      stages: [{duration: 1s, rate: 5}]\n      max_lag: 1ms", "bad.yaml:5: targets[0].load.max_lag: must be 0 (no limit) or ≥ 10ms, got 1ms"},
		// A word where an integer belongs.
		{"max_in_flight string", "load:\n  max_in_flight: many", "bad.yaml:2: load.max_in_flight: want an integer, got \"many\""},
		// A window of no length.
		{"window zero", "window: 0s", "bad.yaml:1: window: must be > 0, got 0s"},
		// A negative window.
		{"window negative", "window: -1s", "bad.yaml:1: window: must be > 0, got -1s"},
		// A scalar where a list belongs.
		{"stages not a list", "load:\n  stages: 5", "bad.yaml:2: load.stages: want a list, got \"5\""},
		// A mapping where a list belongs.
		{"targets not a list", "targets:\n  name: a", "bad.yaml:2: targets: want a list, got a mapping"},
		// The only target has weight 0: nothing would run.
		{"weights sum zero", "targets:\n  - name: a\n    weight: 0", "bad.yaml:1: targets: the weights of the targets that share the load sum to 0"},
		// A negative weight.
		{"negative weight", "targets:\n  - name: a\n    weight: -1\n  - name: b", "bad.yaml:3: targets[0].weight: must be ≥ 0, got -1"},
		// Two targets with one name.
		{"duplicate target names", "targets:\n  - name: a\n  - name: a", "bad.yaml:3: targets[1].name: duplicate target name \"a\" (also targets[0])"},
		// A simulator target naming an account the simulator lacks.
		{"unknown sim account", "targets:\n  - name: a\n    account: \"999\"", "bad.yaml:3: targets[0].account: the simulator has no account \"999\" (it has 12345678, 23456789, 34567890)"},
		// A live target without the names of its credential variables.
		// A live target without routing: refused, naming the target and the three choices.
		{"live without routing", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B", "bad.yaml:2: targets[0]: live target \"brand\" has no routing: set routing to default (the account's own routing), {skill_id: \"1234\"}, or {campaign_id: \"…\", engagement_id: \"…\"} (best a test skill with a bot and no human agents)"},
		// A word other than default.
		{"routing misspelt", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B\n    routing: defualt", "bad.yaml:7: targets[0].routing: want default (the account's own routing), {skill_id: \"1234\"}, or {campaign_id: \"…\", engagement_id: \"…\"}, got \"defualt\""},
		// A misspelt routing key, judged once.
		{"routing unknown key", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B\n    routing: {skill: \"1\"}", "bad.yaml:7: targets[0].routing.skill: unknown key (known keys: skill_id, campaign_id, engagement_id)"},
		// A skill id that is no LivePerson id.
		{"skill_id not digits", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B\n    routing: {skill_id: sales}", "bad.yaml:7: targets[0].routing.skill_id: want a skill id of digits (or \"-1\" for any skill), got \"sales\""},
		// A skill id that is a list.
		{"skill_id a list", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B\n    routing: {skill_id: [1]}", "bad.yaml:7: targets[0].routing.skill_id: want an id such as \"1234\", got a list"},
		// A skill and a campaign: LivePerson is asked one thing.
		{"skill and campaign", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B\n    routing: {skill_id: \"1\", campaign_id: \"2\", engagement_id: \"3\"}", "bad.yaml:7: targets[0].routing: set skill_id or campaign_id with engagement_id, not both"},
		// A campaign without its engagement.
		{"campaign alone", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B\n    routing: {campaign_id: \"2\"}", "bad.yaml:7: targets[0].routing: a campaign's routing needs both campaign_id and engagement_id; engagement_id is missing"},
		// A campaign id that is no LivePerson id.
		{"campaign_id not digits", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B\n    routing: {campaign_id: spring, engagement_id: \"3\"}", "bad.yaml:7: targets[0].routing.campaign_id: want an id of digits (from the account's campaigns), got \"spring\""},
		// An empty routing mapping.
		{"routing empty", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    client_id_env: A\n    client_secret_env: B\n    routing: {}", "bad.yaml:7: targets[0].routing: want default (the account's own routing), {skill_id: \"1234\"}, or {campaign_id: \"…\", engagement_id: \"…\"}, got an empty mapping"},
		// A consumer profile's gender as LivePerson does not write it.
		{"consumer gender", "journey:\n  consumer_profile:\n    gender: male", "bad.yaml:3: journey.consumer_profile.gender: want MALE, FEMALE or \"\" (left out), got \"male\""},
		// A social id: not a key (one fixed for every consumer would merge them).
		{"consumer social id", "journey:\n  consumer_profile:\n    social_id: \"1\"", "bad.yaml:3: journey.consumer_profile.social_id: unknown key (known keys: first_name, last_name, gender, customer_type)"},
		{"live without env names", "targets:\n  - name: brand\n    account: \"1\"\n    csds: api.liveperson.net\n    routing: default", "bad.yaml:2: targets[0]: a live target needs client_id_env and client_secret_env (names of environment variables)"},
		// A live domain API with a path.
		{"live http csds", "targets:\n  - name: brand\n    account: \"1\"\n    csds: https://api.liveperson.net/path\n    client_id_env: A\n    client_secret_env: B\n    routing: default", "bad.yaml:4: targets[0].csds: want a host name such as api.liveperson.net, got \"https://api.liveperson.net/path\""},
		// A lookup mode that does not exist.
		{"lookup unknown", "journey:\n  lookup: sometimes", "bad.yaml:2: journey.lookup: must be one of cached, per_consumer, got \"sometimes\""},
		// Consumer ids that would repeat.
		{"consumer id without n", "journey:\n  consumer_id: \"lpbench-{run}\"", "bad.yaml:2: journey.consumer_id: must contain {run} and {n} so that every consumer id is unique, got \"lpbench-{run}\""},
		// A delay distribution that does not exist.
		{"send delay unknown dist", "journey:\n  send_delay:\n    dist: poisson", "bad.yaml:3: journey.send_delay.dist: must be one of fixed, uniform, normal, got \"poisson\""},
		// A uniform delay whose bounds are swapped.
		{"send delay max below min", "journey:\n  send_delay:\n    dist: uniform\n    min: 5s\n    max: 2s", "bad.yaml:5: journey.send_delay.max: must be ≥ min (5s), got 2s"},
		// A delay that is not a duration.
		{"send delay bad duration", "journey:\n  send_delay: later", "bad.yaml:2: journey.send_delay: want a duration like \"750ms\" or \"10s\", got \"later\""},
		// A request timeout of zero.
		{"request timeout zero", "journey:\n  request_timeout: 0s", "bad.yaml:2: journey.request_timeout: must be > 0, got 0s"},
		// A retry policy naming a step that does not exist.
		{"retry unknown step", "journey:\n  retry:\n    steps: [create, greet]", "bad.yaml:3: journey.retry.steps[1]: unknown step \"greet\" (steps: lookup, appjwt, consumerjws, create, send, close)"},
		// Retrying a cancellation makes no sense.
		{"retry unknown class", "journey:\n  retry:\n    on:\n      canceled: {retries: 1, backoff: 1s}", "bad.yaml:4: journey.retry.on.canceled: cannot retry class \"canceled\" (retryable: rate_limited, http_5xx, timeout, network, auth, protocol, http_4xx)"},
		// An unbounded retry count.
		{"retry too many", "journey:\n  retry:\n    on:\n      http_5xx: {retries: 50, backoff: 1s}", "bad.yaml:4: journey.retry.on.http_5xx.retries: must be between 0 and 10, got 50"},
		// YAML 1.1 yes is not a boolean here.
		{"auto_messages not bool", "journey:\n  auto_messages: yes", "bad.yaml:2: journey.auto_messages: want true or false, got \"yes\""},
		// A percentile above 100.
		{"threshold bad metric", "thresholds:\n  - \"gap.p101 < 10s\"", "bad.yaml:2: thresholds[0]: threshold \"gap.p101 < 10s\": unknown metric \"gap.p101\": percentiles are p50, p90, p95, p99, p99.9, p99.99, or any pNN(.N) above 0 and up to 100, plus min, max, mean"},
		// A threshold scoped to a target that does not exist.
		{"threshold unknown target", "thresholds:\n  - expr: \"gap.p99 < 10s\"\n    target: nowhere", "bad.yaml:3: thresholds[0].target: no target named \"nowhere\""},
		// A share without its percent sign.
		{"threshold bad value", "thresholds:\n  - \"errors < 1\"", "bad.yaml:2: thresholds[0]: threshold \"errors < 1\": errors needs a percentage such as 1% or 0.1% (a bare fraction is ambiguous); got \"1\""},
		// A key given twice.
		{"duplicate key", "name: a\nname: b", "bad.yaml:2: name: duplicate key (first at line 1)"},
		// Broken YAML is located too.
		{"yaml syntax", "load:\n  stages: [\n", "bad.yaml:2: invalid YAML: did not find expected node content"},
		// The embedded simulator's own settings are checked.
		{"sim bad latency", "sim:\n  window: -1s", "bad.yaml:1: sim: lpsim: invalid config: negative window -1s"},
		// Every problem of a file is reported at once, in file order.
		{"several at once", "window: 0s\nload:\n  max_in_flight: 0\njourney:\n  lookup: never", "bad.yaml:1: window: must be > 0, got 0s\nbad.yaml:3: load.max_in_flight: must be ≥ 1, got 0\nbad.yaml:5: journey.lookup: must be one of cached, per_consumer, got \"never\""},
		// Nothing to read.
		{"empty file", "", "bad.yaml: the file is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want:\n%s", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, tc.want)
			}
			if _, ok := err.(Errors); !ok {
				t.Errorf("error is %T, want Errors", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "bad.yaml") {
					t.Errorf("line %q does not name the file", line)
				}
			}
		})
	}
}
