package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
)

// PathFor returns the history file of a run: the flag's value when the flag was given (set; ""
// turns the history off), else $LPBENCH_HISTORY (read with getenv), else the profile's
// outputs.history; "" for none.
func PathFor(flagValue string, set bool, getenv func(string) string, profileValue string) string {
	if set {
		return flagValue
	}
	return cmp.Or(getenv("LPBENCH_HISTORY"), profileValue)
}

// Validate refuses check options that could never judge, naming the option as a flag.
func (o CheckOptions) Validate() error {
	switch {
	case o.MinDuration <= 0:
		return fmt.Errorf("--min-duration %v: want a positive duration, e.g. 5ms", o.MinDuration)
	case o.Baseline < MinBaseline:
		return fmt.Errorf("-baseline %d: at least %d (a shorter baseline can never judge)", o.Baseline, MinBaseline)
	}
	return nil
}

// ChoiceError says that the runs asked for are not in the history: the caller's input is at
// fault, not the file.
type ChoiceError struct{ msg string }

func (e *ChoiceError) Error() string { return e.msg }

func choiceError(format string, a ...any) error { return &ChoiceError{fmt.Sprintf(format, a...)} }

// CheckRun judges a run of the history (JudgeRun) against the runs before it that are comparable
// with it. The run is the newest that f matches, or the one ref names (a number or a run id;
// Find). f's labels choose the run judged, not its baseline: that is the comparable runs among
// every run of f's profile (labels commit=… with IgnoreLabels commit judges one commit against
// the others). With f.Target, the newest run is judged even if that target is silent in it (its
// metrics missing). A *ChoiceError says no run is chosen.
func (db *DB) CheckRun(ctx context.Context, f Filter, ref string, o CheckOptions) (RunJudgment, error) {
	all, err := db.Runs(ctx, Filter{Profile: f.Profile, Target: f.Target, KeepEmpty: true})
	if err != nil {
		return RunJudgment{}, err
	}
	if f.Target != "" && !slices.ContainsFunc(all, func(x *Run) bool { return len(x.Metrics) > 0 }) {
		return RunJudgment{}, choiceError("no run has metrics of target %q", f.Target)
	}
	chosen, err := db.Runs(ctx, Filter{Profile: f.Profile, Target: f.Target, Labels: f.Labels, KeepEmpty: true})
	if err != nil {
		return RunJudgment{}, err
	}
	if len(chosen) == 0 {
		if s := f.String(); s != "" {
			return RunJudgment{}, choiceError("no run matches the filter %s", s)
		}
		return RunJudgment{}, choiceError("no run in %s", db.Path())
	}
	r, err := Find(chosen, ref)
	if err != nil {
		return RunJudgment{}, &ChoiceError{err.Error()}
	}
	i := slices.IndexFunc(all, func(x *Run) bool { return x.Seq == r.Seq })
	return JudgeRun(all, all[i], o), nil
}

// IsChoice reports whether err is a *ChoiceError.
func IsChoice(err error) bool {
	var c *ChoiceError
	return errors.As(err, &c)
}
