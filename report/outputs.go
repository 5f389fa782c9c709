package report

import (
	"io"
	"path/filepath"
)

// WriteRunOutputs writes every report of one run into dir, each file atomically: result.json,
// summary.txt, junit.xml and report.html (the interval log, run.hlog, is written as the run
// goes, by whoever opened it).
func WriteRunOutputs(dir string, res *Result) error {
	for _, out := range []struct {
		name  string
		write func(io.Writer, *Result) error
	}{
		{"result.json", WriteJSON},
		{"summary.txt", WriteSummary},
		{"junit.xml", WriteJUnit},
		{"report.html", WriteHTML},
	} {
		if err := WriteFileAtomic(filepath.Join(dir, out.name), func(w io.Writer) error { return out.write(w, res) }); err != nil {
			return err
		}
	}
	return nil
}
