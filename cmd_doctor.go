package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/lpbench/lpbench/doctor"
	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/profiles"
)

// doctorSkill is the skill a target's conversations must land on, for doctor's routing check:
// the target's routing.skill_id, unless it is "-1" (any skill) or the routing names none ("" leaves
// the check out).
func doctorSkill(t profiles.Target) string {
	if t.Routing == nil || t.Routing.SkillID == profiles.AnySkill {
		return ""
	}
	return t.Routing.SkillID
}

// cmdDoctor checks each target of a profile before a run: exit 0 when every check passed (WARN
// allowed), 1 when one failed, 2 on usage.
func cmdDoctor(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", "doctor [PROFILE|FILE] [--live] [--sim-url URL] [--sim-ca FILE]\n\n"+
		"Checks each target of the profile (default smoke) before a run: CSDS, AppJWT, ConsumerJWS, the clock,\n"+
		"then one conversation (opened and closed) whose notifications tell whether auto messages reach lpbench.\n", stderr)
	live := fs.Bool("live", false, "allow targets on LivePerson itself (required for them): one conversation per target is opened and closed")
	var simURL, simCA string
	registerSim(fs, &simURL, &simCA, "check the profile's simulator targets on this standalone simulator (lpbench sim) instead of an embedded one")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	name := "smoke"
	switch len(pos) {
	case 0:
	case 1:
		name = pos[0]
	default:
		return flagError(fs, "unexpected argument %q (one profile at a time)", pos[1])
	}
	if simCA != "" && simURL == "" {
		return flagError(fs, "--sim-ca goes with --sim-url")
	}
	p, err := profiles.Open(name)
	if err != nil {
		return &exitError{code: exitcode.Usage, err: err}
	}
	if p.HasLive() && !*live {
		return usageError("profile %s drives LivePerson itself (targets: %s); add --live to confirm (doctor opens and closes one conversation per target). Nothing was sent.", p.Name, p.LiveNames())
	}
	if err := p.CheckLive(os.Getenv); err != nil {
		return &exitError{code: exitcode.Usage, err: err}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := doctor.Options{Engine: engine.Options{SimURL: simURL, SimCA: simCA, Getenv: os.Getenv}, Skill: doctorSkill}
	ok, err := doctor.Run(ctx, p, o, stdout)
	var in *engine.InputError
	switch {
	case errors.As(err, &in):
		return &exitError{code: exitcode.Usage, err: err}
	case err != nil:
		return err
	case !ok:
		fmt.Fprintln(stdout, "\ndoctor: a check failed (FAIL above, with what to do)")
		return exitCode(exitcode.RunFailed)
	}
	fmt.Fprintln(stdout, "\ndoctor: every check passed")
	return nil
}
