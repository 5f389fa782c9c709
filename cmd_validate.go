package main

import (
	"fmt"
	"io"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/profiles"
)

// cmdValidate checks every profile named and prints every problem found.
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
		if _, err := profiles.Open(f); err != nil {
			fmt.Fprintln(stderr, err)
			bad = exitCode(exitcode.Usage)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	return bad
}
