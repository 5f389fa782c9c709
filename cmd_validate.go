package main

import (
	"fmt"
	"io"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/profiles"
)

// cmdValidate checks every profile named and prints every problem found, and warns of every
// thresholded percentile its plan cannot support (exit 0: a warning is not an error).
func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", "validate FILE...", stderr)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return flagError(fs, "name at least one profile file")
	}
	var bad error
	for _, f := range files {
		p, err := profiles.Open(f)
		if err != nil {
			fmt.Fprintln(stderr, err)
			bad = exitCode(exitcode.Usage)
			continue
		}
		ws := p.SupportWarnings(0, 1)
		for _, w := range ws {
			fmt.Fprintf(stderr, "%s: warning: %s\n", f, w)
		}
		if len(ws) > 0 {
			fmt.Fprintf(stdout, "%s: ok, %d warning(s)\n", f, len(ws))
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	return bad
}
