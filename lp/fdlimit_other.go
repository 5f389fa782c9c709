//go:build !unix

package lp

// openFileLimit returns 0: the limit on open descriptors is not known on this system.
func openFileLimit() uint64 { return 0 }
