package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lpbench/lpbench/cleanup"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/interrupt"
	"github.com/lpbench/lpbench/render"
)

// cmdCleanup closes what a killed run left open: the conversations its journals (journal.jsonl
// under DIR, a capacity search's steps included) do not record as closed. Exit 0 when nothing is
// left open, 1 otherwise, 2 on usage.
func cmdCleanup(args []string, stdout, stderr io.Writer) error {
	var o cleanup.Options
	fs := newFlags("cleanup", "cleanup DIR [--live] [--sim-url URL] [--sim-ca FILE]\n\n"+
		"DIR is the output directory of a run or a capacity search: every journal.jsonl under it is read, and\n"+
		"each conversation it does not record as closed is closed (a ConsumerJWS for the same consumer id, then close).\n", stderr)
	fs.BoolVar(&o.Live, "live", false, "allow closing conversations on LivePerson itself (required for live targets)")
	registerSim(fs, &o.SimURL, &o.SimCA, "the standalone simulator (lpbench sim) the run drove, when not the one its journal names")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return flagError(fs, "no directory: give the output directory of a run or a capacity search, lpbench cleanup DIR")
	case len(pos) > 1:
		return flagError(fs, "unexpected argument %q (one directory at a time)", pos[1])
	case o.SimCA != "" && o.SimURL == "":
		return flagError(fs, "--sim-ca goes with --sim-url")
	}
	o.Getenv = os.Getenv
	o.Events = func(e cleanup.Event) { _ = render.CleanupEvent(e)(stderr) }
	ctx, cancel := interrupt.Context()
	defer cancel()
	rep, err := cleanup.Run(ctx, pos[0], o)
	var ue *cleanup.UsageError
	if errors.As(err, &ue) {
		return usageErr(err)
	}
	if rep != nil {
		_ = render.CleanupSummary(rep)(stdout)
	}
	if err != nil {
		return err
	}
	if rep.Left() > 0 {
		return &exitcode.Error{Code: exitcode.RunFailed, Err: fmt.Errorf("%d conversations may still be open: run cleanup again, or close them in the account", rep.Left())}
	}
	return nil
}
