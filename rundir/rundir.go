// Package rundir owns the output directory of a run or a capacity search while it is written:
// the directory made, refused when a journal in it (or in a step's) records conversations an
// earlier run may have left open (cleanup.FindLeftOpen), and the files a run writes as it goes
// — its interval log (run.hlog) and its journal (journal.jsonl) — opened and closed. The files
// a finished run writes there are render's (render.WriteRunOutputs); what goes into the live
// files is the engine's. It prints nothing and knows no exit code: a directory that cannot be
// used is a *UsageError, mended on the command line or in the profile.
package rundir

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lpbench/lpbench/cleanup"
	"github.com/lpbench/lpbench/journal"
)

// UsageError is a directory that cannot be used, refused before anything was sent.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usage(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// HlogName is the interval log's file name in a run's directory.
const HlogName = "run.hlog"

// Files are the files a run writes as it goes.
type Files struct {
	Hlog    *os.File
	Journal *journal.Journal
}

// Open makes dir and opens a run's interval log and journal in it, refusing first, before any
// file is opened, a directory whose journal may record conversations still open (a killed
// run's, not cleaned up).
func Open(dir string) (*Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, usage("output directory: %v", err)
	}
	if err := RefuseLeftOpen(dir); err != nil {
		return nil, err
	}
	hlog, err := os.Create(filepath.Join(dir, HlogName))
	if err != nil {
		return nil, usage("output directory: %v", err)
	}
	jl, err := journal.Create(filepath.Join(dir, journal.FileName))
	if err != nil {
		hlog.Close()
		return nil, fmt.Errorf("output directory: %w", err)
	}
	return &Files{Hlog: hlog, Journal: jl}, nil
}

// Close closes the files; an error of the journal's says what it means for cleanup.
func (f *Files) Close() error {
	err := f.Journal.Close()
	if err != nil {
		err = fmt.Errorf("the journal %s is incomplete (%v): had the run been killed, lpbench cleanup could not have found every conversation", f.Journal.Path(), err)
	}
	if herr := f.Hlog.Close(); err == nil && herr != nil {
		err = herr
	}
	return err
}

// Prepare makes a capacity search's directory, refusing first one whose steps' journals record
// conversations an earlier search may have left open; each step opens its own (Step).
func Prepare(dir string) error {
	if err := RefuseLeftOpen(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usage("output directory: %v", err)
	}
	return nil
}

// Step is the directory of step k of a capacity search, relative to the search's: step-KK.
func Step(k int) string { return fmt.Sprintf("step-%02d", k) }

// RefuseLeftOpen refuses an output directory whose journal (or a step's) records conversations
// an earlier run may have left open.
func RefuseLeftOpen(dir string) error {
	if path, n := cleanup.FindLeftOpen(dir); n > 0 {
		return usage("%s records %d conversations an earlier run may have left open: run lpbench cleanup %s first, or give another --out", path, n, dir)
	}
	return nil
}
