package history

import (
	"strings"
	"testing"
)

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

// TestLabels: key=value labels, sorted when told; a duplicate, a missing value, a bad key or a
// control character is refused.
func TestLabels(t *testing.T) {
	var l Labels
	for _, kv := range []string{"build=1234", "env=ci", "empty="} {
		if err := l.Set(kv); err != nil {
			t.Errorf("%s: %v", kv, err)
		}
	}
	if l.String() != "build=1234,empty=,env=ci" {
		t.Errorf("labels %s", l.String())
	}
	for kv, want := range map[string]string{"env=prod": "given twice", "novalue": "want key=value", "bad key=x": "label key", "=x": "label key",
		"k=a\nb": "control characters"} {
		if err := l.Set(kv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", kv, err, want)
		}
	}
}
