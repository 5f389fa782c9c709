package render

import (
	"io"
	"path/filepath"

	"github.com/lpbench/lpbench/report"
)

// WriteCapacityOutputs writes the reports of a capacity search into dir, each file atomically:
// capacity.json, capacity.html and summary.txt (each step's own are in its directory).
func WriteCapacityOutputs(dir string, c *report.Capacity) error {
	for _, out := range []struct {
		name  string
		write Reporter
	}{
		{"capacity.json", func(w io.Writer) error { return report.WriteCapacityJSON(w, c) }},
		{"capacity.html", CapacityHTML(c)},
		{"summary.txt", CapacitySummary(c)},
	} {
		if err := report.WriteFileAtomic(filepath.Join(dir, out.name), out.write); err != nil {
			return err
		}
	}
	return nil
}
