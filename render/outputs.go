package render

import (
	"io"
	"path/filepath"

	"github.com/lpbench/lpbench/report"
)

// WriteRunOutputs writes every report of one run into dir, each file atomically: result.json,
// summary.txt, junit.xml and report.html (the interval log, run.hlog, is written as the run
// goes, by whoever opened it).
func WriteRunOutputs(dir string, res *report.Result) error {
	for _, out := range []struct {
		name  string
		write func(io.Writer, *report.Result) error
	}{
		{"result.json", report.WriteJSON},
		{"summary.txt", writeSummary},
		{"junit.xml", writeJUnit},
		{"report.html", writeHTML},
	} {
		if err := report.WriteFileAtomic(filepath.Join(dir, out.name), func(w io.Writer) error { return out.write(w, res) }); err != nil {
			return err
		}
	}
	return nil
}
