package lpsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
)

// TestRouteSkill: an account without a skill list takes every skill id as it is; with a list,
// an id it does not hold goes to the default skill "-1", as does a conversation that asked for
// none.
func TestRouteSkill(t *testing.T) {
	t.Parallel()
	list := []string{"1234", "5678"}
	for _, tc := range []struct {
		skills      []string
		asked, want string
	}{
		{nil, "1234", "1234"},         // no list: as asked
		{nil, "anything", "anything"}, // no list: as asked, whatever it is
		{nil, "", "-1"},               // none asked: the default skill
		{list, "5678", "5678"},        // in the list
		{list, "999", "-1"},           // not in the list: the simulator's assumption
		{list, "-1", "-1"},            // any skill
		{[]string{}, "1234", "-1"},    // an empty list holds nothing
	} {
		if got := RouteSkill(tc.skills, tc.asked); got != tc.want {
			t.Errorf("RouteSkill(%v, %q) = %q, want %q", tc.skills, tc.asked, got, tc.want)
		}
	}
}

// TestLedgerSkills: the ledger records, per conversation, the skill the CONVERSATION asked for
// and the one it landed on, and counts the conversations per skill.
func TestLedgerSkills(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Accounts[0].Skills = []string{"1234"}
	s, _ := newFakeSim(t, cfg)
	// The skillIds asked for (raw JSON, after "skillId": ); a campaign's engagement routes
	// nothing here (the simulator has no campaigns).
	asked := []string{`"1234"`, `1234`, `"999"`, ``, `"-1", "campaignInfo": {"campaignId": "77", "engagementId": "88"}`}
	want := []Conversation{{SkillAsked: "1234", Skill: "1234"}, {SkillAsked: "1234", Skill: "1234"}, {SkillAsked: "999", Skill: "-1"}, {Skill: "-1"},
		{SkillAsked: "-1", Skill: "-1"}}
	for i, skill := range asked {
		c := newConsumer(t, s, accA, fmt.Sprint("consumer-", i))
		repl := []string{"{accountid}", accA}
		if skill != "" {
			repl = append(repl, `"ttrDefName": "NORMAL"`, `"ttrDefName": "NORMAL", "skillId": `+skill)
		}
		st, b := call(t, s, "POST", createPath(accA), fixture(t, "create-conversation.json", repl...), c.headers(true)...)
		if st != http.StatusOK {
			t.Fatalf("create with skillId %s: %d %s", skill, st, b)
		}
	}
	l := s.Ledger()
	if len(l.Conversations) != len(want) {
		t.Fatalf("%d conversations in the ledger", len(l.Conversations))
	}
	for i, c := range l.Conversations {
		if c.SkillAsked != want[i].SkillAsked || c.Skill != want[i].Skill {
			t.Errorf("skillId %s: asked %q, landed on %q; want %q, %q", asked[i], c.SkillAsked, c.Skill, want[i].SkillAsked, want[i].Skill)
		}
	}
	if got, want := l.ConversationsBySkill, map[string]int64{"1234": 2, "-1": 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("conversations by skill %v, want %v", got, want)
	}
	b, _ := json.Marshal(l)
	var j struct {
		BySkill map[string]int64 `json:"conversations_by_skill"`
		Convs   []struct {
			Skill string `json:"skill"`
		} `json:"conversations"`
	}
	if err := json.Unmarshal(b, &j); err != nil || j.BySkill["1234"] != 2 || j.Convs[0].Skill != "1234" {
		t.Errorf("the ledger's JSON lacks the skills: %s", b)
	}
}
