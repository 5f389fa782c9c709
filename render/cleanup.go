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
