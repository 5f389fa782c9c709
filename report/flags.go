package report

import (
	"fmt"
	"slices"
	"strings"
)

// ThresholdList is a repeatable flag of threshold expressions (flag.Value): each one given is
// parsed (ParseThreshold) and added.
type ThresholdList []Threshold

func (s *ThresholdList) String() string {
	var es []string
	for _, t := range *s {
		es = append(es, t.Expr)
	}
	return strings.Join(es, ", ")
}

// Set adds one threshold.
func (s *ThresholdList) Set(expr string) error {
	t, err := ParseThreshold(expr)
	if err != nil {
		return err
	}
	*s = append(*s, t)
	return nil
}

// CheckList is a repeatable flag of measurement check names (flag.Value), each one of
// CheckNames.
type CheckList []string

func (r *CheckList) String() string { return strings.Join(*r, ",") }

// Set adds one check name.
func (r *CheckList) Set(name string) error {
	if !slices.Contains(CheckNames, name) {
		return fmt.Errorf("no check named %q (checks: %s)", name, strings.Join(CheckNames, ", "))
	}
	*r = append(*r, name)
	return nil
}

// IsName reports whether s is 1 to 64 letters, digits, '.', '_' and '-': a run id's and a
// label key's form.
func IsName(s string) bool {
	ok := s != "" && len(s) <= 64
	for _, r := range s {
		ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}
	return ok
}
