package capacity

import (
	"github.com/lpbench/lpbench/profiles"
)

// Plan returns what a search of p with o may do, computed before anything is sent: the worst
// case (WorstCase), and each target's plan for one step at the highest rate it tries.
func Plan(p profiles.Profile, o Options) (profiles.RunPlan, error) {
	if err := o.defaults(p); err != nil {
		return profiles.RunPlan{}, err
	}
	steps, conv, d := WorstCase(p, o)
	peak := o.From
	for i := 1; i < steps; i++ {
		peak *= 2
	}
	if o.Max > 0 {
		peak = min(peak, o.Max)
	}
	step := p
	step.Load.Stages = []profiles.Stage{{Duration: o.Step, Rate: profiles.Rate{From: peak, To: peak}}}
	rp := step.Plan()
	sp := &profiles.SearchPlan{From: o.From, Max: o.Max, Peak: peak, Step: o.Step, CoolDown: o.CoolDown, Steps: steps,
		Conversations: conv, MaxConversations: o.MaxConversations, Duration: d}
	for _, t := range o.SLO {
		sp.SLO = append(sp.SLO, t.Expr)
	}
	rp.Search = sp
	return rp, nil
}
