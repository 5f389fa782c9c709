package report

import "testing"

// TestFlagLists: a known check name and a valid threshold are added; others are refused.
func TestFlagLists(t *testing.T) {
	var c CheckList
	if err := c.Set("generator_lag"); err != nil || c.String() != "generator_lag" {
		t.Errorf("CheckList %q, %v", c.String(), err)
	}
	if err := c.Set("no_such_check"); err == nil {
		t.Error("an unknown check was accepted")
	}
	var s ThresholdList
	if err := s.Set("errors < 1%"); err != nil || len(s) != 1 {
		t.Errorf("ThresholdList %v, %v", s, err)
	}
	if err := s.Set("errors <"); err == nil {
		t.Error("a malformed threshold was accepted")
	}
}
