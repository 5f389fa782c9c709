package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lpbench/lpbench/report"
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
