package report

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// How values read in every rendering — the terminal summary, HTML, JUnit, threshold tables and
// compare output: durations at three significant digits (fmtDur), shares as percentages, counts
// as integers.

// fmtDur renders a duration at three significant digits in the unit that fits the rounded value
// (so 999.6µs reads 1.00ms, not 1000µs).
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	p := time.Duration(1)
	for v := d; v >= 1000; v /= 10 {
		p *= 10
	}
	d = (d + p/2) / p * p
	var unit time.Duration
	var name string
	switch {
	case d < time.Microsecond:
		return neg + strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		unit, name = time.Microsecond, "µs"
	case d < time.Second:
		unit, name = time.Millisecond, "ms"
	default:
		unit, name = time.Second, "s"
	}
	x := float64(d) / float64(unit)
	prec := 0
	if x < 10 {
		prec = 2
	} else if x < 100 {
		prec = 1
	}
	return neg + strconv.FormatFloat(x, 'f', prec, 64) + name
}

// TrimFloat renders f with at most three decimals and no trailing zeros (12.5, 0.1, 3).
func TrimFloat(f float64) string { return TrimDecimals(f, 3) }

// TrimDecimals renders f with at most n decimals and no trailing zeros (TrimDecimals(2.50, 2)
// is 2.5): rates and shares in the capacity search's and the checks' wording take 2.
func TrimDecimals(f float64, n int) string {
	s := strconv.FormatFloat(f, 'f', n, 64)
	if n <= 0 {
		return s // no decimals: its zeros are the integer's
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// fmtValue renders a metric's value: a duration, or a share as a percentage.
func fmtValue(kind ValueKind, v float64) string {
	if kind == KindShare {
		return strconv.FormatFloat(100*v, 'f', 2, 64) + "%"
	}
	return FormatDuration(time.Duration(math.Round(v)))
}

// fmtRel renders a relative change as a signed percentage, "n/a" when it has no finite value.
func fmtRel(rel float64) string {
	if math.IsInf(rel, 0) || math.IsNaN(rel) {
		return "n/a"
	}
	s := strconv.FormatFloat(100*rel, 'f', 1, 64)
	switch {
	case s == "0.0" || s == "-0.0":
		return "0.0%"
	case !strings.HasPrefix(s, "-"):
		s = "+" + s
	}
	return s + "%"
}

// Format renders a measured value in the threshold's kind: a duration like fmtDur ("912ms"), a
// share as a percentage ("0.123%"), a count as an integer. A value that differs from the limit
// but would render like it is rendered in full, so a table never says "10.0s" failed "< 10s"
// without showing by how much.
func (t Threshold) Format(v float64) string {
	if s := t.format(v, false); v == t.Value || s != t.format(t.Value, false) {
		return s
	}
	return t.format(v, true)
}

func (t Threshold) format(v float64, full bool) string {
	switch t.Kind {
	case KindDuration:
		d := time.Duration(math.Round(v))
		if full {
			return d.String()
		}
		return FormatDuration(d)
	case KindShare:
		p := 100 * v
		switch s := TrimFloat(p); {
		case full:
			// Ten digits tell apart all but values a rounding error away from the limit.
			if s = strconv.FormatFloat(p, 'g', 10, 64); s == strconv.FormatFloat(100*t.Value, 'g', 10, 64) {
				s = strconv.FormatFloat(p, 'g', -1, 64)
			}
			return s + "%"
		case s == "0" && p != 0:
			return strconv.FormatFloat(p, 'g', 3, 64) + "%" // too small for three decimals
		default:
			return s + "%"
		}
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// FormatValue renders a metric's value as the reports do: a duration with its unit (v in
// nanoseconds), a share as a percentage, a count as an integer, a rate in journeys/s.
func FormatValue(kind ValueKind, v float64) string {
	switch kind {
	case KindCount:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case KindRate:
		return TrimFloat(v) + "/s"
	}
	return fmtValue(kind, v)
}

// FormatRel renders a relative change as a signed percentage (+15.2%), "n/a" when it has no
// finite value.
func FormatRel(rel float64) string { return fmtRel(rel) }
