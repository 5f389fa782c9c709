package lpsim

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket per account and endpoint: Rate requests per second, bursts of
// Burst. A request finding the bucket empty is refused at once with 429, in the documented error
// shape, with a Retry-After header of RetryAfter in whole seconds, rounded up, at least 1.
// LivePerson publishes no numbers, so every value here is a choice of the configuration.
type RateLimit struct {
	Rate       float64       `yaml:"rate"`        // requests per second; 0 = no limit
	Burst      int           `yaml:"burst"`       // bucket size; 0 = one second's worth (at least 1)
	RetryAfter time.Duration `yaml:"retry_after"` // 0 = the time one token takes, at least 1s
}

// Validate reports whether l has sensible values.
func (l RateLimit) Validate() error {
	switch {
	case l.Rate < 0 || math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0):
		return fmt.Errorf("rate %v is not a finite non-negative number", l.Rate)
	case l.Burst < 0:
		return fmt.Errorf("negative burst %d", l.Burst)
	case l.RetryAfter < 0:
		return fmt.Errorf("negative retry-after %v", l.RetryAfter)
	}
	return nil
}

// limiter is a RateLimit prepared for use: the bucket lives per account (see account), the
// answer is shared.
type limiter struct {
	limit      rate.Limit
	burst      int
	retryAfter []string // the Retry-After header value
	err        apiErr
}

// newLimiter returns nil when l sets no limit.
func newLimiter(l RateLimit) *limiter {
	if l.Rate <= 0 {
		return nil
	}
	burst := l.Burst
	if burst == 0 {
		burst = max(1, int(math.Ceil(l.Rate)))
	}
	ra := l.RetryAfter
	if ra == 0 {
		ra = time.Duration(float64(time.Second) / l.Rate)
	}
	secs := max(1, int64((ra+time.Second-1)/time.Second))
	return &limiter{
		limit:      rate.Limit(l.Rate),
		burst:      burst,
		retryAfter: []string{strconv.FormatInt(secs, 10)},
		err: apiErr{
			status:  http.StatusTooManyRequests,
			title:   "Too many requests, please try again later",
			details: "rate limit of " + strconv.FormatFloat(l.Rate, 'g', -1, 64) + " requests per second exceeded; retry after " + strconv.FormatInt(secs, 10) + "s",
		},
	}
}

// bucket returns a full token bucket for one account.
func (l *limiter) bucket() *rate.Limiter { return rate.NewLimiter(l.limit, l.burst) }
