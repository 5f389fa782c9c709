package lp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// createElems decodes a CONVERSATION body into its two requests' bodies.
func createElems(t *testing.T, body []byte) (profile, request map[string]any) {
	t.Helper()
	var reqs []struct {
		Type string         `json:"type"`
		Body map[string]any `json:"body"`
	}
	if err := json.Unmarshal(body, &reqs); err != nil || len(reqs) != 2 {
		t.Fatalf("body %s: %v", body, err)
	}
	if reqs[0].Type != "userprofile.SetUserProfile" || reqs[1].Type != "cm.ConsumerRequestConversation" {
		t.Fatalf("request types %q, %q", reqs[0].Type, reqs[1].Type)
	}
	return reqs[0].Body, reqs[1].Body
}

// TestCreateBodyRouting: the CONVERSATION body carries skillId, or campaignInfo
// {campaignId, engagementId}, exactly as LivePerson documents them, and neither for the account's
// default routing.
func TestCreateBodyRouting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		r    Routing
		want string // the routing fields of the ConsumerRequestConversation body, as JSON
	}{
		{"default", Routing{}, `{}`},                              // nothing: the account's rules
		{"skill", Routing{SkillID: "1234"}, `{"skillId":"1234"}`}, // a skill, as a string like "-1"
		{"any skill", Routing{SkillID: "-1"}, `{"skillId":"-1"}`},
		{"campaign", Routing{CampaignID: "77", EngagementID: "88"}, `{"campaignInfo":{"campaignId":"77","engagementId":"88"}}`},
	} {
		b, err := createBody("123", tc.r, DefaultConsumerProfile())
		if err != nil {
			t.Fatal(err)
		}
		_, req := createElems(t, b)
		got := map[string]any{}
		for _, k := range []string{"skillId", "campaignInfo"} {
			if v, ok := req[k]; ok {
				got[k] = v
			}
		}
		var want map[string]any
		_ = json.Unmarshal([]byte(tc.want), &want)
		if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
			t.Errorf("%s: routing fields %s, want %s (body %s)", tc.name, g, w, b)
		}
		if req["brandId"] != "123" || req["channelType"] != "MESSAGING" {
			t.Errorf("%s: request body %v", tc.name, req)
		}
	}
}

