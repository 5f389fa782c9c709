package render

import (
	"fmt"
	"io"

	"github.com/lpbench/lpbench/cleanup"
)

// CleanupSummary is cleanup's one-line summary: what its journals left possibly open, and what
// became of it.
func CleanupSummary(rep *cleanup.Report) Reporter {
	return func(w io.Writer) error {
		gone := ""
		if rep.Gone > 0 {
			gone = fmt.Sprintf(" (%d on the embedded simulator, gone with its run)", rep.Gone)
		}
		_, err := fmt.Fprintf(w, "cleanup: %d journals, %d consumers, %d possibly open: closed %d, already closed %d, could not close %d, could not resolve %d%s\n",
			rep.Journals, rep.Consumers, rep.Open, rep.Closed, rep.AlreadyClosed, rep.CouldNotClose, rep.Unresolved, gone)
		return err
	}
}

// CleanupEvent renders what a cleanup tells as it goes: a line per journal read (and one for
// those of its consumers that were on an embedded simulator), a line per consumer left open.
func CleanupEvent(e cleanup.Event) Reporter {
	return func(w io.Writer) error {
		if c := e.Consumer; c != nil {
			_, err := fmt.Fprintf(w, "  target %s consumer %s: %s\n", c.Target, c.Consumer, c.Problem)
			return err
		}
		j := e.Journal
		if j == nil {
			return nil
		}
		torn := ""
		if j.Torn {
			torn = " (its last line was torn by the kill and skipped)"
		}
		if _, err := fmt.Fprintf(w, "%s: run %s, %d consumers, %d possibly open (%d of them with their CONVERSATION in flight)%s\n",
			j.Path, j.RunID, j.Consumers, j.Open, j.InFlight, torn); err != nil || j.Gone == 0 {
			return err
		}
		_, err := fmt.Fprintf(w, "  %d of them on the embedded simulator, which ended with the run: nothing to close\n", j.Gone)
		return err
	}
}
