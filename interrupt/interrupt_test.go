package interrupt

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// wait fails the test unless ctx ends within a minute (a bound, not a timing assertion).
func wait(t *testing.T, what string, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
		t.Fatalf("%s did not end", what)
	}
}

// TestTwoSignals: the first signal ends stop (and tells onStop) but not work, which a grace of
// an hour would keep; the second ends work at once.
func TestTwoSignals(t *testing.T) {
	told := make(chan struct{})
	stop, work, release := Contexts(time.Hour, func() { close(told) })
	defer release()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	wait(t, "stop", stop)
	<-told
	if work.Err() != nil {
		t.Fatal("work ended at the first signal")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wait(t, "work", work)
}

// TestRelease: release ends both without a signal, and again does nothing.
func TestRelease(t *testing.T) {
	stop, work, release := Contexts(time.Hour, func() { t.Error("told of a signal never sent") })
	release()
	release()
	wait(t, "stop", stop)
	wait(t, "work", work)
}
