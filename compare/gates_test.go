package compare

import (
	"slices"
	"testing"
)

// TestParseGates: METRIC:PCT, several by commas; a malformed one is refused naming it; the
// percentiles a gate names are compared, each once, sorted.
func TestParseGates(t *testing.T) {
	gs, err := ParseGates("step.create.p95:10, served:1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Gate{{"step.create.p95", 10}, {"served", 1}}; !slices.Equal(gs, want) {
		t.Fatalf("gates %v, want %v", gs, want)
	}
	if gs[0].Share() || !gs[1].Share() {
		t.Errorf("Share: %v %v, want false true", gs[0].Share(), gs[1].Share())
	}
	for _, bad := range []string{"served", "served:x", "served:-1", ":5"} {
		if _, err := ParseGates(bad); err == nil {
			t.Errorf("ParseGates(%q) accepted", bad)
		}
	}
	if got, want := WithPercentiles(gs, []float64{99.9, 50, 95}), []float64{50, 90, 95, 99, 99.9}; !slices.Equal(got, want) {
		t.Errorf("WithPercentiles %v, want %v", got, want)
	}
}
