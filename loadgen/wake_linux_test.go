package loadgen

import (
	"context"
	"testing"
	"time"
)

// TestWakerFallsBack checks that a kernel timer that fails (its fd closed under it) gives way to
// the runtime's timer for the rest of the run instead of ending it.
func TestWakerFallsBack(t *testing.T) {
	t.Parallel()
	w := newWaker(context.Background(), true)
	defer w.close()
	if w.kernel == nil {
		t.Skip("no kernel timer on this system")
	}
	_ = w.kernel.f.Close()
	if !w.sleep(context.Background(), time.Millisecond) {
		t.Fatal("sleep = false after the kernel timer failed, want the runtime timer to take over")
	}
	if w.kernel != nil {
		t.Error("the failed kernel timer is still in use")
	}
}
