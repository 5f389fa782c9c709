package validity

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) this process has used so far, from
// getrusage(RUSAGE_SELF); 0 when the system does not tell.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// usableCores returns how many cores the process may use: GOMAXPROCS, or fewer when a cgroup
// CPU quota (v2 cpu.max, else v1 cfs_quota_us/cfs_period_us) allows less.
func usableCores() float64 {
	cores := float64(runtime.GOMAXPROCS(0))
	if q, ok := cgroupQuota(os.ReadFile); ok {
		cores = min(cores, q)
	}
	return cores
}

// cgroupQuota reads the cgroup CPU quota in cores, with read reading a file; ok is false when
// there is none (no cgroup files, or "max").
func cgroupQuota(read func(string) ([]byte, error)) (float64, bool) {
	if b, err := read("/sys/fs/cgroup/cpu.max"); err == nil {
		return parseCPUMax(string(b))
	}
	q, err1 := read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
	p, err2 := read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return quotaOf(strings.TrimSpace(string(q)), strings.TrimSpace(string(p)))
}

// parseCPUMax reads cgroup v2's cpu.max: "QUOTA PERIOD" in microseconds, QUOTA "max" for none.
func parseCPUMax(s string) (float64, bool) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, false
	}
	return quotaOf(f[0], f[1])
}

// quotaOf returns quota/period in cores; a quota of "max" or below 0 (v1's -1) is no limit.
func quotaOf(quota, period string) (float64, bool) {
	if quota == "max" {
		return 0, false
	}
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, false
	}
	return q / p, true
}

// cpuWindow is the span over which the busiest CPU use is judged: long enough that a GC cycle
// or a burst of set-up is not saturation, short enough that a saturated spell is not averaged
// away by the quiet drain after it.
const cpuWindow = 5 * time.Second

// CPUMeter measures the process's CPU use over a span of wall time, and samples it every second
// so that the busiest cpuWindow can be told.
type CPUMeter struct {
	cpu   time.Duration
	start time.Time
	done  chan struct{}
	out   chan []time.Duration // the per-second CPU samples, once stopped
}

// StartCPU starts measuring; stop must follow.
func StartCPU() *CPUMeter {
	m := &CPUMeter{cpu: processCPU(), start: time.Now(), done: make(chan struct{}), out: make(chan []time.Duration, 1)}
	go m.sample()
	return m
}

// sample records the CPU time used in each second until done closes.
func (m *CPUMeter) sample() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var per []time.Duration
	last := m.cpu
	for {
		select {
		case <-m.done:
			m.out <- per
			return
		case <-t.C:
			now := processCPU()
			per = append(per, now-last)
			last = now
		}
	}
}

// CPUUse is what a CPUMeter measured: the CPU time used over the wall time, the cores the
// process could use, and the CPU time of the busiest cpuWindow (Busiest over BusiestWall).
type CPUUse struct {
	CPU, Wall            time.Duration
	Cores                float64
	Busiest, BusiestWall time.Duration
}

// Stop ends the meter and returns the CPU use since StartCPU.
func (m *CPUMeter) Stop() CPUUse {
	u := CPUUse{CPU: processCPU() - m.cpu, Wall: time.Since(m.start), Cores: usableCores()}
	close(m.done)
	u.Busiest, u.BusiestWall = busiest(<-m.out, int(cpuWindow/time.Second))
	return u
}

// busiest returns the most CPU time used in n consecutive seconds of per, and the span it is
// over (shorter when per is).
func busiest(per []time.Duration, n int) (cpu, wall time.Duration) {
	n = min(n, len(per))
	var sum time.Duration
	for i, d := range per {
		sum += d
		if i >= n {
			sum -= per[i-n]
		}
		if i >= n-1 {
			cpu = max(cpu, sum)
		}
	}
	return cpu, time.Duration(n) * time.Second
}

// Share returns the share of the usable cores the process kept busy over the whole span (0 when
// nothing was measured).
func (u CPUUse) Share() float64 { return share(u.CPU, u.Wall, u.Cores) }

// BusiestShare returns the share of the usable cores the process kept busy in its busiest
// cpuWindow (0 when the run was shorter than a second).
func (u CPUUse) BusiestShare() float64 { return share(u.Busiest, u.BusiestWall, u.Cores) }

func share(cpu, wall time.Duration, cores float64) float64 {
	if wall <= 0 || cores <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds() / cores
}
