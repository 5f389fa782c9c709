package loadgen

import (
	"context"
	"time"
)

// waker is how the dispatcher sleeps until an arrival's time: on one runtime timer it resets, or
// on the kernel's timer when precise wake-ups were asked for and the kernel has one.
type waker struct {
	timer  *time.Timer
	kernel *kernelTimer // nil: the runtime timer
}

// newWaker returns the dispatcher's waker; precise asks for the kernel's timer. Its sleeps end
// early when stop ends.
func newWaker(stop context.Context, precise bool) *waker {
	w := &waker{timer: time.NewTimer(time.Hour)}
	w.timer.Stop()
	if precise {
		w.kernel = newKernelTimer(stop)
	}
	return w
}

// sleep waits d (> 0); false when stop ended first. A kernel timer that fails is given up for the
// runtime's, for this sleep and the rest of the run.
func (w *waker) sleep(stop context.Context, d time.Duration) bool {
	if w.kernel != nil {
		if w.kernel.sleep(d) {
			return true
		}
		if stop.Err() != nil {
			return false
		}
		w.kernel.close()
		w.kernel = nil
	}
	w.timer.Reset(d)
	select {
	case <-w.timer.C:
		return true
	case <-stop.Done():
		return false
	}
}

// close releases the waker's timers.
func (w *waker) close() {
	w.timer.Stop()
	if w.kernel != nil {
		w.kernel.close()
	}
}
