//go:build unix

package lp

import "syscall"

// openFileLimit returns the process's limit on open file descriptors (RLIMIT_NOFILE, the soft
// limit, which Go raises to the hard one at start-up), or 0 when it cannot be read.
func openFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return l.Cur
}
