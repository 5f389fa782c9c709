package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// share renders n of a population as a percentage with two decimals, "-" for a population of 0.
func share(n, of int64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
}

// fmtSigned renders a difference with its sign.
func fmtSigned(kind report.ValueKind, v float64) string {
	var s string
	if kind == report.KindShare {
		s = strconv.FormatFloat(100*v, 'f', 2, 64) + "pp"
		if s == "-0.00pp" {
			s = "0.00pp"
		}
	} else {
		s = report.FormatDuration(time.Duration(math.Round(v)))
	}
	if !strings.HasPrefix(s, "-") && strings.Trim(s, "0.p") != "" {
		s = "+" + s
	}
	return s
}

// wrapText writes s to b in lines of at most width runes, broken at spaces.
func wrapText(b *strings.Builder, s string, width int) {
	line := 0
	for i, word := range strings.Fields(s) {
		n := utf8.RuneCountInString(word)
		if i > 0 && line+1+n > width {
			b.WriteString("\n")
			line = 0
		} else if i > 0 {
			b.WriteString(" ")
			line++
		}
		b.WriteString(word)
		line += n
	}
	b.WriteString("\n")
}

// measured renders the result's measured column.
func measured(r report.ThresholdResult) string {
	if !r.NoData {
		return r.Format(r.Measured)
	}
	return "no data"
}

// cachedNote explains the marks of a step served mostly from the target's shared cache.
const cachedNote = "(cached): served mostly from the shared cache; hit: a cache hit, no request, under 1µs"

// stepLabel names step s of m for a latency table, marked "(cached)" when m served it mostly
// from the shared cache (report.Metrics.MostlyCached).
func stepLabel(m *report.Metrics, s sample.Step) string {
	if m.MostlyCached(s) {
		return "step." + s.String() + " (cached)"
	}
	return "step." + s.String()
}

// stepDuration writes a percentile of step s of m: "hit" for a cached step's value under 1 µs
// (a cache hit takes no time; the histogram holds it in its lowest bucket, as some 511ns).
func stepDuration(m *report.Metrics, s sample.Step, d time.Duration) string {
	if d < time.Microsecond && m.MostlyCached(s) {
		return "hit"
	}
	return report.FormatDuration(d)
}

// anyCached reports whether a step of m was served mostly from the shared cache.
func anyCached(m *report.Metrics) bool {
	for s := range sample.NumSteps {
		if m.MostlyCached(s) {
			return true
		}
	}
	return false
}
