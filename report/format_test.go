package report

import (
	"testing"
	"time"
)

func TestFmtDur(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want string
	}{
		// Zero has no unit.
		{0, "0"},
		// Below the microsecond.
		{1, "1ns"},
		{500, "500ns"},
		// Microseconds at three significant digits.
		{time.Microsecond, "1.00µs"},
		{1500, "1.50µs"},
		{12345, "12.3µs"},
		{123456, "123µs"},
		{999400, "999µs"},
		// 9.996 µs rounds to 10.0, not 10.00.
		{9996, "10.0µs"},
		// 999.6 µs rounds to 1.00 ms, not 1000 µs.
		{999600, "1.00ms"},
		// Milliseconds.
		{time.Millisecond, "1.00ms"},
		{50 * time.Millisecond, "50.0ms"},
		{123456789, "123ms"},
		{999 * time.Millisecond, "999ms"},
		// 99.96 ms rounds to 100 ms, not 100.0.
		{99960 * time.Microsecond, "100ms"},
		// 999.96 ms rounds to 1.00 s.
		{999960 * time.Microsecond, "1.00s"},
		// Seconds, and nothing larger.
		{time.Second, "1.00s"},
		{12345 * time.Millisecond, "12.3s"},
		{10 * time.Minute, "600s"},
		{2 * time.Hour, "7200s"},
		// Negative values (window − p99 when p99 is past the window) keep their sign.
		{-1500 * time.Microsecond, "-1.50ms"},
		{-3 * time.Second, "-3.00s"},
		{-999600, "-1.00ms"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got, want := FormatDuration(tt.in), tt.want; got != want {
				t.Errorf("FormatDuration(%d) = %q, want %q", int64(tt.in), got, want)
			}
		})
	}
}

func TestTrimFloat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},          // no trailing point
		{50, "50"},        // whole number
		{1.5, "1.5"},      // trailing zeros go
		{99.9, "99.9"},    // a percentile
		{0.1234, "0.123"}, // three decimals at most
	}
	for _, tt := range tests {
		if got, want := TrimFloat(tt.in), tt.want; got != want {
			t.Errorf("TrimFloat(%g) = %q, want %q", tt.in, got, want)
		}
	}
}
