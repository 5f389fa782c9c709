package engine

import (
	"testing"
	"time"
)

// TestParseStartAt: the barrier is an RFC 3339 instant, or a duration after now.
func TestParseStartAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		// Relative to now.
		{"+2m", now.Add(2 * time.Minute)},
		// An instant in UTC.
		{"2026-12-01T10:05:00Z", now.Add(5 * time.Minute)},
		// An instant with an offset and fractions of a second.
		{"2026-12-01T11:05:00.5+01:00", now.Add(5*time.Minute + 500*time.Millisecond)},
	} {
		got, err := ParseStartAt(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseStartAt(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
