package main

import (
	"fmt"
	"io"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/profiles"
)

// cmdValidate checks every profile named and prints every problem found.
func cmdValidate(args []string, stdout, stderr io.Writer) error {
	files, err := parseArgs(newFlags("validate", "validate FILE...", stderr), args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError("name at least one profile file")
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
