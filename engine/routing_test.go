package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// TestRoutedToSkill: a target routed to a skill on an account whose skill list has it sends that
// skillId on every CONVERSATION, the simulator's ledger shows every conversation on that skill,
// and the summary reports every one of them routed there; with an id not in the list, every
// conversation lands on the default skill and the run reports each as mismatched.
func TestRoutedToSkill(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, skill, landed string
		mismatched          bool
	}{
		{"skill in the list", "1234", "1234", false}, // routed as asked
		{"skill not in the list", "999", "-1", true}, // the simulator's default skill
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := testProfile(20, time.Second)
			p.Targets[0].Routing = &profiles.Routing{SkillID: tc.skill}
			p.Thresholds = []profiles.Threshold{{Expr: "routing.mismatched < 1%"}}
			p.Thresholds[0].Parsed, _ = report.ParseThreshold(p.Thresholds[0].Expr)
			cfg := webhookSim(0, 0)
			cfg.Accounts[0].Skills = []string{"1234", "5678"}
			res, led, recs := runAgainst(t, p, cfg, nil)
			checkIdentities(t, res)

			n := led.ConversationsCreated
			if n == 0 || int64(len(led.Conversations)) != n {
				t.Fatalf("ledger: %d conversations created, %d listed", n, len(led.Conversations))
			}
			for _, c := range led.Conversations {
				if c.SkillAsked != tc.skill || c.Skill != tc.landed {
					t.Errorf("conversation %s: skill asked %q, landed on %q; want %q on %q", c.ID, c.SkillAsked, c.Skill, tc.skill, tc.landed)
				}
			}
			if got := led.ConversationsBySkill[tc.landed]; got != n || len(led.ConversationsBySkill) != 1 {
				t.Errorf("ledger by skill %v, want %d on %s", led.ConversationsBySkill, n, tc.landed)
			}
			for _, j := range recs {
				want := sample.RoutingMatched
				if tc.mismatched {
					want = sample.RoutingMismatched
				}
				if j.Routing != want {
					t.Errorf("journey %d: routing %v, want %v", j.Index, j.Routing, want)
				}
			}

			checked, matched, mismatched := res.Overall.RoutingChecked()
			wantMatched, wantMismatched := n, int64(0)
			if tc.mismatched {
				wantMatched, wantMismatched = 0, n
			}
			if checked != n || matched != wantMatched || mismatched != wantMismatched {
				t.Errorf("routing checked %d, matched %d, mismatched %d; want %d, %d, %d", checked, matched, mismatched, n, wantMatched, wantMismatched)
			}
			if got := res.Targets[0].Skill; got != tc.skill {
				t.Errorf("result's routing skill %q, want %q", got, tc.skill)
			}
			var b strings.Builder
			if err := report.WriteSummary(&b, res); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("routed to skill %s: %d of %d\n", tc.skill, wantMatched, n)
			if tc.mismatched {
				want = fmt.Sprintf("routed to skill %s: 0 of %d, %d to another skill (routing.mismatched)\n", tc.skill, n, n)
			}
			if !strings.Contains(b.String(), want) {
				t.Errorf("summary lacks %q:\n%s", want, b.String())
			}
			if len(res.Thresholds) != 1 || res.Thresholds[0].Pass == tc.mismatched {
				t.Errorf("thresholds %+v: routing.mismatched < 1%% should pass only when routed as asked", res.Thresholds)
			}
		})
	}
}
