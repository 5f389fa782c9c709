package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/lpbench/lpbench/exitcode"
)

// verdict is a command's exit: the error it returns to main, and the exit code with what it
// means in one line, as the job summary tells it. The code comes from the result's own Exit
// (report.Result.Exit, report.Capacity.Exit), the one place that decides it.
type verdict struct {
	err     error
	code    exitcode.Code
	meaning string
}

// newVerdict returns the verdict of exit code and its meaning. An exit 1 prints its meaning,
// unless said: the failure was printed already.
func newVerdict(code exitcode.Code, meaning string, said bool) verdict {
	v := verdict{code: code, meaning: meaning}
	switch {
	case code == exitcode.OK:
	case code == exitcode.RunFailed && !said:
		v.err = &exitError{code: code, err: errors.New(meaning)}
	default:
		v.err = exitCode(code)
	}
	return v
}

// withHistory is the verdict once the run was appended to the history: recorded is what the
// append returned, the verdict's own error when the run is in the history. A failed append
// turns a clean run (exit 0) into exit 1, with the history's error. It never hides what the run
// decided itself: a 1, 3, 4 or 130 stays, the more meaningful code (the measurement is not
// valid, a threshold failed...), and the failed append is a warning on stderr and in the
// meaning.
func (v verdict) withHistory(recorded error, stderr io.Writer) verdict {
	if errors.Is(recorded, v.err) {
		return v
	}
	if v.code == exitcode.OK {
		return verdict{err: recorded, code: exitcode.RunFailed,
			meaning: fmt.Sprintf("%v (the run itself: exit %d, %s)", recorded, v.code, v.meaning)}
	}
	fmt.Fprintf(stderr, "lpbench: warning: %v; the exit code stays %d (%s)\n", recorded, v.code, v.meaning)
	v.meaning = fmt.Sprintf("%s; warning: %v", v.meaning, recorded)
	return v
}
