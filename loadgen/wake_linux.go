package loadgen

import (
	"context"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// kernelTimer sleeps by reading a Linux timerfd through the runtime's poller: the kernel's
// high-resolution timer makes the fd readable at the time asked, to a few microseconds, and the
// reading goroutine holds no thread meanwhile.
type kernelTimer struct {
	f    *os.File
	rc   syscall.RawConn // for timerfd_settime: f.Fd() would make the fd blocking, and reads hold a thread
	stop func() bool     // undoes the context.AfterFunc that ends a sleep when stop ends
	buf  [8]byte
}

// newKernelTimer returns a kernel timer whose sleeps end when stop ends, or nil when the kernel
// gives none (out of file descriptors, say).
func newKernelTimer(stop context.Context) *kernelTimer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	t := &kernelTimer{f: os.NewFile(uintptr(fd), "timerfd")}
	if t.rc, err = t.f.SyscallConn(); err != nil {
		_ = t.f.Close()
		return nil
	}
	// A deadline in the past ends the read in progress, and every later one, at once.
	t.stop = context.AfterFunc(stop, func() { _ = t.f.SetReadDeadline(time.Unix(1, 0)) })
	return t
}

// sleep waits d (> 0) from now; false when stop ended or the timer failed. The fd's clock is the
// runtime's monotonic clock and the time is relative, so it never ends before d has passed.
func (t *kernelTimer) sleep(d time.Duration) bool {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	var err error
	if cerr := t.rc.Control(func(fd uintptr) { err = unix.TimerfdSettime(int(fd), 0, &spec, nil) }); cerr != nil || err != nil {
		return false
	}
	n, err := t.f.Read(t.buf[:]) // the count of expirations: 1; until then the poller waits
	return err == nil && n == len(t.buf)
}

// close releases the timer.
func (t *kernelTimer) close() {
	t.stop()
	_ = t.f.Close()
}
