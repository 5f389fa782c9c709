package render

import (
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/profiles"
)

// TestPlanText: the plan tells each target's schedule, requests against its cap, routing,
// webhook, consumer ids and thresholds, a search's worst case, and the notes added to it.
func TestPlanText(t *testing.T) {
	t.Parallel()
	tp := profiles.TargetPlan{Name: "va", Account: "42", Kind: "live", Endpoint: "https://api.liveperson.net",
		Stages:   []loadgen.Stage{{Duration: time.Minute, From: 0.5, To: 2}},
		PeakRate: 2, Duration: time.Minute, Conversations: 75, RequestRate: 8, MaxRequestRate: 5,
		Requests: []profiles.ServiceRate{{Service: "idp", Requests: "ConsumerJWS", PerSecond: 2}, {Service: "sentinel", Requests: "AppJWT", Cached: true}},
		Routing:  "skill 1234", Webhook: "https://relay/webhook/va (relay)", ConsumerID: "lpbench-{run}-{n}", Thresholds: []string{"errors < 1%"}}
	rp := profiles.RunPlan{Profile: "p", Targets: []profiles.TargetPlan{tp}, PeakRate: 2, Duration: time.Minute, Conversations: 75,
		Close: true, Notes: []string{"a note from the plan"}}
	var b strings.Builder
	if err := Plan("plan of p", rp)(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"plan of p\n", "about 75 conversations, each closed", "target va: account 42, https://api.liveperson.net (live)",
		"1m0s at 0.5 → 2/s", "8/s at the peak (max_request_rate 5/s: OVER the cap", "idp               2/s (ConsumerJWS)",
		"sentinel          cached (AppJWT)", "skill 1234", "(relay)", "lpbench-{run}-{n}", "errors < 1%", "  a note from the plan\n"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("the plan lacks %q:\n%s", w, b.String())
		}
	}
	rp.Search = &profiles.SearchPlan{From: 10, Max: 40, Peak: 40, Step: 25 * time.Second, Steps: 3, Conversations: 1750, MaxConversations: 5000,
		Duration: 90 * time.Second, SLO: []string{"errors < 0.1%"}}
	b.Reset()
	if err := Plan("plan", rp)(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"steps of 25s from 10 journeys/s, at most 40/s", "worst case: 3 steps up to 40 journeys/s, about 1750 conversations (cap 5000), 1m30s",
		"a step passes when: errors < 0.1%", "highest step    2 journeys/s for 1m0s"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("the search's plan lacks %q:\n%s", w, b.String())
		}
	}
}
