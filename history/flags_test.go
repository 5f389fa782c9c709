package history

import "testing"

// TestPercent: 5% and 5 are 0.05; 0, 100 and words are refused.
func TestPercent(t *testing.T) {
	for _, s := range []string{"5%", "5", " 5"} {
		var p Percent
		if err := p.Set(s); err != nil || p != 0.05 {
			t.Errorf("%q: %v, %v", s, float64(p), err)
		}
	}
	for _, s := range []string{"0", "100", "x%"} {
		var p Percent
		if err := p.Set(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if p := Percent(0.05); p.String() != "5%" {
		t.Errorf("String %q", p.String())
	}
}
