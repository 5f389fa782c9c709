package exitcode

import (
	"errors"
	"fmt"
)

// Error is a failure with the exit code it ends a command with; Err nil ends it quietly (the
// command has said what there was to say).
type Error struct {
	Code Code
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Usagef is a bad command line or profile (exit 2), told by format.
func Usagef(format string, a ...any) error { return &Error{Code: Usage, Err: fmt.Errorf(format, a...)} }

// AsUsage is err as a usage error (exit 2); nil stays nil.
func AsUsage(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: Usage, Err: err}
}

// Quiet ends a command with code, saying nothing more.
func Quiet(code Code) error { return &Error{Code: code} }

// Of returns the exit code of a command's error and the error to tell (nil: nothing): OK for
// nil, an *Error's own code, RunFailed for any other error.
func Of(err error) (Code, error) {
	if err == nil {
		return OK, nil
	}
	var e *Error
	if !errors.As(err, &e) {
		return RunFailed, err
	}
	return e.Code, e.Err
}

// Exit is the error a command ends with for v (nil for exit 0). An exit 1 tells its meaning
// unless its failure was said already.
func (v Decision) Exit() error {
	switch {
	case v.Code == OK:
		return nil
	case v.Err != nil:
		return &Error{Code: v.Code, Err: v.Err}
	case v.Code == RunFailed && !v.Said:
		return &Error{Code: v.Code, Err: errors.New(v.Meaning)}
	}
	return Quiet(v.Code)
}
