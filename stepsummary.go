package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/lpbench/lpbench/render"
)

// stepSummaryEnv names the file a GitHub Actions job step may append markdown to; GitHub shows
// it on the run's page.
const stepSummaryEnv = "GITHUB_STEP_SUMMARY"

// appendStepSummary appends what write renders (markdown) to the file that $GITHUB_STEP_SUMMARY
// names, when getenv says it is set. The file is opened for appending and never truncated:
// other steps' summaries, and earlier runs of this job, stay. The summary goes in one write,
// after a blank line, so that it starts a block of its own. A failure is a warning on stderr:
// the run's own files are written already, and a summary for the CI page is not worth losing
// its exit code for.
func appendStepSummary(getenv func(string) string, stderr io.Writer, write render.Reporter) {
	path := getenv(stepSummaryEnv)
	if path == "" {
		return
	}
	var b bytes.Buffer
	b.WriteString("\n")
	err := write(&b)
	if err == nil {
		err = appendFile(path, b.Bytes())
	}
	if err != nil {
		fmt.Fprintf(stderr, "lpbench: warning: the job summary was not written to $%s (%s): %v\n", stepSummaryEnv, path, err)
	}
}

// appendFile appends data to the file at path, creating it if needed.
func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
