package history

import (
	"fmt"
	"strconv"
	"strings"
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
