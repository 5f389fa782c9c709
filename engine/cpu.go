package engine

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

// cpuMeter measures the process's CPU use over a span of wall time.
type cpuMeter struct {
	cpu   time.Duration
	start time.Time
}

func startCPU() cpuMeter { return cpuMeter{cpu: processCPU(), start: time.Now()} }

// cpuUse is what a cpuMeter measured: the CPU time used over the wall time, and the cores the
// process could use.
type cpuUse struct {
	CPU, Wall time.Duration
	Cores     float64
}

// stop returns the CPU use since start.
func (m cpuMeter) stop() cpuUse {
	return cpuUse{CPU: processCPU() - m.cpu, Wall: time.Since(m.start), Cores: usableCores()}
}

// Share returns the share of the usable cores the process kept busy (0 when nothing was
// measured).
func (u cpuUse) Share() float64 {
	if u.Wall <= 0 || u.Cores <= 0 {
		return 0
	}
	return u.CPU.Seconds() / u.Wall.Seconds() / u.Cores
}
