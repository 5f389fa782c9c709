package main

import (
	"strings"
	"testing"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/profiles"
)

// TestSimLedgerConversations: `lpbench sim -ledger-conversations` below -1 is refused naming the
// flag, before anything listens; the config key ledger_conversations is read, and refused below
// -1 naming the file and the key.
func TestSimLedgerConversations(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI("sim", "-ledger-conversations", "-2")
	if want := "-ledger-conversations -2: give a count of conversations, or -1 to keep them all"; code != exitcode.Usage || !strings.Contains(stderr, want) {
		t.Errorf("-ledger-conversations -2: exit %d, want %d saying %q\n%s", code, exitcode.Usage, want, stderr)
	}
	cfg, err := profiles.ParseSimConfig("sim.yaml", []byte("ledger_conversations: 500\n"))
	if err != nil || cfg.LedgerConversations != 500 {
		t.Errorf("ledger_conversations: 500 → %d, %v", cfg.LedgerConversations, err)
	}
	if _, err := profiles.ParseSimConfig("sim.yaml", []byte("ledger_conversations: -5\n")); err == nil ||
		!strings.Contains(err.Error(), "sim.yaml") || !strings.Contains(err.Error(), "ledger_conversations -5") {
		t.Errorf("ledger_conversations: -5 → %v, want an error naming the file and the key", err)
	}
}
