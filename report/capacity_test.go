package report_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
)

// TestCapacityJSONRoundTrip: capacity.json reads back as written, and a wrong schema is refused.
func TestCapacityJSONRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "capacity.json")
	c := reporttest.CapacityFixture()
	if err := report.WriteFileAtomic(path, func(w io.Writer) error { return report.WriteCapacityJSON(w, c) }); err != nil {
		t.Fatal(err)
	}
	got, err := report.ReadCapacityFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.SustainableRate != c.SustainableRate || got.Interval != c.Interval || got.Bound != c.Bound || len(got.Steps) != len(c.Steps) || got.Steps[2].Failed[0] != report.CriterionSLO {
		t.Errorf("read back %+v", got)
	}
	b, _ := os.ReadFile(path)
	for _, key := range []string{`"schema": "lpbench.capacity/v1"`, `"sustainable_rate": 103.125`, `"interval": [`, `"bound": "target"`, `"result": "step-01/result.json"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("capacity.json lacks %s", key)
		}
	}
	if err := os.WriteFile(path, []byte(`{"schema": "lpbench.result/v1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := report.ReadCapacityFile(path); err == nil || !strings.Contains(err.Error(), "lpbench.capacity/v1") {
		t.Errorf("a result file read as capacity.json: %v", err)
	}
}