// TestDefaultConsumerProfileSynthetic: a consumer set up without a profile (and with
// DefaultConsumerProfile) says plainly it is lpbench's: a name that says lpbench, no VIP customer
// type, no social id, nothing of the documented example's John Doe.
func TestDefaultConsumerProfileSynthetic(t *testing.T) {
	t.Parallel()
	c, err := NewClient(Target{Account: "123", CSDS: "http://127.0.0.1:1", Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	up, _ := createElems(t, c.create)
	want := `map[authenticatedData:map[lp_sdes:[map[personal:map[firstname:lpbench lastname:synthetic consumer] type:personal]]]]`
	if got := fmt.Sprint(up); got != want {
		t.Errorf("SetUserProfile body %s, want %s", got, want)
	}
	for _, bad := range []string{"vip", "ctmrinfo", "socialId", "1234567890", "John", "Doe"} {
		if strings.Contains(string(c.create), bad) {
			t.Errorf("the default CONVERSATION body holds %q: %s", bad, c.create)
		}
	}
}

// TestConsumerProfileConfigured: a configured profile sends its fields (ctmrinfo only with a
// customer type); an empty one sends an empty SetUserProfile body, as LivePerson allows; a
// profile lpbench would not send is refused, naming the field.
func TestConsumerProfileConfigured(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    ConsumerProfile
		want string
	}{
		{"everything", ConsumerProfile{FirstName: "Load", LastName: "Test", Gender: "FEMALE", CustomerType: "test"},
			`map[authenticatedData:map[lp_sdes:[map[info:map[ctype:test] type:ctmrinfo] map[personal:map[firstname:Load gender:FEMALE lastname:Test] type:personal]]]]`},
		{"customer type only", ConsumerProfile{CustomerType: "test"}, `map[authenticatedData:map[lp_sdes:[map[info:map[ctype:test] type:ctmrinfo]]]]`},
		{"empty", ConsumerProfile{}, `map[]`},
	} {
		p := tc.p
		c, err := NewClient(Target{Account: "123", CSDS: "http://127.0.0.1:1", Scheme: "http", ConsumerProfile: &p})
		if err != nil {
			t.Fatal(err)
		}
		if up, _ := createElems(t, c.create); fmt.Sprint(up) != tc.want {
			t.Errorf("%s: SetUserProfile body %v, want %s", tc.name, up, tc.want)
		}
	}
	for _, tc := range []struct {
		p   ConsumerProfile
		key string
	}{
		{ConsumerProfile{Gender: "male"}, "gender"},                                // the documented values are upper case
		{ConsumerProfile{FirstName: "a\nb"}, "first_name"},                         // a control character
		{ConsumerProfile{CustomerType: strings.Repeat("x", 101)}, "customer_type"}, // too long
	} {
		p := tc.p
		_, err := NewClient(Target{Account: "123", CSDS: "http://127.0.0.1:1", Scheme: "http", ConsumerProfile: &p})
		var pe *ProfileError
		if !errors.As(err, &pe) || pe.Key != tc.key {
			t.Errorf("profile %+v: error %v, want one naming %s", tc.p, err, tc.key)
		}
	}
}

// change returns a conversation-change notification of conv with a skillId (raw JSON) updated at
// ts (Unix ms).
func change(conv, skill string, ts int64) []byte {
	return fmt.Appendf(nil, `{"kind":"notification","type":"cqm.ExConversationChangeNotification","body":{"changes":[{"type":"UPSERT",
"result":{"convId":%q,"conversationDetails":{"state":"OPEN","stage":"OPEN","skillId":%s,"metaDataLastUpdateTs":%d}}}]}}`, conv, skill, ts)
}

// TestReceiverSkill: the receiver tells a conversation's skill from its changes: the earliest
// change's (a later transfer or an overtaken change does not hide where it first went), a change
// that came before the journey expected its conversation included, numbers and strings alike;
// no skill for a conversation whose changes carried none, or of another run.
func TestReceiverSkill(t *testing.T) {
	t.Parallel()
	r := newReceiver("s", 16)
	deliver := func(b []byte) {
		_, cs, err := decodeDelivery(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			r.handleChange(c)
		}
	}
	deliver(change("early", `"1234"`, 1000)) // before Expect: LivePerson sends it as it answers CONVERSATION
	r.Expect("early")
	r.Expect("moved")
	deliver(change("moved", `"555"`, 3000)) // a transfer, delivered first
	deliver(change("moved", `1234`, 2000))  // the first routing, as a number, overtaken
	r.Expect("none")
	deliver(change("none", `null`, 1000))
	deliver(change("other", `"9"`, 1000)) // another run's conversation
	for _, tc := range []struct {
		conv, want string
		ok         bool
	}{
		{"early", "1234", true},
		{"moved", "1234", true},
		{"none", "", false},
		{"other", "", false},
	} {
		if got, ok := r.Skill(tc.conv); got != tc.want || ok != tc.ok {
			t.Errorf("Skill(%s) = %q, %v; want %q, %v", tc.conv, got, ok, tc.want, tc.ok)
		}
	}
	r.Forget("early")
	if got, ok := r.Skill("early"); got != "1234" || !ok {
		t.Errorf("a finished conversation's skill = %q, %v: want it remembered", got, ok)
	}
}

// TestReceiverEarlyBounded: the skills of changes of conversations nobody expects are kept for a
// while only, and no more than maxEarly at once.
func TestReceiverEarlyBounded(t *testing.T) {
	t.Parallel()
	r := newReceiver("s", 1)
	now := time.Now()
	r.now = func() time.Time { return now }
	for i := range maxEarly + 10 {
		r.handleChange(ConversationChange{ConversationID: fmt.Sprint("c", i), Skill: "1"})
	}
	if n := len(r.early) + len(r.earlyOld); n != maxEarly {
		t.Errorf("%d early skills kept, want at most %d", n, maxEarly)
	}
	now = now.Add(2 * rememberFor) // two generations later: every early skill is forgotten
	r.handleChange(ConversationChange{ConversationID: "x", Skill: "1"})
	now = now.Add(2 * rememberFor)
	r.handleChange(ConversationChange{ConversationID: "y", Skill: "1"})
	r.Expect("c0")
	if _, ok := r.Skill("c0"); ok {
		t.Error("a skill seen two generations ago was kept")
	}
}
