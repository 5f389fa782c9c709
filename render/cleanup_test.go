package render

import (
	"strings"
	"testing"

	"github.com/lpbench/lpbench/cleanup"
)

// TestCleanupEvents: the lines cleanup's events are told in, byte for byte: a journal read (with
// its torn last line said), a second line only when some of its consumers were on an embedded
// simulator, a consumer left open indented under it, and nothing for an empty event.
func TestCleanupEvents(t *testing.T) {
	var b strings.Builder
	for _, e := range []cleanup.Event{
		{Journal: &cleanup.JournalRead{Path: "out/journal.jsonl", RunID: "r1", Consumers: 7, Open: 5, InFlight: 2}},
		{Journal: &cleanup.JournalRead{Path: "out/step-01/journal.jsonl", RunID: "r2", Consumers: 3, Open: 2, InFlight: 0, Gone: 1, Torn: true}},
		{Consumer: &cleanup.ConsumerLeft{Target: "va", Consumer: "lpbench-r1-00000001", Problem: "could not close conversation c-1: 500"}},
		{},
	} {
		if err := CleanupEvent(e)(&b); err != nil {
			t.Fatal(err)
		}
	}
	want := "out/journal.jsonl: run r1, 7 consumers, 5 possibly open (2 of them with their CONVERSATION in flight)\n" +
		"out/step-01/journal.jsonl: run r2, 3 consumers, 2 possibly open (0 of them with their CONVERSATION in flight) (its last line was torn by the kill and skipped)\n" +
		"  1 of them on the embedded simulator, which ended with the run: nothing to close\n" +
		"  target va consumer lpbench-r1-00000001: could not close conversation c-1: 500\n"
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
