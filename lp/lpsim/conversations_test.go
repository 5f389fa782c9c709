package lpsim

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOneOpenConversationPerConsumer(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	alice := newConsumer(t, s, accA, "alice")
	bob := newConsumer(t, s, accA, "bob")
	aliceB := newConsumer(t, s, accB, "alice") // same ext id, other account: another consumer

	st, _, first := alice.create(t, true)
	if got, want := st, 200; got != want {
		t.Fatalf("first create: status = %d, want %d", got, want)
	}
	// A second create while the first is open is refused, and names the open conversation.
	st, b, _ := alice.create(t, true)
	if got, want := st, 400; got != want {
		t.Fatalf("second create: status = %d, want %d: %s", got, want, b)
	}
	if !strings.Contains(string(b), first) {
		t.Errorf("refusal %s does not name the open conversation %s", b, first)
	}
	// A new token for the same consumer does not help: the rule is per consumer, not per token.
	again := newConsumer(t, s, accA, "alice")
	if st, _, _ := again.create(t, true); st != 400 {
		t.Errorf("create with a fresh token: status = %d, want 400", st)
	}
	// Other consumers are not affected.
	if st, _, _ := bob.create(t, true); st != 200 {
		t.Errorf("bob: status = %d, want 200", st)
	}
	if st, _, _ := aliceB.create(t, true); st != 200 {
		t.Errorf("alice of account B: status = %d, want 200", st)
	}
	// Once closed, the consumer may open another.
	if st, b := alice.close(t, first); st != 200 {
		t.Fatalf("close: status = %d: %s", st, b)
	}
	st, _, second := alice.create(t, true)
	if got, want := st, 200; got != want {
		t.Fatalf("create after close: status = %d, want %d", got, want)
	}
	if second == first {
		t.Errorf("reopened conversation reuses id %s", first)
	}
	l := s.Ledger()
	if got, want := l.ConversationsCreated, int64(4); got != want {
		t.Errorf("ConversationsCreated = %d, want %d", got, want)
	}
	if got, want := l.Requests[EndpointCreate][400], int64(2); got != want {
		t.Errorf("create 400 count = %d, want %d", got, want)
	}
}

// TestAutoMessagesRule checks the AUTO_MESSAGES verdict at the first send, on a fake clock and a
// 200 ms window.
func TestAutoMessagesRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		acc          string
		createHeader bool
		sendHeader   bool
		delay        time.Duration // create arrival → first send arrival
		want         bool
	}{
		// Headers on both, well inside the window.
		{"in window", accA, true, true, 100 * time.Millisecond, true},
		// Immediately.
		{"at once", accA, true, true, 0, true},
		// "No later than" the window: exactly at its end still counts.
		{"at window end", accA, true, true, 200 * time.Millisecond, true},
		// One nanosecond late.
		{"just late", accA, true, true, 200*time.Millisecond + 1, false},
		// Well after the window.
		{"late", accA, true, true, time.Second, false},
		// No header on CONVERSATION.
		{"no create header", accA, false, true, 100 * time.Millisecond, false},
		// No header on the first SEND.
		{"no send header", accA, true, false, 100 * time.Millisecond, false},
		// No header at all.
		{"no headers", accA, false, false, 100 * time.Millisecond, false},
		// The account does not have the feature.
		{"feature off", accB, true, true, 100 * time.Millisecond, false},
		// The account has the feature, its app lacks the Controller Bot permission.
		{"no controller bot", accC, true, true, 100 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, clk := newFakeSim(t, testConfig())
			c := newConsumer(t, s, tt.acc, "consumer")
			clk.Advance(time.Second) // so create time is not 0
			_, _, id := c.create(t, tt.createHeader)
			clk.Advance(tt.delay)
			if st, b := c.send(t, id, tt.sendHeader); st != 200 {
				t.Fatalf("send: status = %d: %s", st, b)
			}
			want := Conversation{
				ID:                id,
				Seq:               1, // the Sim's first
				Account:           tt.acc,
				ExtConsumerID:     "consumer",
				CreateReceived:    time.Second,
				FirstSendReceived: time.Second + tt.delay,
				Gap:               tt.delay,
				CreateHeader:      tt.createHeader,
				SendHeader:        tt.sendHeader,
				FirstSend:         true,
				AutoMessages:      tt.want,
				Skill:             DefaultSkill, // none asked
			}
			if got := conversationOf(t, s, id); !reflect.DeepEqual(got, want) {
				t.Errorf("ledger entry\n got %+v\nwant %+v", got, want)
			}
			// Later sends change nothing, even with the headers and in a new window.
			clk.Advance(time.Second)
			c.send(t, id, true)
			if got := conversationOf(t, s, id); !reflect.DeepEqual(got, want) {
				t.Errorf("after a second send\n got %+v\nwant %+v", got, want)
			}
			l := s.Ledger()
			if got, want := l.AutoMessagesTriggered, map[bool]int64{true: 1}[tt.want]; got != want {
				t.Errorf("AutoMessagesTriggered = %d, want %d", got, want)
			}
			if got, want := l.FirstSends, int64(1); got != want {
				t.Errorf("FirstSends = %d, want %d", got, want)
			}
			if got, want := l.Sends, int64(2); got != want {
				t.Errorf("Sends = %d, want %d", got, want)
			}
		})
	}
}

func TestClientPropertiesHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  bool
	}{
		// The documented value (fixtures/client-properties.json).
		{`{"type":".ClientProperties","features":["AUTO_MESSAGES"]}`, true},
		// Whitespace is tolerated.
		{" { \"type\" : \".ClientProperties\" ,\n \"features\" : [ \"AUTO_MESSAGES\" ] } ", true},
		// Other features beside it.
		{`{"type":".ClientProperties","features":["PHOTO_SHARING","AUTO_MESSAGES"]}`, true},
		// Absent.
		{"", false},
		// Other features only.
		{`{"type":".ClientProperties","features":["PHOTO_SHARING"]}`, false},
		// The word outside features does not count.
		{`{"type":"AUTO_MESSAGES","features":[]}`, false},
		// Not JSON.
		{`AUTO_MESSAGES`, false},
		// Feature names are case-sensitive.
		{`{"features":["auto_messages"]}`, false},
	}
	fromFixture := fixture(t, "client-properties.json")
	tests = append(tests, struct {
		value string
		want  bool
	}{strings.TrimSpace(fromFixture), true}) // the fixture itself
	for _, tt := range tests {
		h := map[string][]string{}
		if tt.value != "" {
			h["Client-Properties"] = []string{tt.value}
		}
		if got := autoMessagesFeature(h); got != tt.want {
			t.Errorf("autoMessagesFeature(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}

func TestLedgerCounts(t *testing.T) {
	t.Parallel()
	s, clk := newFakeSim(t, testConfig())
	// Three consumers of account A: one full journey in window, one late, one never sending.
	in := newConsumer(t, s, accA, "in")
	late := newConsumer(t, s, accA, "late")
	silent := newConsumer(t, s, accA, "silent")
	_, _, idIn := in.create(t, true)
	_, _, idLate := late.create(t, true)
	_, _, idSilent := silent.create(t, true)
	in.send(t, idIn, true)
	clk.Advance(time.Second)
	late.send(t, idLate, true)
	late.send(t, idLate, true)
	in.close(t, idIn)
	in.close(t, idIn)      // already closed: 400
	in.send(t, idIn, true) // closed: 400

	l := s.Ledger()
	counts := []struct {
		name      string
		got, want int64
	}{
		{"AppJWTsIssued", l.AppJWTsIssued, 3},
		{"ConsumerJWSsIssued", l.ConsumerJWSsIssued, 3},
		{"ConversationsCreated", l.ConversationsCreated, 3},
		{"ConversationsClosed", l.ConversationsClosed, 1},
		{"Sends", l.Sends, 3},
		{"FirstSends", l.FirstSends, 2},
		{"AutoMessagesTriggered", l.AutoMessagesTriggered, 1},
		{"appjwt 200", l.Requests[EndpointAppJWT][200], 3},
		{"consumerjws 201", l.Requests[EndpointConsumerJWS][201], 3},
		{"create 200", l.Requests[EndpointCreate][200], 3},
		{"send 200", l.Requests[EndpointSend][200], 3},
		{"send 400", l.Requests[EndpointSend][400], 1},
		{"close 200", l.Requests[EndpointClose][200], 1},
		{"close 400", l.Requests[EndpointClose][400], 1},
		{"csds", int64(len(l.Requests[EndpointCSDS])), 0},
		{"endpoints", int64(len(l.Requests)), int64(numEndpoints)},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// Conversations are in creation order, with their own fields.
	if got, want := len(l.Conversations), 3; got != want {
		t.Fatalf("%d conversations, want %d", got, want)
	}
	for i, want := range []struct {
		id                  string
		first, auto, closed bool
	}{
		{idIn, true, true, true},
		{idLate, true, false, false},
		{idSilent, false, false, false},
	} {
		c := l.Conversations[i]
		if c.ID != want.id || c.FirstSend != want.first || c.AutoMessages != want.auto || c.Closed != want.closed {
			t.Errorf("conversation %d = %+v, want id %s first %v auto %v closed %v", i, c, want.id, want.first, want.auto, want.closed)
		}
	}
	if got := l.Conversations[2]; got.FirstSendReceived != 0 || got.Gap != 0 {
		t.Errorf("conversation without send has times %v / %v, want 0", got.FirstSendReceived, got.Gap)
	}
	if got, want := l.Conversations[1].Gap, time.Second; got != want {
		t.Errorf("late gap = %v, want %v", got, want)
	}

	// The snapshot is a deep copy.
	l.Conversations[0].Closed = false
	l.Requests[EndpointCreate][200] = 99
	if l2 := s.Ledger(); !l2.Conversations[0].Closed || l2.Requests[EndpointCreate][200] != 3 {
		t.Errorf("changing a snapshot changed the Sim")
	}
}
