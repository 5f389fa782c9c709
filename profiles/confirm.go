package profiles

import "fmt"

// ConfirmLive refuses a run of a profile that drives LivePerson itself unless live (--live)
// confirms it and, when its journeys leave their conversations open (journey.close false),
// leaveOpen (--leave-open) accepts that; nil for a profile without a live target. The error
// says what to add: nothing was sent.
func (p *Profile) ConfirmLive(live, leaveOpen bool) error {
	switch {
	case !p.HasLive():
		return nil
	case !live:
		return notConfirmed("profile %s drives LivePerson itself (targets: %s); add --live to confirm (--plan shows what it would do). Nothing was sent.", p.Name, p.LiveNames())
	case !p.Journey.Close && !leaveOpen:
		return notConfirmed("profile %s: journey.close is false on LivePerson itself (targets: %s): every conversation would stay open in the account; set journey.close: true, or add --leave-open to confirm. Nothing was sent.", p.Name, p.LiveNames())
	}
	return nil
}

// SimAt names, in the plan, the standalone simulator at url that the profile's simulator
// targets are moved to (--sim-url); "" leaves the plan as it is.
func (rp *RunPlan) SimAt(url string) {
	if url == "" {
		return
	}
	for i := range rp.Targets {
		if rp.Targets[i].Kind == KindSim {
			rp.Targets[i].Endpoint = "the standalone simulator at " + url
		}
	}
}

// NotConfirmedError is a live run that ConfirmLive refused: its message says what to add.
type NotConfirmedError struct{ msg string }

func (e *NotConfirmedError) Error() string { return e.msg }

func notConfirmed(format string, a ...any) error {
	return &NotConfirmedError{fmt.Sprintf(format, a...)}
}
