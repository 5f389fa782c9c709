package exitcode

import "fmt"

// Decision is a command's exit: its code and what it means in one line, as a job summary tells
// it. Err, when set, is the failure the command ends with (a history that could not take the
// run); Said says a failure was printed already (an exit 1 then tells nothing more).
type Decision struct {
	Code    Code
	Meaning string
	Err     error
	Said    bool
}

// WithHistory returns the decision once the run was appended to the history: failed is the
// append's error, nil when the run is in the history. A failed append turns a clean run (exit
// 0) into exit 1 with that error. It never hides what the run decided itself: a 1, 3, 4 or 130
// stays, the more meaningful code, and the failure is a warning, returned to be printed, and
// added to the meaning.
func (v Decision) WithHistory(failed error) (Decision, string) {
	switch {
	case failed == nil:
		return v, ""
	case v.Code == OK:
		return Decision{Code: RunFailed, Err: failed,
			Meaning: fmt.Sprintf("%v (the run itself: exit %d, %s)", failed, v.Code, v.Meaning)}, ""
	}
	warning := fmt.Sprintf("warning: %v; the exit code stays %d (%s)", failed, v.Code, v.Meaning)
	v.Meaning = fmt.Sprintf("%s; warning: %v", v.Meaning, failed)
	return v, warning
}
