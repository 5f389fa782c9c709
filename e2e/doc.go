// Package e2e tests the lpbench command line as a user runs it: through the built binary, its
// exit codes, its output and the files it writes, beside standalone simulators, relays and a real
// Prometheus on 127.0.0.1. The binary is built once per test run (TestMain).
//
// It must not know package main's internals: what it needs of a command it gets from the
// binary's output, exit code and files, or from the exported packages (report, history, lpsim).
// The quick in-process tests of the commands (cli) stay in package main.
package e2e
