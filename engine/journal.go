package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/lpbench/lpbench/journal"
	"github.com/lpbench/lpbench/profiles"
)

// writeJournalHeader writes the header of the run's journal, if it has one: per target, what a
// cleanup needs to reach it (never a credential, only the names of its environment variables).
func writeJournalHeader(p profiles.Profile, o Options, targets []*targetRun) error {
	if o.Journal == nil {
		return nil
	}
	h := journal.Header{RunID: o.RunID, Profile: p.Name, Started: time.Now().UTC(), Close: p.Journey.Close}
	for i, tr := range targets {
		t := p.Targets[i]
		lt := tr.client.Target()
		jt := journal.Target{
			Name: t.Name, Account: t.Account, Kind: tr.kind, CAFile: lt.CAFile, Insecure: t.Insecure,
			MaxRequestRate: t.MaxRequestRate,
		}
		switch _, moved := o.credentials[t.Name]; {
		case moved: // a "sim" target moved to -sim-url: its credentials are the simulator's
			jt.SimURL = strings.TrimRight(o.SimURL, "/")
		case tr.kind == profiles.KindSim: // the embedded simulator ends with the run
		default:
			jt.CSDS, jt.ClientIDEnv, jt.ClientSecretEnv = lt.CSDS, t.ClientIDEnv, t.ClientSecretEnv
		}
		h.Targets = append(h.Targets, jt)
	}
	if err := o.Journal.WriteHeader(h); err != nil {
		return fmt.Errorf("the journal: %w", err)
	}
	return nil
}
