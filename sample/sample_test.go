package sample

import "testing"

// TestParseNames: every name String writes parses back to its value, and nothing else parses.
func TestParseNames(t *testing.T) {
	t.Parallel()
	for s := range NumSteps {
		if got, ok := ParseStep(s.String()); !ok || got != s {
			t.Errorf("ParseStep(%q) = %v, %v", s, got, ok)
		}
	}
	for c := range NumClasses {
		if got, ok := ParseClass(c.String()); !ok || got != c {
			t.Errorf("ParseClass(%q) = %v, %v", c, got, ok)
		}
	}
	for o := range NumOutcomes {
		if got, ok := ParseOutcome(o.String()); !ok || got != o {
			t.Errorf("ParseOutcome(%q) = %v, %v", o, got, ok)
		}
	}
	for v := range NumVerdicts {
		if got, ok := ParseVerdict(v.String()); !ok || got != v {
			t.Errorf("ParseVerdict(%q) = %v, %v", v, got, ok)
		}
	}
	for _, bad := range []string{"", "Create", "step(9)", "create ", "timeouts"} {
		if _, ok := ParseStep(bad); ok {
			t.Errorf("ParseStep(%q) parsed", bad)
		}
		if _, ok := ParseClass(bad); ok {
			t.Errorf("ParseClass(%q) parsed", bad)
		}
	}
}

// TestWebhookStatsAdd: every counter adds (a field forgotten in Add would lose a shard's count
// in merges).
func TestWebhookStatsAdd(t *testing.T) {
	t.Parallel()
	a := WebhookStats{Received: 1, BadSignature: 2, Undecodable: 3, AutoMessages: 4, Duplicates: 5, Unmatched: 6, Late: 7, Echoes: 8, Overflow: 9,
		Relayed: 10, RelayDropped: 11, RelayMissed: 12, RelayReconnects: 13, RelayUncertain: 14, Reordered: 15}
	b := a
	a.Add(b)
	if want := (WebhookStats{2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}); a != want {
		t.Errorf("sum %+v, want %+v", a, want)
	}
}
