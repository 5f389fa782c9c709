package render

import (
	"bytes"
	"os"
)

// AppendStepSummary appends what write renders (markdown) to the job summary file at path (a
// GitHub Actions job's $GITHUB_STEP_SUMMARY, which GitHub shows on the run's page). The file is
// opened for appending, created if need be, never truncated: other steps' summaries, and
// earlier runs of the job, stay. The summary goes in one write, after a blank line, so that it
// starts a block of its own.
func AppendStepSummary(path string, write Reporter) error {
	var b bytes.Buffer
	b.WriteString("\n")
	if err := write(&b); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
