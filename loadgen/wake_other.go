//go:build !linux

package loadgen

import (
	"context"
	"time"
)

// kernelTimer is Linux's alone: elsewhere the runtime's timers are used.
type kernelTimer struct{}

// newKernelTimer returns nil: no kernel timer here.
func newKernelTimer(context.Context) *kernelTimer { return nil }

// sleep is never called: newKernelTimer gives none.
func (*kernelTimer) sleep(time.Duration) bool { return false }

// close does nothing.
func (*kernelTimer) close() {}
