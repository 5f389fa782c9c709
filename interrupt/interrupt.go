// Package interrupt owns the two-stage interrupt of a run: the first SIGINT or SIGTERM stops
// the arrivals (the stop context that engine.Run and capacity.Search take), and the journeys in
// flight get a grace period to finish before the work context ends and cancels them; a second
// signal cancels them at once (Contexts), and a third is the runtime's (it ends the process);
// Context is the one-stage interrupt of a server or a check. It prints nothing: the caller is
// told of the first signal.
package interrupt

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// Contexts returns stop, which ends at the first SIGINT or SIGTERM (onStop is called then), and
// work, which ends grace later or at a second signal. release stops listening for signals and
// ends both; calling it again does nothing.
func Contexts(grace time.Duration, onStop func()) (stop, work context.Context, release func()) {
	stop, stopArrivals := context.WithCancel(context.Background())
	work, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		onStop()
		stopArrivals()
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-sigs:
		case <-t.C:
		case <-done:
			return
		}
		cancel()
		// From now on a signal is the runtime's again: what is left (a CONVERSATION already
		// sent, the closes, the reports) is bounded, and one more Ctrl-C ends the process.
		signal.Stop(sigs)
	}()
	return stop, work, sync.OnceFunc(func() {
		signal.Stop(sigs)
		close(done)
		stopArrivals()
		cancel()
	})
}

// Context returns a context that ends at the first SIGINT or SIGTERM, for what one signal
// simply ends (a server, a check, a linger); stop stops listening.
func Context() (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
