package history

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lpbench/lpbench/report"
)

// Percent is a share given as a percentage (flag.Value), as the minimum effect of a check is:
// "5%" or "5" is 0.05.
type Percent float64

func (p *Percent) String() string { return strconv.FormatFloat(float64(*p)*100, 'g', -1, 64) + "%" }

// Set reads "5%" or "5" as 0.05.
func (p *Percent) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v <= 0 || v >= 100 {
		return fmt.Errorf("want a percentage above 0 and below 100, e.g. 5%%, got %q", s)
	}
	*p = Percent(v / 100)
	return nil
}

// Labels is the repeatable flag of a run's labels, each key=value (flag.Value).
type Labels map[string]string

func (l *Labels) String() string { return FormatLabels(*l) }

// Set adds one label: the key is 1 to 64 letters, digits, '.', '_' or '-' (report.IsName); the
// value is any text up to 256 bytes without control characters.
func (l *Labels) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("want key=value, got %q", kv)
	}
	if !report.IsName(k) {
		return fmt.Errorf("label key %q: 1 to 64 letters, digits, '.', '_' or '-'", k)
	}
	if len(v) > 256 || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("label %s: the value is up to 256 bytes without control characters", k)
	}
	if *l == nil {
		*l = Labels{}
	}
	if _, dup := (*l)[k]; dup {
		return fmt.Errorf("label %s given twice", k)
	}
	(*l)[k] = v
	return nil
}

// LabelKeys is the repeatable flag of label keys (flag.Value), e.g. those a check ignores.
type LabelKeys []string

func (f *LabelKeys) String() string { return strings.Join(*f, ",") }

// Set adds one label key.
func (f *LabelKeys) Set(k string) error {
	if !report.IsName(k) {
		return fmt.Errorf("label key %q: 1 to 64 letters, digits, '.', '_' or '-'", k)
	}
	*f = append(*f, k)
	return nil
}
