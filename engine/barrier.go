package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/report"
)

// clockWarn is the clock offset from the first target past which a run with a start barrier
// warns: shards on clocks that far apart do not start together.
const clockWarn = 100 * time.Millisecond

// start is how a run with a start barrier began: the wait for it, and how late the run was
// ready.
type start struct {
	barrier    time.Time
	waited     time.Duration
	joinedLate time.Duration
}

// awaitStart sleeps until the start barrier (o.StartAt; none: returns at once), the run's
// epoch; stop ends the wait early. A run that is ready after the barrier joins late: its epoch
// is still the barrier, and the runners skip (StartFrom) the arrivals whose time has passed.
func awaitStart(stop context.Context, o Options, group loadgen.Group) start {
	if o.StartAt.IsZero() {
		return start{}
	}
	group.Counts() // walks laned plans now, not after the barrier
	now := time.Now()
	s := start{barrier: o.StartAt}
	if late := now.Sub(o.StartAt); late > 0 {
		s.joinedLate = late
		for _, r := range group {
			r.StartFrom = late
		}
		o.emit(Event{Kind: EventJoinedLate, Message: fmt.Sprintf("set up %s after the start barrier %s: joining late, the arrivals intended before are not started",
			late.Round(time.Millisecond), o.StartAt.UTC().Format(time.RFC3339Nano))})
		return s
	}
	o.emit(Event{Kind: EventWaiting, Message: fmt.Sprintf("set up; waiting %s for the start barrier %s", o.StartAt.Sub(now).Round(time.Millisecond), o.StartAt.UTC().Format(time.RFC3339Nano))})
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	timer := time.NewTimer(time.Until(o.StartAt))
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			// The wait ends at the barrier, where the plan starts; a late wake-up of the timer
			// is the generator's lag, which the arrivals' lag measures.
			s.waited = o.StartAt.Sub(now)
			return s
		case <-stop.Done():
			s.waited = time.Since(now)
			return s
		case <-tick.C:
			o.emit(Event{Kind: EventCountdown, Message: fmt.Sprintf("starting in %s", time.Until(o.StartAt).Round(time.Second))})
		}
	}
}

// measureClock bounds the offset of the target's clock at url from the local clock by its
// HTTP Date header: the server read its clock between the request's send and the answer's
// arrival, and Date truncates it to the second, so the offset lies in
// [Date − arrival, Date + 1 s − send]. Any answer will do (a 404 has a Date too).
func measureClock(ctx context.Context, name, url string, t lp.Target) (*report.ClockOffset, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: lp.TLSConfig(t)}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return nil, err
	}
	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	arrived := time.Now()
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return nil, fmt.Errorf("no usable Date header in the answer of %s: %w", url, err)
	}
	return &report.ClockOffset{Min: date.Sub(arrived), Max: date.Add(time.Second).Sub(sent), Target: name}, nil
}

// checkClock measures the clock offset from the first target for a run with a start barrier,
// and reports EventClockOff when it is proven past clockWarn.
func checkClock(stop context.Context, o Options, targets []*targetRun) *report.ClockOffset {
	if o.StartAt.IsZero() || len(targets) == 0 {
		return nil
	}
	t := targets[0].client.Target()
	c, err := measureClock(stop, t.Name, t.CSDS, t)
	if err != nil {
		o.emit(Event{Kind: EventClockUnread, Target: t.Name, Err: err, Message: fmt.Sprintf("could not read the clock of target %s: %v", t.Name, err)})
		return nil
	}
	if c.Excludes(clockWarn) {
		o.emit(Event{Kind: EventClockOff, Target: t.Name, Message: fmt.Sprintf("WARNING: the local clock is off target %s's by between %s and %s (more than %s): shards on other machines will not start together; synchronise the clocks (NTP)",
			t.Name, c.Min.Round(time.Millisecond), c.Max.Round(time.Millisecond), clockWarn)})
	}
	return c
}
