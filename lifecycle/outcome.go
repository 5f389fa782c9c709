package lifecycle

import (
	"context"
	"fmt"
	"io"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
)

// Outcome is what a finished job (or a merge) tells the lifecycle.
type Outcome struct {
	Verdict exitcode.Decision
	// Result is the result file (result.json, capacity.json) the history keeps.
	Result string
	// Record returns the history's run, given the exit the command ends with.
	Record func(exitcode.Code) (*history.Run, error)
	// Markdown is the job summary, given the exit and its meaning.
	Markdown func(exitcode.Code, string) render.Reporter
}

// RunOutcome is the outcome of a finished run (or merge) whose result file is path; its verdict
// is exitcode.Run's.
func RunOutcome(res *report.Result, path string) *Outcome {
	code, meaning := exitcode.Run(res)
	return &Outcome{Verdict: exitcode.Decision{Code: code, Meaning: meaning, Said: res.End == report.EndFailed}, Result: path,
		Record: func(code exitcode.Code) (*history.Run, error) { return history.FromResult(res, int(code), path) },
		Markdown: func(code exitcode.Code, meaning string) render.Reporter {
			return render.MarkdownExit(res, code, meaning)
		}}
}

// Recorded appends the outcome to the history db, if any, and returns the verdict the command
// ends with: a failed append never hides the run's own 1, 3, 4 or 130 (exitcode.Decision).
func (out *Outcome) Recorded(db *history.DB, stderr io.Writer) exitcode.Decision {
	v := out.Verdict
	if db == nil {
		return v
	}
	r, err := out.Record(v.Code)
	if err == nil {
		err = appendHistory(db, r, out.Result, stderr)
	} else {
		err = fmt.Errorf("the run is not in the history: %w", err)
	}
	v, warning := v.WithHistory(err)
	if warning != "" {
		fmt.Fprintf(stderr, "lpbench: %s\n", warning)
	}
	return v
}

// OpenHistory opens (creating) the history file of a run before it starts, so that a file that
// is not a history stops the run before anything is sent (a usage error); nil for none.
func OpenHistory(path string) (*history.DB, error) {
	if path == "" {
		return nil, nil
	}
	db, err := history.Open(path, true)
	if err != nil {
		return nil, exitcode.Usagef("%v", err)
	}
	return db, nil
}

// appendHistory adds a finished run (or search) to the history with its result file, and
// closes the history; its error says the run is not in the history.
func appendHistory(db *history.DB, r *history.Run, resultPath string, stderr io.Writer) error {
	defer db.Close()
	if err := db.AppendFile(context.Background(), r, resultPath); err != nil {
		return fmt.Errorf("the run is not in the history: %w", err)
	}
	fmt.Fprintf(stderr, "lpbench: appended to history %s as run #%d\n", db.Path(), r.Seq)
	return nil
}

// AppendJobSummary appends what write renders to the job summary $GITHUB_STEP_SUMMARY names,
// if any (render.AppendJobSummary). A failure is a warning: the command's own files are written
// already, and a summary for the CI page is not worth losing its exit code for.
func AppendJobSummary(getenv func(string) string, stderr io.Writer, write render.Reporter) {
	if path, err := render.AppendJobSummary(getenv, write); err != nil {
		fmt.Fprintf(stderr, "lpbench: warning: the job summary was not written to $%s (%s): %v\n", render.StepSummaryEnv, path, err)
	}
}
