package render

import (
	"fmt"
	"io"

	"github.com/lpbench/lpbench/compare"
)

// GateBreaches is a line per regression gate a comparison failed (compare.Breaches), each
// naming the metric, the two sides and the limit.
func GateBreaches(bs []compare.Breach) Reporter {
	return func(w io.Writer) error {
		for _, b := range bs {
			unit := "%"
			if b.Gate.Share() {
				unit = " percentage points"
			}
			if _, err := fmt.Fprintf(w, "lpbench compare: %s of %s is significantly worse than %s's by more than %g%s\n",
				b.Gate.Metric, b.Pair.New, b.Pair.Base, b.Gate.Pct, unit); err != nil {
				return err
			}
		}
		return nil
	}
}
